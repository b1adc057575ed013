"""Simulated job runs and analysis actions: ``POST /jobs/{id}/run``, ``cancel``, ``rerun``, ``logs``.

A job's scenario record may carry a ``run`` rule (all keys optional)::

    {"id": "...", "name": "Alignment Run", "analysis_type": "alignment", "public": true,
     "run": {"duration": 5, "success": true, "error_msg": null, "required_args": ["tax_id"],
             "defaults": {"min_mapq": 20},
             "by_sample": {"<sample id>": {"success": false, "error_msg": "coverage too low"}}}}

- ``duration``: seconds (simulated clock) from the run until the analysis completes (default 5);
- ``success``/``error_msg``: the outcome; ``by_sample`` overrides them (and ``duration``) per sample;
- ``required_args``: ``job_args`` keys without which the run is refused (400, like a bad argument);
- ``defaults``: arguments filled in when ``populate_default_arguments`` is true (the default).

Answers, following the action reference (its open questions decided as noted):

- run: ``{"$ref": "/api/v1/analyses/<new id>"}``; a malformed body is 400 with Flask-Potion's
  ``errors`` list (One Codex documents no 422); a bad argument 400 ``{"message"}``; unknown job or
  sample 404. An alignment takes its reference ``tax_id`` from ``job_args["tax_id"]``
  (simulator convention: the real argument names are undocumented).
- cancel: only runs of the account's own (non-public) jobs still in progress; 403 with Werkzeug's
  bare text otherwise; the analysis then fails with ``error_msg`` "Cancelled by user" one second
  later (cancelling is asynchronous).
- rerun: a finished run starts again under the same id with its job's rule (400 while running).
- logs: plain text of runs of own jobs (``tail`` = last N lines, >= 1); 404 "Logs not found" for
  built-in (public) jobs' analyses.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from airflow_provider_onecodex.testing.errors import NotFound
from airflow_provider_onecodex.testing.ids import is_id, ref_id, uri
from airflow_provider_onecodex.testing.records import Analysis, Job
from airflow_provider_onecodex.testing.registry import ANALYSIS_ROUTES
from airflow_provider_onecodex.testing.routing import v1_router
from airflow_provider_onecodex.testing.state import SimulatorState

DEFAULT_DURATION = 5.0
CANCEL_DELAY = 1.0
CANCELLED_MSG = "Cancelled by user"
FORBIDDEN_MESSAGE = (
    "You don't have the permission to access the requested resource. It is either read-protected "
    "or not readable by the server."
)
RUN_KEYS = frozenset({"sample", "job_args", "populate_default_arguments", "dependencies", "description", "force"})
RULE_KEYS = frozenset({"duration", "success", "error_msg", "required_args", "defaults", "by_sample"})


class RunRefused(Exception):
    """A run or action One Codex would refuse: ``status`` and the JSON body to answer."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"message": message, "status": status, **extra}


def _invalid(path: str, what: str) -> RunRefused:
    return RunRefused(400, "Validation failed", errors=[{"path": [path], "validationOf": {what: True}}])


def rule_of(job: Job) -> dict[str, Any]:
    """The job's run rule, checked (``ValueError`` naming the bad key)."""
    rule = dict(job.run or {})
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise ValueError(f"job {job.id}: unknown run keys {sorted(unknown)}")
    return rule


def add_job(state: SimulatorState, name: str, analysis_type: str, *, public: bool = False, **run: Any) -> str:
    """Add a job with a run rule (keys as the module doc) to a running simulator; returns its id."""
    with state._lock:
        job_id = state._new_id(state.jobs, None)
        job = Job(job_id, name, analysis_type, created_at=state.elapsed(), public=public, run=run or None)
        rule_of(job)
        state.jobs[job_id] = job
        state._index("jobs", job)
    return job_id


def _sample_of(value: object) -> str:
    if isinstance(value, dict) and set(value) == {"$ref"} and isinstance(value["$ref"], str):
        ident = ref_id(value, "samples")
        if ident is not None and value["$ref"] == uri("samples", ident):
            return ident
    elif isinstance(value, str) and is_id(value):  # the older schema's bare id
        return value
    raise _invalid("sample", "pattern")


def _check_body(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _invalid("", "type")
    unknown = sorted(set(body) - RUN_KEYS)
    if unknown:
        raise _invalid(unknown[0], "additionalProperties")
    for key in ("sample", "job_args"):
        if key not in body:
            raise _invalid(key, "required")
    if body["job_args"] is not None and not isinstance(body["job_args"], dict):
        raise _invalid("job_args", "type")
    if body.get("populate_default_arguments") not in (None, True, False):
        raise _invalid("populate_default_arguments", "type")
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 250):
        raise _invalid("description", "maxLength")
    dependencies = body.get("dependencies")
    if dependencies is not None:
        if not isinstance(dependencies, list):
            raise _invalid("dependencies", "type")
        for i, item in enumerate(dependencies):
            target = item.get("analysis") if isinstance(item, dict) else None
            parent = ref_id(target, "analyses") if isinstance(target, dict) else None
            if parent is None or target != {"$ref": uri("analyses", parent)}:
                raise _invalid(f"dependencies/{i}/analysis", "pattern")
            path = item.get("download_path")
            if path is not None and (not isinstance(path, str) or not path or path.startswith("/")):
                raise _invalid(f"dependencies/{i}/download_path", "pattern")
    return body


def run_job(state: SimulatorState, job_id: str, body: object) -> str:
    """Validate a run body and create the analysis; returns its id. Raises :class:`RunRefused`."""
    with state._lock:
        job = state.jobs.get(job_id)
        if job is None:
            raise RunRefused(404, "The requested URL was not found on the server.", item={"$type": "jobs", "$id": job_id})
        checked = _check_body(body)
        sample = _sample_of(checked["sample"])
        if sample not in state.samples:
            raise RunRefused(404, f"Sample {sample} not found", item={"$type": "samples", "$id": sample})
        rule = rule_of(job)
        args = dict(checked["job_args"] or {})
        missing = [k for k in rule.get("required_args", []) if k not in args]
        if missing:
            raise RunRefused(400, f"Missing required argument(s) for job {job.name!r}: {', '.join(missing)}")
        if checked.get("populate_default_arguments", True) is not False:
            args = {**rule.get("defaults", {}), **args}
        outcome = {**rule, **rule.get("by_sample", {}).get(sample, {})}
        tax_id = args.get("tax_id") if job.analysis_type == "alignment" else None
        return state.add_analysis(
            job.analysis_type,
            sample,
            job=job.id,
            tax_id=str(tax_id) if tax_id is not None else None,
            complete_after=float(outcome.get("duration", DEFAULT_DURATION)),
            success=bool(outcome.get("success", True)),
            error_msg=outcome.get("error_msg"),
            job_args=args,
        )


def _analysis(state: SimulatorState, route: str, analysis_id: str) -> Analysis:
    a = state.analyses.get(analysis_id) if is_id(analysis_id) else None
    wanted = ANALYSIS_ROUTES.get(route)
    if a is None or (wanted is not None and a.analysis_type != wanted):
        raise RunRefused(404, "The requested URL was not found on the server.", item={"$type": route, "$id": analysis_id})
    return a


def _is_running(state: SimulatorState, a: Analysis) -> bool:
    return a.complete_after is None or state.elapsed() < a.complete_after


def _own_job(state: SimulatorState, a: Analysis) -> Job | None:
    job = state.jobs.get(a.job or "")
    return job if job is not None and not job.public else None


def cancel(state: SimulatorState, route: str, analysis_id: str) -> dict[str, Any]:
    with state._lock:
        a = _analysis(state, route, analysis_id)
        if _own_job(state, a) is None or not _is_running(state, a):
            raise RunRefused(403, FORBIDDEN_MESSAGE)
        state.set_outcome(analysis_id, success=False, error_msg=CANCELLED_MSG, after=CANCEL_DELAY)
        return state.get_json(route, analysis_id)


def rerun(state: SimulatorState, route: str, analysis_id: str) -> dict[str, Any]:
    with state._lock:
        a = _analysis(state, route, analysis_id)
        if _is_running(state, a):
            raise RunRefused(400, f"Analysis {analysis_id} is still running")
        job = state.jobs.get(a.job or "")
        rule = rule_of(job) if job is not None else {}
        outcome = {**rule, **rule.get("by_sample", {}).get(a.sample, {})}
        state.set_outcome(
            analysis_id,
            success=bool(outcome.get("success", True)),
            error_msg=outcome.get("error_msg"),
            after=float(outcome.get("duration", DEFAULT_DURATION)),
        )
        return state.get_json(route, analysis_id)


def logs(state: SimulatorState, route: str, analysis_id: str, tail: str | None) -> str:
    lines_wanted: int | None = None
    if tail is not None:
        if not tail.isdigit() or int(tail) < 1:
            raise _invalid("tail", "minimum")
        lines_wanted = int(tail)
    with state._lock:
        a = _analysis(state, route, analysis_id)
        job = _own_job(state, a)
        if job is None:
            raise RunRefused(404, "Logs not found")
        now = state.elapsed()
        created = a.created_at if isinstance(a.created_at, (int, float)) else 0.0
        lines = [
            f"[{0.0:7.1f}s] job {job.name!r} ({job.id}) started on sample {a.sample}",
            f"[{0.0:7.1f}s] arguments: {json.dumps(a.job_args or {}, sort_keys=True)}",
        ]
        if now > created:
            lines.append(f"[{0.0:7.1f}s] processing reads")
        if not _is_running(state, a):
            end = (a.complete_after or 0.0) - created
            if a.success:
                lines.append(f"[{end:7.1f}s] finished: success")
            else:
                lines += [f"[{end:7.1f}s] ERROR: {a.error_msg}", f"[{end:7.1f}s] finished: failed"]
    if lines_wanted is not None:
        lines = lines[-lines_wanted:]
    return "\n".join(lines) + "\n"


def router(state: SimulatorState) -> APIRouter:
    """The job-run and analysis-action routes (authenticated ``/api/v1``)."""
    router = v1_router(state)

    def answer(produce: Any) -> Response:
        try:
            result = produce()
        except RunRefused as exc:
            return JSONResponse(exc.body, exc.status)
        except NotFound as exc:
            return JSONResponse({"message": f"{exc} not found", "status": 404}, 404)
        if isinstance(result, str):
            return PlainTextResponse(result)
        return JSONResponse(result)

    @router.post("/jobs/{record_id}/run")
    async def run(record_id: str, request: Request) -> Response:
        """``POST /api/v1/jobs/{id}/run`` -> ``{"$ref": "/api/v1/analyses/<id>"}``."""
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"message": "The request body is not valid JSON", "status": 400}, 400)
        return answer(lambda: {"$ref": uri("analyses", run_job(state, record_id, body))})

    for route in ("analyses", *ANALYSIS_ROUTES):

        def actions(route: str = route) -> None:
            async def do_cancel(record_id: str) -> Response:
                return answer(lambda: cancel(state, route, record_id))

            async def do_rerun(record_id: str) -> Response:
                return answer(lambda: rerun(state, route, record_id))

            async def get_logs(record_id: str, request: Request) -> Response:
                return answer(lambda: logs(state, route, record_id, request.query_params.get("tail")))

            router.add_api_route(f"/{route}/{{record_id}}/cancel", do_cancel, methods=["POST"])
            router.add_api_route(f"/{route}/{{record_id}}/rerun", do_rerun, methods=["POST"])
            router.add_api_route(f"/{route}/{{record_id}}/logs", get_logs, methods=["GET"])

        actions()
    return router
