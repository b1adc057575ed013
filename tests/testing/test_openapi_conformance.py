"""Every ``/api/v1`` route the simulator serves, checked against One Codex's OpenAPI file.

Each route is called for every record it serves (before and after the demo's analyses complete,
plain and with ``expand=all``), and every 200 body is validated against the route's response
schema in the OpenAPI file (``date-time`` formats included). The file has errors of its own: they
are listed in :data:`OPENAPI_ERRATA`, each with the recorded body that shows the file is wrong, and
the test checks both that the recorded body shows it and that the simulator still meets it (so an
entry cannot outlive its reason).

The OpenAPI file is read at test time from ``../shared/onecodex_fixtures/`` beside the repository
(where CI lays it); it is never copied into the project.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from starlette.routing import Route

from airflow_provider_onecodex.api.metadata_values import METADATA_RULES, FieldRule
from airflow_provider_onecodex.testing.app import create_app
from airflow_provider_onecodex.testing.jobs import add_job
from airflow_provider_onecodex.testing.registry import ANALYSIS_ROUTES, RESOURCES

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "onecodex_fixtures"
OPENAPI = FIXTURES / "openapi_v1_one-codex-openapi-original.json"
UPLOAD_ROUTES = (
    "/api/v1/samples/init_multipart_upload",
    "/api/v1/samples/cancel_upload",
    "/api/v1/samples/confirm_upload",
)
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def _recorded(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Erratum:
    """An error of the OpenAPI file: violations of ``route`` at ``where`` (``""``: the body) by
    ``validator`` are allowed, because the recorded body ``cites`` shows the API answers so."""

    route: str
    where: str
    validator: str
    why: str
    cites: str
    shows: Callable[[], bool]


OPENAPI_ERRATA = (
    Erratum(
        "GET /api/v1/account",
        "confirmed_at",
        "format",
        "the file types confirmed_at as an RFC 3339 date-time; the API sends it without a UTC offset",
        "account.json",
        lambda: _RFC3339.fullmatch(_recorded("account.json")["confirmed_at"]) is None,
    ),
    Erratum(
        "GET /api/v1/tags/{id}",
        "",
        "type",
        "the file types GET /tags/{id} as an array of tags; like every other /{id} route it answers"
        " one object, the shape of each item of the recorded tag listing (which the official"
        " client's Tags.get validates as one TagSchema)",
        "tags_list.json",
        lambda: all(isinstance(t, dict) and set(t) == {"$uri", "name"} for t in _recorded("tags_list.json")),
    ),
)


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    if not OPENAPI.is_file():
        pytest.fail(
            f"One Codex's OpenAPI file is missing: expected {OPENAPI.name} in a shared/onecodex_fixtures/"
            " folder beside the repository checkout (CI lays it there); the conformance test needs it"
        )
    return json.loads(OPENAPI.read_text(encoding="utf-8"))


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time")
    def is_date_time(value: object) -> bool:
        return not isinstance(value, str) or _RFC3339.fullmatch(value) is not None

    return checker


def served_routes() -> list[tuple[str, str]]:
    """``(method, path)`` of every ``/api/v1`` route the simulator app serves, paths as the
    OpenAPI file writes them (``{id}``)."""
    from airflow_provider_onecodex.testing.state import SimulatorState

    app = create_app(SimulatorState())
    out = []
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/v1/"):
            for method in sorted(route.methods or ()):
                out.append((method, route.path.replace("{record_id}", "{id}")))
    return out


#: action routes' documented refusals (testing/jobs.py): cancel of a built-in or finished run 403,
#: rerun of a running one 400, logs of a built-in analysis 404
ACTION_REFUSALS = {"cancel": 403, "rerun": 400, "logs": 404}


def _upload_bodies(sim: Any, path: str) -> list[dict[str, Any] | None]:
    """Bodies of the upload routes, with what each needs set up first (one per call: a sample
    awaiting its files, or a file in the simulator's S3)."""

    def post(route: str, body: dict[str, Any]) -> Any:
        response = requests.post(sim.base_url + route, json=body, auth=(sim.api_key, ""), timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    if path == "/api/v1/samples/init_multipart_upload":
        return [{"filename": "c_R1.fastq", "paired_end_filename": "c_R2.fastq"}]
    if path == "/api/v1/samples/cancel_upload":
        return [{"sample_id": post("/api/v1/samples/preupload", {})["sample_id"]}]
    # confirm_upload: the callback of an upload whose file is in S3
    init = post("/api/v1/samples/init_multipart_upload", {"filename": "c.fastq"})
    sim.state.s3.client().put_object(Bucket=init["s3_bucket"], Key=init["file_id"], Body=b"@r\nA\n+\nI\n")
    return [{"s3_path": f"s3://{init['s3_bucket']}/{init['file_id']}", "filename": "c.fastq"}]


def _bodies(method: str, path: str, sim: Any = None) -> list[dict[str, Any] | None]:
    if method == "POST" and path in UPLOAD_ROUTES:
        return _upload_bodies(sim, path)
    if method == "POST" and path == "/api/v1/jobs/{id}/run":
        return [{"sample": {"$ref": "/api/v1/samples/a1b2c3d4e5f60718"}, "job_args": {"tax_id": "1280"}}]
    if method == "PATCH" and path == "/api/v1/metadata/{id}":
        return [{"description": "checked"}, {"custom": None, "starred": None, "platform": "Other"}]
    if method == "PATCH" and path == "/api/v1/samples/{id}":
        return [{"visibility": "private"}, {"tags": [{"name": "conformance"}]}]
    return [None]


def _ids(sim: Any, path: str) -> list[str | None]:
    if "{id}" not in path:
        return [None]
    resource = RESOURCES[path.split("/")[3]]
    held = getattr(sim.state, resource.store)
    return [i for i, record in held.items() if resource.shows(record)]


@pytest.mark.slow
def test_every_served_route_answers_what_the_openapi_file_describes(
    onecodex_simulator, onecodex_manual_clock, openapi
):
    sim, routes = onecodex_simulator, served_routes()
    # per analysis route, a running custom-job analysis of its type for the action routes (cancel,
    # rerun, logs): the only kind One Codex lets a user cancel and that has logs; the demo's own
    # records are left alone, so the other routes see them as before
    action_ids: dict[str, list[str]] = {}
    for route in ("analyses", *ANALYSIS_ROUTES):
        analysis_type = ANALYSIS_ROUTES.get(route, "workflow")
        job = add_job(sim.state, f"Custom {route}", analysis_type)
        action_ids[route] = [sim.state.add_analysis(analysis_type, "a1b2c3d4e5f60718", job=job)]
    missing = [f"{m} {p}" for m, p in routes if m.lower() not in openapi["paths"].get(p, {})]
    assert not missing, f"routes the OpenAPI file does not have: {missing}"
    checker = _format_checker()
    violations: Counter[tuple[str, str, str]] = Counter()
    messages: dict[tuple[str, str, str], str] = {}
    validated: Counter[str] = Counter()
    for moment in ("pending", "complete"):
        if moment == "complete":
            onecodex_manual_clock.advance(100)
        for method, path in routes:
            op = openapi["paths"][path][method.lower()]
            schema = (
                op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema")
            )
            validator = None
            if schema is not None:
                validator = jsonschema.Draft202012Validator(
                    {**schema, "components": openapi["components"]}, format_checker=checker
                )
            is_action = path.endswith(("/cancel", "/rerun", "/logs"))
            for record_id in action_ids[path.split("/")[3]] if is_action else _ids(sim, path):
                for body in _bodies(method, path, sim):
                    for params in ({"per_page": 1000}, {"per_page": 1000, "expand": "all"}):
                        url = sim.base_url + path.replace("{id}", record_id or "")
                        response = requests.request(
                            method, url, params=params, json=body, auth=(sim.api_key, ""), timeout=10
                        )
                        if response.status_code != 200:
                            # only results of analyses that did not succeed may be refused, and
                            # the actions their documented refusals
                            refusal = ACTION_REFUSALS.get(path.rsplit("/", 1)[-1])
                            assert (response.status_code == 404 and path.endswith(("results", "file_details", "readlevel"))) or response.status_code == refusal, (
                                method, url, response.status_code, response.text)  # fmt: skip
                            continue
                        route = f"{method} {path}"
                        validated[route if validator else f"{route} (no schema in the file)"] += 1
                        for error in validator.iter_errors(response.json()) if validator else ():
                            where = "/".join(str(p) for p in error.absolute_path)
                            key = (route, re.sub(r"^\d+/?", "", where), error.validator)
                            violations[key] += 1
                            messages[key] = error.message[:300]
    allowed = {(e.route, e.where, e.validator) for e in OPENAPI_ERRATA}
    unexpected = {k: messages[k] for k in violations if k not in allowed}
    print(
        f"validated {sum(v for k, v in validated.items() if 'no schema' not in k)} responses of "
        f"{len(routes)} routes; allowed OpenAPI errata hit {sum(violations.values())} times"
    )
    assert not unexpected, unexpected
    stale = [
        e.route
        for e in OPENAPI_ERRATA
        if not any(k[:3] == (e.route, e.where, e.validator) for k in violations)
    ]
    assert not stale, f"errata the simulator no longer needs: {stale}"
    never = [f"{m} {p}" for m, p in routes if f"{m} {p}" not in validated and f"{m} {p} (no schema in the file)" not in validated]
    assert not never, f"routes that never answered 200: {never}"


@pytest.mark.parametrize("erratum", OPENAPI_ERRATA, ids=lambda e: e.route)
def test_each_erratum_is_shown_by_its_recorded_body(erratum, openapi):
    assert (FIXTURES / erratum.cites).is_file()
    assert erratum.shows(), f"{erratum.cites} does not show: {erratum.why}"


def _rule_in_the_file(prop: dict[str, Any]) -> FieldRule:
    """A metadata PATCH property of the OpenAPI file as a :class:`FieldRule`: its non-null branch's
    type, ``maxLength`` (or the description's "Up to N characters"), bounds, format and enum."""
    (branch,) = [b for b in prop["anyOf"] if b.get("type") != "null"]
    limit = re.search(r"Up to (\d+) characters", prop.get("description", ""))
    return FieldRule(
        branch["type"],
        max_length=branch.get("maxLength", int(limit.group(1)) if limit else None),
        minimum=branch.get("minimum"),
        maximum=branch.get("maximum"),
        format=branch.get("format"),
        enum=tuple(branch["enum"]) if "enum" in branch else None,
    )


def test_metadata_rules_are_the_openapi_files(openapi):
    patch = openapi["paths"]["/api/v1/metadata/{id}"]["patch"]["requestBody"]["content"]["application/json"]
    properties = patch["schema"]["properties"]
    assert set(METADATA_RULES) == set(properties)
    for name, prop in properties.items():
        # the one definition, which the provider and the simulator both use, against the file
        assert METADATA_RULES[name] == _rule_in_the_file(prop), name
        assert {"type": "null"} in prop["anyOf"], f"{name}: null is not allowed"
    enums = {name: rule.enum for name, rule in METADATA_RULES.items() if rule.enum}
    assert set(enums) == {"platform", "library_type", "sample_type"}


#: fields the simulator serves beyond the recorded bodies, and why (the recordings are older or
#: leave optional fields out)
EXTRA_FIELDS = {
    "samples": {"error_msg"},  # OpenAPI samples.error_msg; set on failed uploads
    "jobs": {"draft", "job_args_schema"},  # required by the official client 1.2.0 / by the OpenAPI file
    # OpenAPI job_args of every analysis; the official client defaults it
    **{route: {"job_args"} for route in ("analyses", *ANALYSIS_ROUTES)},
}


@pytest.mark.parametrize(
    "route",
    ["samples", "metadata", "jobs", "documents", "tags", "users", "assets", "analyses", "alignments",
     "classifications", "panels", "functional_profiles", "mlsts", "workflows"],
)  # fmt: skip
def test_records_have_the_recorded_fields(route, onecodex_simulator, onecodex_manual_clock, openapi):
    onecodex_manual_clock.advance(100)
    recorded = _recorded(f"{route}_list.json")
    served = onecodex_simulator.state.list_json(route)
    recorded_fields = set().union(*(set(r) for r in recorded))
    served_fields = set().union(*(set(r) for r in served))
    assert recorded_fields <= served_fields, f"{route}: not served {sorted(recorded_fields - served_fields)}"
    assert served_fields - recorded_fields == EXTRA_FIELDS.get(route, set())


def test_account_has_the_recorded_fields(onecodex_simulator, openapi):
    assert set(onecodex_simulator.state.account_json()) == set(_recorded("account.json"))
