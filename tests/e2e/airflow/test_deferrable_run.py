"""Issue 3: the deferrable example DAG through a real scheduler, triggerer, dag-processor and api-server.

The One Codex simulator runs in the test process with a clock that stays at 0 (every demo alignment
pending) until all three mapped ``wait_for_alignment`` tasks are DEFERRED and the triggerer's shared
poller has sent one listing request naming all three. Then simulated time starts: the alignments
finish 3, 4 and 6 s later (one fails), the triggers fire, the tasks resume on workers, and the
run ends. Everything is checked through Airflow's REST API and the simulator's request log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from airflow_provider_onecodex.testing.state import GatedClock

from ._airflow_proc import (
    Api,
    Component,
    Components,
    migrated_home,
    start_api_server,
    timed,
    wait_for,
    wait_healthy,
)

pytestmark = pytest.mark.slow

DAG_ID = "onecodex_alignment_workflow_deferrable"
TRIGGER_CLASS = "OneCodexAnalysisTrigger"
TRIGGER_PATH = f"airflow_provider_onecodex.triggers.onecodex.{TRIGGER_CLASS}"
EXPECTED = {  # the demo sample's alignments: (status in the summary, tax_id)
    "a1a1000000001280": ("succeeded", "1280"),
    "a1a1000000000562": ("succeeded", "562"),
    "a1a1000000001639": ("failed", "1639"),
}
ALIGNMENT_URIS = {f"/api/v1/alignments/{i}" for i in EXPECTED}


@dataclass
class Stack:
    api: Api
    comps: Components
    sim: Any  # SimulatorServer
    clock: GatedClock
    triggerer: Component
    times: dict[str, float]


@pytest.fixture
def stack(tmp_path: Path, onecodex_simulator_factory: Any) -> Iterator[Stack]:
    from airflow_provider_onecodex.testing.pytest_plugin import connection_json

    times: dict[str, float] = {}
    clock = GatedClock()
    sim = onecodex_simulator_factory(clock=clock)
    env_extra = {"AIRFLOW_CONN_ONECODEX_DEFAULT": connection_json(sim.base_url, sim.api_key)}
    with migrated_home(tmp_path, env_extra, times, "deferrable") as (comps, api, api_port):
        with timed("components healthy", times):
            start_api_server(comps, api_port)
            comps.start("scheduler", "scheduler", "--skip-serve-logs")
            triggerer = comps.start("triggerer", "triggerer", "--skip-serve-logs")
            comps.start("dag-processor", "dag-processor")
            wait_healthy(api, comps, timeout=150, need=("scheduler", "triggerer", "dag_processor"))
        yield Stack(api, comps, sim, clock, triggerer, times)


def _where(query: str) -> dict[str, Any]:
    values = parse_qs(query).get("where")
    return json.loads(values[0]) if values else {}


def _batched_listings(sim: Any) -> list[set[str]]:
    """The ``$uri``/``$in`` sets of every ``GET /api/v1/alignments`` listing in the simulator log."""
    batches = []
    for record in sim.state.requests:
        if record.method == "GET" and record.path == "/api/v1/alignments":
            uris = _where(record.query).get("$uri")
            if isinstance(uris, dict) and isinstance(uris.get("$in"), list):
                batches.append(set(uris["$in"]))
    return batches


def test_deferrable_dag_run_through_scheduler_and_triggerer(stack: Stack) -> None:
    api, comps, sim = stack.api, stack.comps, stack.sim
    runs = f"/api/v2/dags/{DAG_ID}/dagRuns"

    def diagnostics() -> str:
        return comps.tails(50)

    with timed("dag parsed", stack.times):
        wait_for(
            f"the dag-processor to serialize {DAG_ID}",
            lambda: api.get(f"/api/v2/dags/{DAG_ID}", expect=(200, 404)).get("dag_id") == DAG_ID,
            timeout=120,
            on_fail=diagnostics,
            check=comps.check_alive,
        )
    errors = api.get("/api/v2/importErrors")
    assert errors["total_entries"] == 0, f"import errors: {errors}"

    api.patch(f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    run_id = api.post(runs, {"logical_date": None})["dag_run_id"]
    tis_path = f"{runs}/{run_id}/taskInstances?limit=100"

    seen_states: dict[tuple[str, int], set[str]] = {}
    seen_triggers: dict[int, str] = {}

    def observe() -> dict[tuple[str, int], dict[str, Any]]:
        tis = {(t["task_id"], t["map_index"]): t for t in api.get(tis_path)["task_instances"]}
        for key, ti in tis.items():
            seen_states.setdefault(key, set()).add(str(ti["state"]))
            if key[0] == "wait_for_alignment" and ti.get("trigger"):
                seen_triggers[key[1]] = ti["trigger"]["classpath"]
        return tis

    def all_waits_deferred() -> bool:
        tis = observe()
        waits = [ti for (task, _), ti in tis.items() if task == "wait_for_alignment"]
        ended = [ti for ti in tis.values() if ti["state"] in ("failed", "upstream_failed", "skipped")]
        ended += [ti for ti in waits if ti["state"] == "success"]
        if ended:  # nothing can finish while the simulator's clock is held: fail now, not at timeout
            raise AssertionError(f"task(s) ended before the alignments could: {ended}\n{states_now()}")
        return len(waits) == 3 and all(ti["state"] == "deferred" for ti in waits)

    def states_now() -> str:
        with_states = {f"{k[0]}[{k[1]}]": sorted(v) for k, v in sorted(seen_states.items())}
        return f"states seen: {with_states}\n{diagnostics()}"

    def run_state() -> str | None:
        observe()
        state = api.get(f"{runs}/{run_id}")["state"]
        return state if state in ("success", "failed") else None

    with timed("run until waits deferred", stack.times):
        wait_for(
            "all three wait_for_alignment tasks to be DEFERRED",
            all_waits_deferred,
            timeout=150,
            interval=1.0,
            on_fail=states_now,
            check=comps.check_alive,
        )
        # The one shared poller of the triggerer names all three waits in one listing request.
        wait_for(
            "a listing request with all three alignment URIs in `$uri` `$in`",
            lambda: any(batch >= ALIGNMENT_URIS for batch in _batched_listings(sim)),
            timeout=60,
            on_fail=lambda: f"listings: {_batched_listings(sim)}\n{stack.triggerer.tail(60)}",
            check=comps.check_alive,
        )
    assert not any(sim.state.get_json("alignments", i)["complete"] for i in EXPECTED)
    stack.clock.release()  # simulated time starts: 1280 succeeds at 3 s, 1639 fails at 4 s, 562 at 6 s

    with timed("run end after release", stack.times):
        final = wait_for(
            f"dag run {run_id} to end",
            run_state,
            timeout=150,
            interval=1.0,
            on_fail=states_now,
            check=comps.check_alive,
        )
    assert final == "success", f"run ended {final}: the summary is the leaf and runs all_done\n{states_now()}"

    # -- final task states, through the REST API ------------------------------------------------
    tis = observe()
    waits = {m: ti for (task, m), ti in tis.items() if task == "wait_for_alignment"}
    wait_states = sorted(ti["state"] for ti in waits.values())
    assert wait_states == ["failed", "success", "success"], states_now()
    assert tis[("summarize", -1)]["state"] == "success"
    assert tis[("list_alignments", -1)]["state"] == "success"
    assert (
        sorted(ti["state"] for (task, _), ti in tis.items() if task == "fetch_alignment") == ["success"] * 3
    )

    # Which alignment each map index waited for (its rendered alignment_id).
    index_of = {ti["rendered_fields"].get("alignment_id"): m for m, ti in waits.items()}
    assert set(index_of) == set(EXPECTED), index_of
    for alignment_id, (status, _) in EXPECTED.items():
        expected_state = "success" if status == "succeeded" else "failed"
        assert waits[index_of[alignment_id]]["state"] == expected_state, (alignment_id, waits)

    # -- the waits really went through DEFERRED ---------------------------------------------------
    for m in range(3):
        assert "deferred" in seen_states[("wait_for_alignment", m)], seen_states
        assert seen_triggers.get(m) == TRIGGER_PATH, seen_triggers
    for m, ti in waits.items():
        tries = api.get(f"{runs}/{run_id}/taskInstances/wait_for_alignment/{m}/tries")
        assert tries["total_entries"] >= 1
        # A deferral is not a new try: resuming after the trigger continues try 1.
        assert ti["try_number"] == 1, ti
        log = api.get(
            f"{runs}/{run_id}/taskInstances/wait_for_alignment/logs/{ti['try_number']}",
            params={"map_index": m},
            headers={"Accept": "application/json"},
        )
        events = [c.get("event", "") for c in log["content"] if isinstance(c, dict)]
        # The worker's first phase deferred; the triggerer's lines are merged into the same log.
        assert any("Pausing task as DEFERRED" in e for e in events), events
        assert any(e == "Trigger fired event" for e in events), events
        assert any(e.startswith("One Codex wait done") or "failed" in e for e in events), events

    # -- the "One Codex" extra link survived the deferral: the resumed task stored it ----------------
    for alignment_id, m in index_of.items():
        links = api.get(f"{runs}/{run_id}/taskInstances/wait_for_alignment/links", params={"map_index": m})
        assert links["extra_links"].get("One Codex") == f"{sim.base_url}/analysis/{alignment_id}", links

    # -- XCom: each succeeded wait returned its record; the summary lists all three -----------------
    def xcom(task_id: str, map_index: int = -1) -> Any:
        entry = api.get(
            f"{runs}/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
            params={"map_index": map_index, "deserialize": True},
        )
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) else value

    for alignment_id, (status, tax_id) in EXPECTED.items():
        if status == "succeeded":
            record = xcom("wait_for_alignment", index_of[alignment_id])
            assert record["$uri"] == f"/api/v1/alignments/{alignment_id}", record
            assert (record["complete"], record["success"], record["tax_id"]) == (True, True, tax_id), record

    summary = xcom("summarize")
    rows = {row["alignment_id"]: (row["status"], row["tax_id"]) for row in summary["alignments"]}
    assert rows == EXPECTED, summary
    assert summary["counts"] == {"succeeded": 2, "failed": 1, "pending": 0}
    failed = next(r for r in summary["alignments"] if r["status"] == "failed")
    assert failed["error_msg"] == "Reference genome coverage too low to call an alignment."

    # -- the shared poller batched: `$uri` `$in` listings, not only per-id GETs ---------------------
    requests_log = sim.state.requests
    batches = _batched_listings(sim)
    per_id = [r for r in requests_log if r.method == "GET" and r.path in ALIGNMENT_URIS]
    print(
        f"\n[e2e_airflow deferrable] simulator: {len(requests_log)} requests, "
        f"{len(batches)} `$uri` `$in` listings (sizes {[len(b) for b in batches]}), "
        f"{len(per_id)} per-id GETs"
    )
    assert len(batches) >= 2, batches  # several poll rounds while the alignments ran
    # Each mapped sensor knows only its own id: a listing naming all three comes from the shared poller.
    assert max(len(b) for b in batches) == 3
    # Per-id GETs: at most the sensors' first pokes and the three fetch_alignment tasks; the
    # triggers never GET one alignment at a time (every record was in the listings).
    assert len(per_id) <= 6, [(r.method, r.path) for r in per_id]
