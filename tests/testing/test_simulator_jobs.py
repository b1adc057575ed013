"""Simulated job runs over real HTTP: run, cancel, rerun, logs, bad payloads, faults after acting."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_onecodex.testing.jobs import CANCELLED_MSG, add_job

SAMPLE = "a1b2c3d4e5f60718"
ALIGNMENT_JOB = "1d0b0000000000a1"


@pytest.fixture
def api(onecodex_simulator, onecodex_manual_clock):
    session = requests.Session()
    session.auth = (onecodex_simulator.api_key, "")
    base = onecodex_simulator.base_url + "/api/v1"

    def call(method, path, **kwargs):
        return session.request(method, base + path, timeout=10, **kwargs)

    yield call
    session.close()


def run_body(**overrides):
    return {"sample": {"$ref": f"/api/v1/samples/{SAMPLE}"}, "job_args": {"tax_id": "1280"}, **overrides}


def test_run_creates_an_analysis_of_the_jobs_type(api, onecodex_simulator, onecodex_manual_clock):
    answer = api("POST", f"/jobs/{ALIGNMENT_JOB}/run", json=run_body())
    assert answer.status_code == 200
    ref = answer.json()["$ref"]
    assert ref.startswith("/api/v1/analyses/") and set(answer.json()) == {"$ref"}
    ident = ref.rsplit("/", 1)[1]
    record = api("GET", f"/alignments/{ident}").json()
    assert record["complete"] is False and record["tax_id"] == "1280"
    assert record["job"] == {"$ref": f"/api/v1/jobs/{ALIGNMENT_JOB}"}
    assert record["job_args"] == {"tax_id": "1280", "min_mapq": 20}  # defaults populated
    onecodex_manual_clock.advance(4)
    assert api("GET", f"/analyses/{ident}").json()["success"] is True
    no_defaults = api("POST", f"/jobs/{ALIGNMENT_JOB}/run", json=run_body(populate_default_arguments=False))
    other = no_defaults.json()["$ref"].rsplit("/", 1)[1]
    assert onecodex_simulator.state.analyses[other].job_args == {"tax_id": "1280"}


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        ([1], 400, "errors"),
        ({"job_args": {}}, 400, "errors"),
        ({"sample": SAMPLE}, 400, "errors"),
        ({"sample": {"$ref": "/api/v1/samples/nope"}, "job_args": {}}, 400, "errors"),
        ({**run_body(), "job_args": [1]}, 400, "errors"),
        ({**run_body(), "colour": "red"}, 400, "errors"),
        ({**run_body(), "dependencies": [{"analysis": "x"}]}, 400, "errors"),
        ({**run_body(), "description": "x" * 251}, 400, "errors"),
        ({**run_body(), "job_args": {}}, 400, "message"),
        ({**run_body(), "sample": {"$ref": "/api/v1/samples/0000000000000000"}}, 404, "item"),
    ],
)
def test_bad_run_payloads(api, onecodex_simulator, body, status, key):
    before = len(onecodex_simulator.state.analyses)
    answer = api("POST", f"/jobs/{ALIGNMENT_JOB}/run", json=body)
    assert answer.status_code == status and key in answer.json()
    assert len(onecodex_simulator.state.analyses) == before


def test_unknown_job_is_404(api):
    answer = api("POST", "/jobs/0000000000000000/run", json=run_body())
    assert answer.status_code == 404 and answer.json()["item"] == {"$type": "jobs", "$id": "0000000000000000"}


def test_outcome_by_sample_cancel_rerun_and_logs(api, onecodex_simulator, onecodex_manual_clock):
    job = add_job(
        onecodex_simulator.state,
        "Variant calling",
        "workflow",
        duration=10,
        by_sample={SAMPLE: {"success": False, "error_msg": "no reads mapped", "duration": 2}},
    )
    failing = api("POST", f"/jobs/{job}/run", json=run_body()).json()["$ref"].rsplit("/", 1)[1]
    other = onecodex_simulator.state.add_sample("x.fastq.gz")
    body = {"sample": {"$ref": f"/api/v1/samples/{other}"}, "job_args": {}}
    running = api("POST", f"/jobs/{job}/run", json=body).json()["$ref"].rsplit("/", 1)[1]
    onecodex_manual_clock.advance(2)
    failed = api("GET", f"/analyses/{failing}").json()
    assert (failed["complete"], failed["success"], failed["error_msg"]) == (True, False, "no reads mapped")
    assert api("GET", f"/analyses/{failing}/logs", params={"tail": 2}).text.splitlines() == [
        "[    2.0s] ERROR: no reads mapped",
        "[    2.0s] finished: failed",
    ]
    assert api("POST", f"/analyses/{failing}/cancel").status_code == 403  # finished
    cancelled = api("POST", f"/analyses/{running}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["complete"] is False  # asynchronous
    onecodex_manual_clock.advance(1)
    assert api("GET", f"/analyses/{running}").json()["error_msg"] == CANCELLED_MSG
    assert api("POST", f"/analyses/{running}/rerun").json()["complete"] is False
    assert api("GET", f"/analyses/{failing}/logs", params={"tail": 0}).status_code == 400
    # built-in (public) jobs: no cancel, no logs
    builtin = api("POST", f"/jobs/{ALIGNMENT_JOB}/run", json=run_body()).json()["$ref"].rsplit("/", 1)[1]
    assert api("POST", f"/analyses/{builtin}/cancel").status_code == 403
    assert api("GET", f"/alignments/{builtin}/logs").json()["message"] == "Logs not found"
    assert api("POST", "/analyses/0000000000000000/cancel").status_code == 404


@pytest.mark.parametrize("fault", [{"kind": "reset", "after": True}, {"status": 502, "after": True}])
def test_faults_after_the_server_acted(api, onecodex_simulator, fault):
    state = onecodex_simulator.state
    before = len(state.analyses)
    state.faults.script(f"/api/v1/jobs/{ALIGNMENT_JOB}/run", [fault])
    try:
        answer = api("POST", f"/jobs/{ALIGNMENT_JOB}/run", json=run_body())
    except requests.ConnectionError:
        assert fault["kind"] == "reset"
    else:
        assert answer.status_code == 502
    assert len(state.analyses) == before + 1  # created although the client never saw the answer
