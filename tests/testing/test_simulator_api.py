"""The simulator's /api/v1 surface over real loopback HTTP: auth, errors, lists, where/sort,
time-driven completion, metadata PATCH and the request log."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from airflow_provider_onecodex.testing.server import SimulatorServer
from airflow_provider_onecodex.testing.state import ManualClock

UNAUTHORIZED = {
    "message": "The server could not verify that you are authorized to access the URL requested.  You "
    "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how "
    "to supply the credentials required.",
    "status": 401,
}
MAIN_SAMPLE = "a1b2c3d4e5f60718"
ALN_OK_3S, ALN_OK_6S, ALN_FAIL_4S = "a1a1000000001280", "a1a1000000000562", "a1a1000000001639"
CLS_2S, PANEL_2S = "c1a5000000000001", "9a4e000000000001"
STOOL_SAMPLE, CLS_STOOL = "d4e5f60718293a4b", "c1a5000000000004"


# Every test: the plugin's session simulator, reset, on a clock that moves only when the test moves
# ``onecodex_manual_clock`` (read-only tests see every demo delay still pending).
pytestmark = pytest.mark.usefixtures("onecodex_manual_clock")


def get(sim: SimulatorServer, path: str, **params: Any) -> requests.Response:
    encoded = {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in params.items()}
    return requests.get(f"{sim.base_url}/api/v1/{path}", params=encoded, auth=(sim.api_key, ""), timeout=5)


def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["$uri"].rsplit("/", 1)[1] for item in response.json()]


# --- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["account", "alignments", f"samples/{MAIN_SAMPLE}", "metadata"])
def test_missing_or_wrong_key_is_401_with_werkzeug_body(sim: SimulatorServer, path: str) -> None:
    url = f"{sim.base_url}/api/v1/{path}"
    wrong = "f" * 32
    for kwargs in (
        {},
        {"headers": {"X-API-Key": wrong}},
        {"auth": (wrong, "")},
        {"auth": ("", sim.api_key)},  # key in the password field is not how One Codex reads it
        {"auth": (sim.api_key, "x")},
        {"headers": {"Authorization": f"Bearer {sim.api_key}"}},
    ):
        response = requests.get(url, timeout=5, **kwargs)
        assert response.status_code == 401, kwargs
        assert response.json() == UNAUTHORIZED
        assert response.headers["content-type"] == "application/json"


def test_basic_and_header_auth_both_work(sim: SimulatorServer) -> None:
    url = f"{sim.base_url}/api/v1/account"
    basic = requests.get(url, auth=(sim.api_key, ""), timeout=5)
    header = requests.get(url, headers={"X-API-Key": sim.api_key}, timeout=5)
    assert basic.status_code == header.status_code == 200
    assert basic.json() == header.json()
    account = basic.json()
    assert account["email"] == "alice.nguyen@example.org"
    assert account["user"] == {"$ref": "/api/v1/users/a11ce5e7b0b1c2d3"}
    assert set(account) == {"confirmed_at", "coupons", "created_at", "credits", "email", "user", "username"}


def test_patch_needs_auth_too(sim: SimulatorServer) -> None:
    response = requests.patch(
        f"{sim.base_url}/api/v1/metadata/3e7a000000000001", json={"name": "x"}, timeout=5
    )
    assert response.status_code == 401
    assert sim.state.metadata["3e7a000000000001"].name == "LM-2026-0412 isolate"


def test_api_key_override() -> None:
    key = "9" * 32
    with SimulatorServer(api_key=key, clock=ManualClock()) as sim:
        assert sim.api_key == key
        assert requests.get(f"{sim.base_url}/api/v1/account", auth=(key, ""), timeout=5).status_code == 200
        demo_key = "0123456789abcdef0123456789abcdef"
        assert (
            requests.get(f"{sim.base_url}/api/v1/account", auth=(demo_key, ""), timeout=5).status_code == 401
        )


def test_the_api_key_rotates_at_run_time_and_a_reset_brings_it_back(sim: SimulatorServer) -> None:
    old, new = sim.api_key, "e" * 32
    url, admin = f"{sim.base_url}/api/v1/account", f"{sim.base_url}/_sim/api_key"
    for bad in ({}, {"api_key": "short"}, {"api_key": new, "other": 1}):
        response = requests.post(admin, json=bad, timeout=5)
        assert response.status_code == 400, bad
        assert new not in response.text
    assert requests.get(url, auth=(old, ""), timeout=5).status_code == 200
    response = requests.post(admin, json={"api_key": new}, timeout=5)
    assert response.status_code == 200
    assert new not in response.text  # the answer does not echo the key
    assert requests.get(url, auth=(old, ""), timeout=5).status_code == 401
    assert requests.get(url, headers={"X-API-Key": new}, timeout=5).status_code == 200
    assert sim.api_key == new
    sim.state.reset()
    assert sim.api_key == old
    assert requests.get(url, auth=(old, ""), timeout=5).status_code == 200


# --- errors and shapes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "alignments/ffffffffffffffff",
        "alignments/NOTHEX0000000000",
        "alignments/a1a1",
        "samples/a1a1000000001280",
        "alignments/c1a5000000000001",
        "frobnicate",
        "alignments/a1a1000000001280/nothing",
    ],
)
def test_not_found_is_json(sim: SimulatorServer, path: str) -> None:
    response = get(sim, path)
    assert response.status_code == 404
    body = response.json()
    assert body["status"] == 404
    assert body["message"].startswith("The requested URL was not found")


def test_wrong_method_is_json_405(sim: SimulatorServer) -> None:
    response = requests.delete(f"{sim.base_url}/api/v1/alignments", auth=(sim.api_key, ""), timeout=5)
    assert response.status_code == 405
    assert response.json() == {"message": "The method is not allowed for the requested URL.", "status": 405}


def test_one_id_many_routes(sim: SimulatorServer, onecodex_manual_clock: ManualClock) -> None:
    onecodex_manual_clock.advance(10)
    generic = get(sim, f"analyses/{ALN_OK_3S}").json()
    typed = get(sim, f"alignments/{ALN_OK_3S}").json()
    assert generic["$uri"] == f"/api/v1/analyses/{ALN_OK_3S}"
    assert typed["$uri"] == f"/api/v1/alignments/{ALN_OK_3S}"
    assert generic["analysis_type"] == "alignment" and "analysis_type" not in typed
    assert typed["tax_id"] == "1280" and "tax_id" not in generic
    assert {k: v for k, v in generic.items() if k not in ("$uri", "analysis_type")} == {
        k: v for k, v in typed.items() if k not in ("$uri", "tax_id")
    }
    classification = get(sim, f"classifications/{CLS_2S}").json()
    assert "results_uri" in classification and "analysis_type" not in classification
    assert get(sim, f"panels/{PANEL_2S}").status_code == 200
    assert set(typed) == {
        "$uri",
        "complete",
        "created_at",
        "error_msg",
        "job",
        "job_args",
        "sample",
        "success",
        "cost",
        "dependencies",
        "draft",
        "updated_at",
        "tax_id",
    }
    assert typed["sample"] == {"$ref": f"/api/v1/samples/{MAIN_SAMPLE}"}


def test_typed_lists_hold_only_their_type(sim: SimulatorServer) -> None:
    assert len(ids(get(sim, "analyses"))) == 12
    assert set(ids(get(sim, "alignments"))) == {ALN_OK_3S, ALN_OK_6S, ALN_FAIL_4S, "a1a1000000000028"}
    assert ids(get(sim, "panels")) == [PANEL_2S]
    assert set(ids(get(sim, "classifications"))) == {
        CLS_2S,
        "c1a5000000000002",
        "c1a5000000000003",
        CLS_STOOL,
    }
    assert ids(get(sim, "functional_profiles")) == ["f0f0000000000001"]
    assert ids(get(sim, "mlsts")) == ["e1e1000000000001"]
    assert ids(get(sim, "workflows")) == ["d1d1000000000001"]


def test_other_collections(sim: SimulatorServer) -> None:
    sample = get(sim, f"samples/{MAIN_SAMPLE}").json()
    assert sample["metadata"] == {"$ref": "/api/v1/metadata/3e7a000000000001"}
    assert sample["primary_classification"] == {"$ref": f"/api/v1/classifications/{CLS_2S}"}
    assert sample["status"] == "available" and sample["project"] is None
    assert len(sample["tags"]) == 3
    meta = get(sim, "metadata/3e7a000000000001").json()
    assert meta["sample"] == {"$ref": f"/api/v1/samples/{MAIN_SAMPLE}"}
    assert meta["custom"]["ct_value"] == 21.4
    assert get(sim, "tags/7a90000000000001").json() == {
        "$uri": "/api/v1/tags/7a90000000000001",
        "name": "outbreak",
    }
    assert [j["analysis_type"] for j in get(sim, "jobs").json()] == [
        "alignment",
        "classification",
        "panel",
        "functional",
        "mlst",
        "workflow",
    ]
    assert len(get(sim, "users").json()) == 2
    assert get(sim, "documents/d0c0000000000001").json()["uploader"] == {
        "$ref": "/api/v1/users/a11ce5e7b0b1c2d3"
    }
    assert get(sim, "events").json()[0]["status"] == "success"


def test_sample_scopes(sim: SimulatorServer) -> None:
    assert ids(get(sim, "samples")) == [MAIN_SAMPLE, "b2c3d4e5f6071829", STOOL_SAMPLE]
    assert ids(get(sim, "samples/public")) == ["c3d4e5f60718293a"]
    assert ids(get(sim, "samples/organization")) == ["c3d4e5f60718293a"]
    assert get(sim, "samples/c3d4e5f60718293a").status_code == 200
    assert set(ids(get(sim, "alignments/public"))) == {"a1a1000000000028"}


# --- pagination ------------------------------------------------------------------------------


def test_pagination_headers_and_link(sim: SimulatorServer) -> None:
    first = get(sim, "analyses", per_page=3)
    assert first.headers["X-Total-Count"] == "12"
    assert first.headers["Link"] == (
        '</api/v1/analyses?page=1&per_page=3>; rel="self",'
        '</api/v1/analyses?page=2&per_page=3>; rel="next",'
        '</api/v1/analyses?page=4&per_page=3>; rel="last"'
    )
    middle = get(sim, "analyses", page=2, per_page=3, where={"$uri": {"$ne": "x"}}, sort={"created_at": True})
    assert middle.headers["Link"] == (  # Potion drops where/sort from links
        '</api/v1/analyses?page=2&per_page=3>; rel="self",'
        '</api/v1/analyses?page=1&per_page=3>; rel="first",'
        '</api/v1/analyses?page=1&per_page=3>; rel="prev",'
        '</api/v1/analyses?page=3&per_page=3>; rel="next",'
        '</api/v1/analyses?page=4&per_page=3>; rel="last"'
    )
    pages = [ids(get(sim, "analyses", page=p, per_page=3)) for p in (1, 2, 3, 4, 5)]
    assert [len(p) for p in pages] == [3, 3, 3, 3, 0]
    assert [i for page in pages for i in page] == ids(get(sim, "analyses"))
    assert 'rel="next"' not in get(sim, "analyses", page=4, per_page=3).headers["Link"]
    assert get(sim, "tags").headers["Link"] == (
        '</api/v1/tags?page=1&per_page=50>; rel="self",</api/v1/tags?page=1&per_page=50>; rel="last"'
    )


@pytest.mark.parametrize("params", [{"per_page": 0}, {"per_page": 1001}, {"page": 0}, {"page": "x"}])
def test_bad_paging_is_400(sim: SimulatorServer, params: dict[str, Any]) -> None:
    response = get(sim, "alignments", **params)
    assert response.status_code == 400
    assert response.json()["status"] == 400 and response.json()["message"]


def test_per_page_1000_is_allowed(sim: SimulatorServer) -> None:
    assert get(sim, "alignments", per_page=1000).status_code == 200


# --- where / sort --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("{not json", "Invalid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"color": "red"}', "color"),
        ('{"sample": "not-an-id"}', "sample"),
        ('{"sample": {"$ref": "/api/v1/jobs/1d0b0000000000a1"}}', "sample"),
        ('{"created_at": {"$gte": "2026-01-01T00:00:00"}}', "offset"),
        ('{"complete": "yes"}', "complete"),
        ('{"tax_id": {"$gt": "5"}}', "$gt"),
        ('{"tax_id": {"$eq": "1", "$ne": "2"}}', "one operator"),
        ('{"job_args": {}}', "job_args"),
    ],
)
def test_bad_where_is_400(sim: SimulatorServer, raw: str, fragment: str) -> None:
    response = requests.get(
        f"{sim.base_url}/api/v1/alignments", params={"where": raw}, auth=(sim.api_key, ""), timeout=5
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and fragment in body["message"]


def test_in_list_limit(sim: SimulatorServer) -> None:
    uris = [f"/api/v1/alignments/{i:016x}" for i in range(1001)]
    assert get(sim, "alignments", where={"$uri": {"$in": uris}}).status_code == 400
    assert get(sim, "alignments", where={"$uri": {"$in": uris[:1000]}}).status_code == 200


def test_where_uri_and_references(sim: SimulatorServer) -> None:
    wanted = [
        f"/api/v1/alignments/{ALN_OK_3S}",
        f"/api/v1/alignments/{ALN_FAIL_4S}",
        "/api/v1/alignments/0000000000000000",
    ]
    assert set(ids(get(sim, "alignments", where={"$uri": {"$in": wanted}}))) == {ALN_OK_3S, ALN_FAIL_4S}
    assert ids(get(sim, "alignments", where={"$uri": wanted[0]})) == [ALN_OK_3S]
    main = {ALN_OK_3S, ALN_OK_6S, ALN_FAIL_4S}
    by_ref = ids(get(sim, "alignments", where={"sample": {"$ref": f"/api/v1/samples/{MAIN_SAMPLE}"}}))
    assert set(by_ref) == main
    assert ids(get(sim, "alignments", where={"sample": MAIN_SAMPLE})) == by_ref
    assert ids(get(sim, "alignments", where={"sample": {"$eq": MAIN_SAMPLE}})) == by_ref
    both = get(
        sim,
        "alignments",
        where={"sample": {"$in": [MAIN_SAMPLE, {"$ref": "/api/v1/samples/c3d4e5f60718293a"}]}},
    )
    assert len(ids(both)) == 4
    assert ids(get(sim, "alignments", where={"sample": {"$ne": MAIN_SAMPLE}})) == ["a1a1000000000028"]
    assert ids(get(sim, "samples", where={"project": None})) == [
        MAIN_SAMPLE,
        "b2c3d4e5f6071829",
        STOOL_SAMPLE,
    ]
    assert ids(get(sim, "metadata", where={"external_sample_id": "LIMS-0412-07"})) == ["3e7a000000000001"]


def test_where_tax_id_strings_numbers_dates(sim: SimulatorServer) -> None:
    assert ids(get(sim, "alignments", where={"tax_id": "1639"})) == [ALN_FAIL_4S]
    assert set(ids(get(sim, "alignments", where={"tax_id": {"$in": ["1280", "562"]}}))) == {
        ALN_OK_3S,
        ALN_OK_6S,
    }
    assert ids(get(sim, "analyses", where={"analysis_type": "panel"})) == [PANEL_2S]
    assert get(sim, "analyses", where={"tax_id": "1639"}).status_code == 400  # not a field of /analyses
    assert ids(get(sim, "samples", where={"filename": {"$icontains": "ww-SITE"}})) == ["b2c3d4e5f6071829"]
    assert ids(get(sim, "samples", where={"filename": {"$endswith": "_R1_001.fastq.gz"}})) == [MAIN_SAMPLE]
    assert ids(get(sim, "samples", where={"size": {"$gt": 1_000_000_000}})) == ["b2c3d4e5f6071829"]
    assert ids(get(sim, "samples", where={"size": {"$between": [400_000_000, 500_000_000]}})) == [MAIN_SAMPLE]
    march = {"created_at": {"$gte": "2026-03-01T00:00:00+00:00", "$lt": "2026-04-01T00:00:00Z"}}
    assert get(sim, "samples", where=march).status_code == 400  # one operator per field
    before_april = {"date_collected": {"$lt": "2026-04-01T02:00:00+02:00"}}
    assert ids(get(sim, "metadata", where=before_april)) == ["3e7a000000000002"]
    april = {"date_collected": {"$between": ["2026-04-01T00:00:00Z", "2026-04-30T00:00:00+00:00"]}}
    assert ids(get(sim, "metadata", where=april)) == ["3e7a000000000001"]
    assert ids(get(sim, "metadata", where={"location_lat": {"$gte": 39.5}})) == ["3e7a000000000001"]
    assert ids(get(sim, "metadata", where={"starred": True})) == ["3e7a000000000002"]


def test_where_tags(sim: SimulatorServer) -> None:
    outbreak, isolate, env = ({"$ref": f"/api/v1/tags/7a9000000000000{i}"} for i in (1, 2, 4))
    assert ids(get(sim, "samples", where={"tags": {"$containsall": [outbreak, isolate]}})) == [MAIN_SAMPLE]
    assert ids(get(sim, "samples", where={"tags": {"$containsany": [outbreak, env]}})) == [
        MAIN_SAMPLE,
        "b2c3d4e5f6071829",
    ]
    assert ids(get(sim, "samples", where={"tags": {"$contains": "7a90000000000004"}})) == ["b2c3d4e5f6071829"]
    assert get(sim, "samples", where={"tags": outbreak}).status_code == 400


def test_where_complete_success_follow_the_clock(
    sim: SimulatorServer, onecodex_manual_clock: ManualClock
) -> None:
    main = {"sample": MAIN_SAMPLE}
    assert ids(get(sim, "alignments", where={**main, "complete": True})) == []
    onecodex_manual_clock.advance(4.5)
    assert ids(get(sim, "alignments", where={**main, "complete": True, "success": True})) == [ALN_OK_3S]
    assert ids(get(sim, "alignments", where={**main, "complete": True, "success": False})) == [ALN_FAIL_4S]
    assert ids(get(sim, "alignments", where={**main, "complete": {"$ne": True}})) == [ALN_OK_6S]
    assert ids(get(sim, "alignments", where={**main, "error_msg": None})) == [ALN_OK_6S]


def test_sort(sim: SimulatorServer) -> None:
    main = {"sample": MAIN_SAMPLE}
    newest_first = ids(get(sim, "alignments", where=main, sort={"created_at": True}))
    assert newest_first == [ALN_FAIL_4S, ALN_OK_6S, ALN_OK_3S]
    assert ids(get(sim, "alignments", where=main, sort={"created_at": False})) == newest_first[::-1]
    assert ids(get(sim, "alignments", sort={"tax_id": False})) == [
        ALN_OK_3S,
        ALN_FAIL_4S,
        "a1a1000000000028",
        ALN_OK_6S,
    ]
    by_type = get(sim, "analyses", where=main, sort={"analysis_type": True, "created_at": True}).json()
    assert [a["analysis_type"] for a in by_type] == ["panel", "classification"] + ["alignment"] * 3
    assert [a["$uri"][-16:] for a in by_type[2:]] == newest_first
    assert ids(get(sim, "samples", sort={"project": False, "size": True})) == [
        "b2c3d4e5f6071829",
        STOOL_SAMPLE,
        MAIN_SAMPLE,
    ]
    assert get(sim, "alignments", sort={"colour": True}).status_code == 400
    assert get(sim, "alignments", sort={"created_at": "desc"}).status_code == 400
    assert get(sim, "samples", sort={"tags": True}).status_code == 400


# --- time-driven state -----------------------------------------------------------------------------


def test_analyses_complete_on_schedule(sim: SimulatorServer, onecodex_manual_clock: ManualClock) -> None:
    def state(analysis_id: str) -> Any:
        return get(sim, f"alignments/{analysis_id}").json()

    pending = state(ALN_OK_3S)
    assert (pending["complete"], pending["success"], pending["error_msg"], pending["updated_at"]) == (
        False,
        False,
        None,
        None,
    )
    onecodex_manual_clock.advance(2.99)
    assert not state(ALN_OK_3S)["complete"]
    assert get(sim, f"classifications/{CLS_2S}").json()["complete"] is True
    onecodex_manual_clock.advance(0.02)
    done = state(ALN_OK_3S)
    assert (done["complete"], done["success"], done["error_msg"]) == (True, True, "")
    assert done["updated_at"] > done["created_at"]
    onecodex_manual_clock.advance(1)
    failed = state(ALN_FAIL_4S)
    assert (failed["complete"], failed["success"]) == (True, False)
    assert failed["error_msg"] == "Reference genome coverage too low to call an alignment."
    assert not state(ALN_OK_6S)["complete"]
    onecodex_manual_clock.advance(2)
    assert state(ALN_OK_6S)["success"] is True


def test_runtime_changes(sim: SimulatorServer, onecodex_manual_clock: ManualClock) -> None:
    new = sim.state.add_alignment(MAIN_SAMPLE, tax_id="1313", complete_after=5)
    assert get(sim, f"alignments/{new}").json()["complete"] is False
    assert new in ids(get(sim, "alignments", where={"tax_id": "1313"}))
    sim.state.set_outcome(new, success=False, error_msg="Out of cheese.")
    forced = get(sim, f"alignments/{new}").json()
    assert (forced["complete"], forced["success"], forced["error_msg"]) == (True, False, "Out of cheese.")
    sim.state.set_pending(new, complete_after=1)
    assert get(sim, f"analyses/{new}").json()["complete"] is False
    onecodex_manual_clock.advance(1)
    assert get(sim, f"analyses/{new}").json()["error_msg"] == "Out of cheese."
    never = sim.state.add_alignment(MAIN_SAMPLE)
    onecodex_manual_clock.advance(10_000)
    assert get(sim, f"alignments/{never}").json()["complete"] is False
    sample = sim.state.add_sample(
        "new_run_R1.fastq.gz", tags=["7a90000000000003"], metadata={"external_sample_id": "L-1"}
    )
    assert get(sim, f"samples/{sample}").json()["filename"] == "new_run_R1.fastq.gz"
    meta = get(sim, "metadata", where={"external_sample_id": "L-1"}).json()
    assert meta[0]["sample"] == {"$ref": f"/api/v1/samples/{sample}"}


# --- metadata PATCH -------------------------------------------------------------------------------


def patch(sim: SimulatorServer, record_id: str, body: Any) -> requests.Response:
    return requests.patch(
        f"{sim.base_url}/api/v1/metadata/{record_id}",
        json=body,
        headers={"X-API-Key": sim.api_key},
        timeout=5,
    )


def test_metadata_patch_changes_only_given_fields(sim: SimulatorServer) -> None:
    before = get(sim, "metadata/3e7a000000000001").json()
    assert "updated_at" not in before  # never changed: left out, as in the recorded bodies
    response = patch(
        sim, "3e7a000000000001", {"external_sample_id": "LIMS-NEW", "custom": {"k": 1}, "starred": True}
    )
    assert response.status_code == 200
    after = response.json()
    assert after == get(sim, "metadata/3e7a000000000001").json()
    assert (after["external_sample_id"], after["custom"], after["starred"]) == ("LIMS-NEW", {"k": 1}, True)
    assert after["updated_at"] is not None
    unchanged = {k for k in before if k not in ("external_sample_id", "custom", "starred", "updated_at")}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


@pytest.mark.parametrize(
    "body",
    [
        {"sample": {"$ref": f"/api/v1/samples/{MAIN_SAMPLE}"}},
        {"name": "ok", "$uri": "/api/v1/metadata/3e7a000000000001"},
        {"updated_at": "2026-01-01T00:00:00+00:00"},
        {"location_lat": 123},
        {"platform": "Illumina NextSeq 2000"},
        {"starred": "yes"},
        {"library_type": "Shotgun"},
        {"custom": {"nested": {"no": 1}}},
        {"external_sample_id": "x" * 61},
        ["name"],
    ],
)
def test_metadata_patch_rejections(sim: SimulatorServer, body: Any) -> None:
    before = get(sim, "metadata/3e7a000000000001").json()
    response = patch(sim, "3e7a000000000001", body)
    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert get(sim, "metadata/3e7a000000000001").json() == before


def test_metadata_patch_unknown_id(sim: SimulatorServer) -> None:
    assert patch(sim, "ffffffffffffffff", {"name": "x"}).status_code == 404
    assert patch(sim, "nothex", {"name": "x"}).status_code == 404


# --- request log --------------------------------------------------------------------------------


def test_request_log_counts(sim: SimulatorServer) -> None:
    sim.state.reset_counters()
    get(sim, "alignments", where={"sample": MAIN_SAMPLE})
    get(sim, f"alignments/{ALN_OK_3S}")
    get(sim, "samples")
    requests.get(f"{sim.base_url}/api/v1/account", timeout=5)
    requests.get(f"{sim.base_url}/_sim/stats", timeout=5)  # admin routes are not logged
    assert sim.state.count() == 4
    assert sim.state.count("/api/v1/alignments") == 2
    assert sim.state.count("/api/v1/alignments/") == 1
    assert sim.state.count(method="GET", status=401) == 1
    first = sim.state.requests[0]
    assert (first.method, first.path, first.status, first.auth) == ("GET", "/api/v1/alignments", 200, True)
    assert "where=" in first.query
    assert sim.state.requests[-1].auth is False
    assert all(sim.api_key not in repr(r) for r in sim.state.requests)
    sim.state.reset_counters()
    assert sim.state.count() == 0
