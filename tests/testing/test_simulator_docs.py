"""docs/simulator.md stays true: its complete scenario loads and behaves as the text says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import requests

from airflow_provider_onecodex.testing.pytest_plugin import SimulatorFactory
from airflow_provider_onecodex.testing.state import ManualClock

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"


def _example() -> dict:
    section = DOC.read_text().split("## A small complete scenario", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block, "docs/simulator.md lost its example scenario"
    return json.loads(block.group(1))


def test_the_documented_scenario_runs_as_described(onecodex_simulator_factory: SimulatorFactory) -> None:
    clock = ManualClock()
    sim = onecodex_simulator_factory(_example(), clock=clock)
    session = requests.Session()
    session.auth = (sim.api_key, "")

    def get(path: str) -> dict:
        response = session.get(f"{sim.base_url}/api/v1/{path}", timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def alignment(suffix: str) -> tuple[bool, bool, str | None]:
        record = get(f"alignments/a1a10000000000{suffix}")
        return record["complete"], record["success"], record["error_msg"]

    assert sim.state.name == "two-isolates"
    assert get("samples/5a0000000000000b")["status"] == "importing"
    assert alignment("0a") == (False, False, None)
    clock.advance(5)  # B is ready 5 s after the start
    assert get("samples/5a0000000000000b")["status"] == "available"
    clock.advance(5)  # 10 s: A's alignment succeeded
    assert alignment("0a") == (True, True, "")
    assert alignment("0b") == (False, False, None)
    assert get("alignments/a1a100000000000a/results")["average_coverage"] == 41.0
    clock.advance(10)  # 20 s: B's alignment failed
    assert alignment("0b") == (True, False, "Too few reads mapped to the reference.")
    assert get("metadata/3e7a00000000000a")["custom"] == {"site": "ward 3"}


def test_every_admin_route_is_documented(onecodex_simulator) -> None:
    from airflow_provider_onecodex.testing.app import create_app

    app = create_app(onecodex_simulator.state)
    routes = {
        (method, route.path.replace("{analysis_id}", "<id>"))
        for route in app.routes
        if getattr(route, "path", "").startswith("/_sim/")
        for method in getattr(route, "methods", ())
    }
    assert {("POST", "/_sim/samples"), ("GET", "/_sim/stats")} <= routes
    text = DOC.read_text().split("## Changing it at run time", 1)[1]
    assert sorted(f"{m} {p}" for m, p in routes if f"{m} {p}" not in text) == []
