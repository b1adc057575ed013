"""Scenario loading, the generated bulk scenario, state rendering without HTTP, pytest fixtures."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests

from airflow_provider_onecodex.api.ids import is_valid_id
from airflow_provider_onecodex.testing.pytest_plugin import SimulatorFactory
from airflow_provider_onecodex.testing.records import Job
from airflow_provider_onecodex.testing.scenario import (
    ScenarioError,
    demo_scenario_path,
    load_scenario,
)
from airflow_provider_onecodex.testing.server import SimulatorServer
from airflow_provider_onecodex.testing.state import ManualClock, SimulatorState
from bench.scenarios import make_bulk_scenario


def test_demo_scenario_is_consistent() -> None:
    demo = load_scenario("demo")
    assert load_scenario(None) == demo == load_scenario(demo_scenario_path())
    assert len(demo.api_key) == 32
    for records in (demo.users, demo.tags, demo.jobs, demo.samples, demo.metadata, demo.analyses):
        assert all(is_valid_id(r.id) for r in records)
    assert {m.sample for m in demo.metadata} == {s.id for s in demo.samples}
    main = [a for a in demo.analyses if a.sample == "a1b2c3d4e5f60718" and a.analysis_type == "alignment"]
    assert sorted((a.complete_after, a.success, a.tax_id) for a in main) == [
        (3, True, "1280"),
        (4, False, "1639"),
        (6, True, "562"),
    ]
    raw = json.loads(demo_scenario_path().read_text())
    for analysis in raw["analyses"]:
        assert analysis["id"] in json.dumps(raw["_comment"])  # every id is documented


def _minimal() -> dict[str, Any]:
    return {
        "api_key": "k" * 32,
        "users": [{"id": "1111111111111111", "email": "u@example.org"}],
        "samples": [{"id": "2222222222222222", "filename": "s.fastq"}],
        "analyses": [{"id": "3333333333333333", "analysis_type": "panel", "sample": "2222222222222222"}],
    }


def test_minimal_scenario_gets_defaults() -> None:
    scenario = load_scenario(_minimal())
    assert scenario.account.email == "u@example.org"
    assert scenario.samples[0].owner == "1111111111111111"
    assert scenario.metadata[0].sample == "2222222222222222"
    assert scenario.jobs[0].analysis_type == "panel" and scenario.analyses[0].job == scenario.jobs[0].id
    # the same default job as an analysis added at run time gets
    assert scenario.jobs[0].name == "Panel Job"
    state = SimulatorState(scenario, clock=ManualClock())
    added = state.analyses[state.add_analysis("mlst", "2222222222222222")]
    assert state.jobs[added.job or ""].name == "Mlst Job" and added.job == Job.default_for("mlst").id


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.update(api_key="short"), "api_key"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d["samples"][0].update(id="NOT-HEX"), "16-lowercase-hex"),
        (lambda d: d["samples"][0].update(owner="9999999999999999"), "owner"),
        (lambda d: d["samples"][0].update(tags=["9999999999999999"]), "tags"),
        (lambda d: d["analyses"][0].update(sample="9999999999999999"), "sample"),
        (lambda d: d["analyses"][0].update(complete_after=-1), "complete_after"),
        (lambda d: d["analyses"][0].update(flavour="x"), "flavour"),
        (lambda d: d["analyses"].append(dict(d["analyses"][0])), "duplicate"),
        (lambda d: d["samples"][0].update(project="9999999999999999"), "unknown project"),
        (
            lambda d: d.update(assets=[{"id": "4444444444444444", "filename": "a.fa", "uploader": "9" * 16}]),
            "asset",
        ),
        (lambda d: d.update(webhooks=[{"id": "5555555555555555"}]), "post_url"),
    ],
)
def test_bad_scenarios(mutate: Any, fragment: str) -> None:
    data = copy.deepcopy(_minimal())
    mutate(data)
    with pytest.raises(ScenarioError, match=fragment):
        load_scenario(data)


def test_bulk_scenario_is_deterministic() -> None:
    bulk = make_bulk_scenario(10_000, seed=42, failure_rate=0.2, never_rate=0.05)
    state = SimulatorState(bulk, clock=ManualClock())
    assert make_bulk_scenario(10_000, seed=42, failure_rate=0.2, never_rate=0.05) == bulk
    assert make_bulk_scenario(100, seed=1) != make_bulk_scenario(100, seed=2)
    analyses = bulk["analyses"]
    assert len({a["id"] for a in analyses}) == 10_000
    failed = sum(not a["success"] for a in analyses)
    never = sum(a["complete_after"] is None for a in analyses)
    assert 1700 < failed < 2300 and 300 < never < 700
    assert len(state.list_json("alignments")) == 10_000


def test_bulk_listing_over_http_pages_every_record_once() -> None:
    clock = ManualClock()
    with SimulatorServer(make_bulk_scenario(10_000, seed=5, max_complete_after=100), clock=clock) as sim:
        clock.advance(50)
        session = requests.Session()
        session.auth = (sim.api_key, "")
        seen: list[str] = []
        for page in range(1, 21):
            response = session.get(
                f"{sim.base_url}/api/v1/alignments",
                params={"page": str(page), "per_page": "500", "sort": json.dumps({"created_at": True})},
                timeout=10,
            )
            seen += [a["$uri"] for a in response.json()]
        assert len(seen) == len(set(seen)) == 10_000  # speed is measured in bench/, not here
        done = session.get(
            f"{sim.base_url}/api/v1/alignments",
            params={"per_page": "1", "where": json.dumps({"complete": True})},
            timeout=10,
        )
        assert 4000 < int(done.headers["X-Total-Count"]) < 6000


def test_plugin_fixtures(
    onecodex_simulator: SimulatorServer, onecodex_simulator_factory: SimulatorFactory
) -> None:
    assert onecodex_simulator.state.name == "demo" and onecodex_simulator.state.faults.rules() == []
    response = requests.get(
        f"{onecodex_simulator.base_url}/api/v1/samples", auth=(onecodex_simulator.api_key, ""), timeout=5
    )
    assert response.status_code == 200
    clock = ManualClock()
    other = onecodex_simulator_factory(scenario=_minimal(), clock=clock)
    url = f"{other.base_url}/api/v1/panels/3333333333333333"
    assert requests.get(url, auth=(other.api_key, ""), timeout=5).json()["complete"] is True
    assert other.base_url != onecodex_simulator.base_url


def test_server_wildcard_bind_without_public_url_names_this_machine() -> None:
    import socket

    with SimulatorServer(host="0.0.0.0") as sim:
        assert sim.base_url == f"http://{socket.gethostname()}:{sim.port}"
        assert sim.state.base_url == sim.base_url  # pre-signed links point there too
        assert requests.get(
            f"http://127.0.0.1:{sim.port}/api/v1/account", auth=(sim.api_key, ""), timeout=5
        ).ok
