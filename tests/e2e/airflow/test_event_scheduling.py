"""Issue 14: new One Codex samples start DAG runs through a real triggerer (AssetWatcher).

One test, one Airflow stack (about 2 minutes on 2 cores, most of it start-up): sample A appears ->
one run for A; the triggerer stops, sample C appears while it is down, the triggerer restarts ->
one run for C and none again for A (the mark came back from the asset state store); sample B
appears -> one run for B. Then quiet: still exactly three runs, one per sample. Last, One Codex
answers one 401 (a key rotation's gap, after the watch had answers): the triggerer logs the failed
poll and the watcher goes on (sample D -> one run), it does not stop. (A key wrong from the start
stops the watcher at once without a hot loop: tests/triggers/test_events.py.)
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ._airflow_proc import wait_for
from ._event_stack import POLL_INTERVAL, event_stack

pytestmark = pytest.mark.slow


def _by_sample(runs: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for run in runs:
        for sample_id in run["sample_ids"]:
            counts[sample_id] = counts.get(sample_id, 0) + 1
    return counts


def test_new_samples_start_one_run_each_across_a_triggerer_restart(tmp_path: Path) -> None:
    with event_stack(tmp_path, "events") as stack:
        a = stack.add_sample("A.fastq.gz")
        runs = stack.wait_runs(1)
        assert [r["sample_ids"] for r in runs] == [[a]]
        assert runs[0]["run_type"] == "asset_triggered"

        stack.triggerer.stop()
        polls_when_down = stack.sample_listings()
        c = stack.add_sample("C.fastq.gz")  # appears while no triggerer runs
        time.sleep(5 * POLL_INTERVAL)
        assert stack.sample_listings() == polls_when_down  # nobody was watching
        assert len(stack.runs()) == 1

        stack.comps.items.remove(stack.triggerer)
        stack.triggerer = stack.start_triggerer()
        runs = stack.wait_runs(2, timeout=180)
        assert [r["sample_ids"] for r in runs] == [[a], [c]]

        b = stack.add_sample("B.fastq.gz")
        stack.wait_runs(3)
        time.sleep(8 * POLL_INTERVAL)  # quiet: no duplicate shows up later
        runs = stack.runs()
        assert _by_sample(runs) == {a: 1, c: 1, b: 1}, runs
        assert len(runs) == 3
        listings = stack.sample_listings()
        print(f"\n[e2e_airflow events] runs: {[(r['sample_ids'], r['state']) for r in runs]}; "
              f"{listings} listings of /api/v1/samples")  # fmt: skip

        stack.sim.state.faults.script("/api/v1/samples", [{"kind": "status", "status": 401}])
        wait_for(
            "the triggerer to log the failed poll",
            lambda: any(
                "poll failed" in line and "401" in line for line in stack.triggerer.output().splitlines()
            ),
            timeout=60,
            on_fail=lambda: stack.triggerer.tail(60),
        )
        d = stack.add_sample("D.fastq.gz")
        runs = stack.wait_runs(4)
        stack.comps.check_alive()
        assert _by_sample(runs) == {a: 1, c: 1, b: 1, d: 1}, runs
        assert "stops:" not in stack.triggerer.output(), "the watcher stopped on a 401 after answers"
