"""Simulator news: records that appear later, samples added at run time, webhook events."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from airflow_provider_onecodex.testing.scenario import ScenarioError, demo_scenario_path, load_scenario
from airflow_provider_onecodex.testing.state import ManualClock

MAIN = "a1b2c3d4e5f60718"
LATE_SAMPLE = "e5f60718293a4b5c"
LATE_ALIGNMENT = "a1a1000000009999"


def scenario(**account: Any) -> dict[str, Any]:
    data = json.loads(demo_scenario_path().read_text())
    data["account"].update(account)
    data["samples"].append({"id": LATE_SAMPLE, "filename": "late.fastq", "appear_after": 10})
    data["analyses"].append(
        {"id": LATE_ALIGNMENT, "analysis_type": "alignment", "sample": MAIN, "tax_id": "1280",
         "appear_after": 5, "complete_after": 8}
    )  # fmt: skip
    return data


def get(server, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{server.base_url}{path}", params=params, auth=(server.api_key, ""), timeout=10)


def ids(response: requests.Response) -> list[str]:
    response.raise_for_status()
    return [r["$uri"].rsplit("/", 1)[1] for r in response.json()]


def test_records_appear_after_their_delay_created_when_they_appear(onecodex_simulator_factory):
    clock = ManualClock()
    server = onecodex_simulator_factory(scenario(), clock=clock)
    assert LATE_SAMPLE not in ids(get(server, "/api/v1/samples"))
    assert get(server, f"/api/v1/samples/{LATE_SAMPLE}").status_code == 404
    assert get(server, f"/api/v1/alignments/{LATE_ALIGNMENT}").status_code == 404
    clock.advance(6)
    alignment = get(server, f"/api/v1/alignments/{LATE_ALIGNMENT}").json()
    assert alignment["complete"] is False
    assert alignment["created_at"] == server.state.timestamp(5)
    clock.advance(4)
    where = json.dumps({"created_at": {"$gte": server.state.timestamp(10)}})
    assert ids(get(server, "/api/v1/samples", where=where)) == [LATE_SAMPLE]


def test_bad_appear_after_is_refused():
    data = scenario()
    data["samples"][-1]["appear_after"] = -1
    with pytest.raises(ScenarioError, match="appear_after"):
        load_scenario(data)


def test_admin_call_adds_a_sample_now(onecodex_simulator):
    response = requests.post(
        f"{onecodex_simulator.base_url}/_sim/samples",
        json={"filename": "new.fastq.gz", "ready_after": 30, "pending_status": "importing"},
        timeout=10,
    )
    assert response.status_code == 201
    sample = response.json()
    assert sample["status"] == "importing" and sample["filename"] == "new.fastq.gz"
    assert sample["$uri"] in [r["$uri"] for r in get(onecodex_simulator, "/api/v1/samples").json()]
    for bad in ({"size": 1}, {"filename": "x", "colour": "red"}, {"filename": "x", "tags": ["nope"]}):
        reply = requests.post(f"{onecodex_simulator.base_url}/_sim/samples", json=bad, timeout=10)
        assert reply.status_code == 400, bad


def test_events_follow_state_changes_for_accounts_with_webhooks(onecodex_simulator_factory):
    clock = ManualClock()
    server = onecodex_simulator_factory(scenario(webhooks=True), clock=clock)
    at_start = get(server, "/api/v1/events").json()
    kinds = {e["payload"]["event_type"] for e in at_start}
    assert kinds == {"sample.uploaded", "analysis.succeeded"}  # complete_after 0 / no ready_after
    clock.advance(11)
    later = get(server, "/api/v1/events").json()
    new = [e for e in later if e not in at_start]
    by_kind = {
        (e["payload"]["event_type"], e["payload"].get("analysis", e["payload"]["sample"])["$ref"])
        for e in new
    }
    assert ("sample.uploaded", f"/api/v1/samples/{LATE_SAMPLE}") in by_kind
    assert ("analysis.succeeded", f"/api/v1/analyses/{LATE_ALIGNMENT}") in by_kind
    assert ("analysis.failed", "/api/v1/analyses/a1a1000000001639") in by_kind
    assert all(e["status"] == "success" and e["payload"]["api_version"] == "v1" for e in later)
    one = new[0]["$uri"]
    assert get(server, one).json() == new[0]
    assert get(server, "/api/v1/events").json()[: len(later)] == later  # stable ids and order


def test_no_webhooks_no_derived_events(onecodex_simulator):
    assert set(ids(get(onecodex_simulator, "/api/v1/events"))) == set(onecodex_simulator.state.events)
