"""Issue 3: N alignments waited on concurrently in one event loop, deferrable path (worker process).

``python -m bench.waiting`` reads ``{"mode", "n", "interval", "spread", "mem_interval", "seed"}`` as
JSON on stdin and prints one JSON line. ``mode`` is

- ``batched``: N :class:`~airflow_provider_onecodex.triggers.onecodex.OneCodexAnalysisTrigger`
  instances (one alignment each) run as tasks of one loop, as the triggerer runs them; they share
  the process's :class:`~airflow_provider_onecodex.triggers.poller.SharedPoller`;
- ``baseline``: the anchors' way: one task per alignment sending one ``get_record`` per interval,
  judged by the same rule. The tasks share one
  :class:`~airflow_provider_onecodex.hooks.onecodex.OneCodexAsyncHook` (kinder to the baseline than
  one hook per trigger: each ``httpx.AsyncClient`` costs ~25 ms of CPU to build, its SSL context).

The worker starts its own simulator process with N alignments completing at uniform random times
in ``[0, spread]`` s (10 % of them failing) plus N that never complete. Phase 1 (memory): N waits
on never-completing alignments under tracemalloc; after two polls the traced memory over the
pre-wait level, divided by N, is the memory per waiting alignment. Phase 2 (latency): the
simulator clock restarts and the N real waits run to their events; the detection latency of an
alignment is its event time minus its completion time in the scenario (both on the machine's
monotonic clock), and every request the simulator logged is counted per poll interval.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import sys
import time
import tracemalloc
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any, cast

from bench._common import CONN_ID, Simulator

DEADLINE = 90.0  # seconds: a latency phase that runs longer than this is cut off and reported


def _scenario(n: int, spread: float, seed: int) -> tuple[dict[str, Any], list[str]]:
    from bench.scenarios import make_bulk_scenario

    scenario = make_bulk_scenario(n, seed=seed, failure_rate=0.1, max_complete_after=spread)
    real = scenario["analyses"]
    taken = {a["id"] for a in real}
    never = []
    for a in real:
        twin = f"{int(a['id'], 16) ^ 0xFFFF_FFFF_FFFF_FFFF:016x}"
        assert twin not in taken
        never.append({**a, "id": twin, "complete_after": None, "success": True, "error_msg": None})
    scenario["analyses"] = real + never
    return scenario, [a["id"] for a in never]


def _waiter(mode: str, interval: float) -> Callable[[str], Coroutine[Any, Any, dict[str, Any]]]:
    """``wait(alignment_id) -> event payload`` for the mode."""
    from airflow_provider_onecodex.api.waiting import WaitSpec, outcome_of

    if mode == "batched":
        from airflow_provider_onecodex.triggers.onecodex import OneCodexAnalysisTrigger

        async def wait_batched(alignment_id: str) -> dict[str, Any]:
            spec = WaitSpec.build("alignments", record_id=alignment_id)
            trigger = OneCodexAnalysisTrigger(spec.to_dict(), CONN_ID, interval)
            events = cast(AsyncGenerator[Any, None], trigger.run())
            try:
                event = await events.__anext__()
            finally:
                await events.aclose()  # the triggerer closes a trigger after its first event
            return event.payload  # type: ignore[no-any-return]

        return wait_batched

    from airflow_provider_onecodex.api.errors import OneCodexError
    from airflow_provider_onecodex.hooks.onecodex import OneCodexAsyncHook

    hook = OneCodexAsyncHook(CONN_ID)  # shared: the baseline pays no per-wait client set-up
    # At most as many requests in flight as httpx's pool has connections (100): 1,000 requests
    # queued on one httpx pool cost O(n^2) in httpcore (one round took ~25 s of CPU at N=1,000).
    slots = asyncio.Semaphore(100)
    # The first concurrent calls would each build a client (aget_client has no lock): build it once.
    ready = asyncio.Lock()

    async def get(alignment_id: str) -> dict[str, Any]:
        async with slots:
            async with ready:
                await hook.aget_client()
            return await hook.get_record("alignments", alignment_id)

    async def wait_baseline(alignment_id: str) -> dict[str, Any]:
        spec = WaitSpec.build("alignments", record_id=alignment_id)
        while True:
            try:
                outcome = outcome_of(spec, [await get(alignment_id)])
            except OneCodexError as exc:
                outcome = outcome_of(spec, [], exc)
            if outcome["status"] not in ("pending", "transient"):
                return outcome
            await asyncio.sleep(interval)

    return wait_baseline


async def _memory_phase(mode: str, never: list[str], interval: float) -> dict[str, float]:
    wait = _waiter(mode, interval)
    warm = asyncio.create_task(wait(never[0]))  # imports, connection lookup, first connection
    await asyncio.sleep(interval * 1.5)
    warm.cancel()
    await asyncio.gather(warm, return_exceptions=True)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(wait(i)) for i in never]
    await asyncio.sleep(interval * 2.5)  # every wait has polled at least twice
    gc.collect()
    current = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"bytes_per_wait": current / len(never)}


async def _latency_phase(mode: str, ids: list[str], interval: float) -> dict[str, Any]:
    wait = _waiter(mode, interval)
    seen: dict[str, tuple[float, str]] = {}

    async def one(alignment_id: str) -> None:
        payload = await wait(alignment_id)
        seen[alignment_id] = (time.monotonic(), str(payload.get("status")))

    cpu = time.process_time()
    tasks = [asyncio.create_task(one(i)) for i in ids]
    done, pending = await asyncio.wait(tasks, timeout=DEADLINE)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    errors = [repr(t.exception()) for t in done if t.exception() is not None][:3]
    return {"events": seen, "cpu_s": time.process_time() - cpu, "unfinished": len(pending), "errors": errors}


def main() -> None:
    req = json.loads(sys.stdin.read())
    mode, n, interval = req["mode"], int(req["n"]), float(req["interval"])
    scenario, never = _scenario(n, float(req["spread"]), int(req["seed"]))
    real = {a["id"]: a for a in scenario["analyses"][:n]}
    # the triggers log every pending poll at INFO; keep the measurement about polling
    logging.getLogger("airflow").setLevel(logging.WARNING)
    logging.getLogger("airflow_provider_onecodex").setLevel(logging.WARNING)
    with Simulator(scenario) as sim:
        os.environ.update(sim.env())
        memory = asyncio.run(_memory_phase(mode, never, float(req["mem_interval"])))
        sim.command("reset")
        t0 = sim.command("restart")["t0"]
        latency = asyncio.run(_latency_phase(mode, list(real), interval))
        log = sim.command("log")["requests"]
    latencies = [at - (t0 + real[i]["complete_after"]) for i, (at, _status) in latency["events"].items()]
    statuses: dict[str, int] = {}
    for _at, status in latency["events"].values():
        statuses[status] = statuses.get(status, 0) + 1
    times = [at for at, _method, _path in log if at >= 0]
    buckets: dict[int, int] = {}
    for at in times:
        buckets[int(at // interval)] = buckets.get(int(at // interval), 0) + 1
    print(
        json.dumps(
            {
                "mode": mode,
                "n": n,
                "latencies": latencies,
                "statuses": statuses,
                "requests": len(times),
                "per_interval": [buckets.get(k, 0) for k in range(max(buckets) + 1)] if buckets else [],
                "bytes_per_wait": memory["bytes_per_wait"],
                "cpu_s": latency["cpu_s"],
                "unfinished": latency["unfinished"],
                "errors": latency["errors"],
            }
        )
    )


if __name__ == "__main__":
    main()
