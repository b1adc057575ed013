"""Ten watchers, one listing per interval: event triggers sharing a stream vs one poll per watcher.

``python -m bench.watchers [--watchers 10] [--interval 0.5] [--intervals 8]``

Runs ``--watchers`` :class:`OneCodexNewSampleTrigger`\\ s with different ``where`` filters against
the simulator (in this process) twice for the same wall time, while one new sample per interval
appears for each watcher:

- **shared**: through Airflow 3.3's own ``SharedStreamManager``, as the triggerer runs them (one
  ``shared_stream_key``: one listing per interval, each watcher filters in ``filter_shared_stream``);
- **baseline**: each trigger's standalone ``run()`` (Airflow 3.2's way: one poll per watcher).

Prints ``GET /api/v1/samples`` requests per interval in each mode, their ratio (baseline over
shared; the watcher count is the ideal) and checks that both modes fired the same events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from contextlib import suppress
from typing import Any

os.environ.update(
    AIRFLOW_HOME=tempfile.mkdtemp(prefix="onecodex-bench-watchers-"),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__UNIT_TEST_MODE="True",
)


async def _consume(stream: Any, sink: list[str]) -> None:
    async for event in stream:
        sink.append(event.payload["sample_id"])


async def _run(
    mode: str, sim: Any, watchers: int, interval: float, intervals: int
) -> tuple[int, list[list[str]]]:
    from airflow.triggers.shared_stream import SharedStreamManager

    from airflow_provider_onecodex.triggers.events import OneCodexNewSampleTrigger

    triggers = [
        OneCodexNewSampleTrigger(
            "onecodex_bench", where={"filename": {"$startswith": f"w{n}-"}}, poll_interval=interval
        )
        for n in range(watchers)
    ]
    manager = SharedStreamManager()
    if mode == "shared":
        streams = [t.filter_shared_stream(manager.subscribe(trigger_id=n, trigger=t, key=t.shared_stream_key()))
                   for n, t in enumerate(triggers)]  # fmt: skip
    else:
        streams = [t.run() for t in triggers]
    fired: list[list[str]] = [[] for _ in triggers]
    tasks = [asyncio.ensure_future(_consume(s, sink)) for s, sink in zip(streams, fired, strict=True)]
    await asyncio.sleep(interval)  # every watcher has read its mark ("now")
    sim.state.reset_counters()
    for step in range(intervals):
        for n in range(watchers):
            sim.state.add_sample(f"w{n}-{mode}-{step}.fastq")
        await asyncio.sleep(interval)
    listings = sim.state.count("/api/v1/samples", method="GET")
    await asyncio.sleep(interval)  # let the last samples fire
    for task in tasks:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    if mode == "shared":
        for n, t in enumerate(triggers):
            await manager.unsubscribe(n, t.shared_stream_key())
    return listings, fired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    parser.add_argument("--intervals", type=int, default=8, help="intervals measured")
    args = parser.parse_args()

    from airflow_provider_onecodex.testing.server import SimulatorServer

    with SimulatorServer() as sim:
        os.environ["AIRFLOW_CONN_ONECODEX_BENCH"] = json.dumps(
            {"conn_type": "onecodex", "host": sim.base_url, "password": sim.api_key}
        )
        results = {}
        for mode in ("shared", "baseline"):
            started = time.monotonic()
            results[mode] = asyncio.run(_run(mode, sim, args.watchers, args.interval, args.intervals))
            print(f"[bench watchers] {mode}: {time.monotonic() - started:.1f} s", flush=True)
    shared, baseline = results["shared"][0], results["baseline"][0]
    same = [len(a) for a in results["shared"][1]] == [len(b) for b in results["baseline"][1]]
    print(f"watchers: {args.watchers}, interval {args.interval:g} s, {args.intervals} intervals, "
          f"{args.watchers} new samples per interval")  # fmt: skip
    print(f"  shared stream (3.3):      {shared:4d} listings = {shared / args.intervals:5.2f} per interval")
    print(
        f"  one poll per watcher:     {baseline:4d} listings = {baseline / args.intervals:5.2f} per interval"
    )
    print(f"  ratio baseline / shared:  {baseline / max(shared, 1):.1f}x (ideal {args.watchers}x)")
    print(f"  events per watcher, shared {[len(f) for f in results['shared'][1]]}, "
          f"baseline {[len(f) for f in results['baseline'][1]]}: {'same' if same else 'DIFFERENT'}")  # fmt: skip


if __name__ == "__main__":
    main()
