"""N deferred waits in one triggerer process, run by Airflow's own ``TriggerRunner`` (worker).

``python -m bench.triggerer`` (with the project's or the http venv's python) reads one JSON line
``{"variant", "interval", "never", "done", "window", "log_scale"}`` on stdin:

- ``variant``: ``ours`` (``OneCodexAnalysisTrigger``, one alignment each, sharing the poller),
  ``http_event`` (the http provider's ``HttpEventTrigger``) or ``http_loop`` (a hand-rolled
  ``HttpSensorTrigger``-style loop), see :mod:`bench.http_anchor`;
- ``never``: alignment ids that never complete; ``done``: ids that complete after the clock starts.

The worker builds ``TriggerRunner`` as the triggerer's subprocess does (logging configured by
Airflow's ``configure_logging(json_output=True)`` at INFO, into a byte counter instead of the
supervisor's socket), turns every wait into a ``RunTrigger`` workload with encrypted kwargs, and
drives the runner's own ``create_triggers`` / ``cleanup_finished_triggers`` /
``process_trigger_events`` once a second, as ``TriggerRunner.arun`` does (its supervisor round
trip left out), with its ``block_watchdog`` running. Once every trigger has polled twice it prints
``{"ready": ...}`` and waits for ``{"t0": ...}`` (the simulator's clock started: ``done``
alignments complete at ``t0 + complete_after``), then measures for ``window`` seconds and prints
one JSON line of results: CPU, event-loop lag, GC, RSS, log bytes, event times.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import json
import os
import sys
import time
from typing import Any

LIFECYCLE = (b"trigger %s starting", b"Trigger fired event", b"trigger completed", b"trigger ID")


class LogCounter:
    """A binary sink for structlog's JSON lines: counts bytes, split into waiting and lifecycle."""

    def __init__(self) -> None:
        self.waiting = 0  # what the waits log while they wait (ours: changes and reminders)
        self.lifecycle = 0  # the runner's per-trigger lines (starting, fired, completed)
        self.lines = 0
        self.sample: list[str] = []

    def write(self, data: bytes) -> int:
        if any(marker in data for marker in LIFECYCLE):
            self.lifecycle += len(data)
        else:
            self.waiting += len(data)
            if len(self.sample) < 5:
                self.sample.append(data.decode(errors="replace")[:300])
        self.lines += data.count(b"\n")
        return len(data)

    def flush(self) -> None:
        pass


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def workload(variant: str, aid: str, interval: float) -> tuple[str, dict[str, Any]]:
    if variant == "ours":
        spec = {
            "resource": "alignments",
            "ids": [aid],
            "single": True,
            "sample_id": None,
            "tax_id": None,
            "where": None,
            "min_count": 1,
            "failure_policy": "fail_fast",
        }
        kwargs = {"spec": spec, "onecodex_conn_id": "onecodex_bench", "poll_interval": interval}
        return "airflow_provider_onecodex.triggers.onecodex.OneCodexAnalysisTrigger", kwargs
    if variant == "http_event":
        return "airflow.providers.http.triggers.http.HttpEventTrigger", {
            "response_check_path": "bench.http_anchor.alignment_complete",
            "http_conn_id": "http_bench",
            "auth_type": "aiohttp.helpers.BasicAuth",  # None + a login fails in http provider 6.3.0
            "method": "GET",
            "endpoint": f"/api/v1/alignments/{aid}",
            "poll_interval": interval,
        }
    return "bench.http_anchor.AlignmentPollTrigger", {
        "alignment_id": aid,
        "http_conn_id": "http_bench",
        "poll_interval": interval,
    }


def poll_rounds(variant: str) -> int:
    """Poll rounds the shared pollers started so far (ours only; -1 for the anchors)."""
    if variant != "ours":
        return -1
    from airflow_provider_onecodex.triggers import poller

    return sum(p.rounds for p in poller._POLLERS.values())


async def lag_probe(samples: list[float], stop: asyncio.Event, period: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(period)
        samples.append(loop.time() - start - period)


async def main_async(req: dict[str, Any], counter: LogCounter) -> dict[str, Any]:
    from airflow.executors.workloads.trigger import RunTrigger
    from airflow.jobs.triggerer_job_runner import TriggerRunner
    from airflow.models.trigger import Trigger

    variant, interval = req["variant"], float(req["interval"])
    if variant == "ours" and req.get("log_scale", 1) != 1:
        # Reminders compressed in time so a short window shows an hour's worth (see docs).
        from airflow_provider_onecodex.triggers import onecodex, poller

        onecodex.LOG_EVERY /= req["log_scale"]
        poller.LOG_LINES_PER_SECOND *= req["log_scale"]
    never, done = req["never"], req["done"]
    ids = never + list(done)
    runner = TriggerRunner()
    fired: dict[int, tuple[float, str]] = {}

    class Stamped(collections.deque):  # type: ignore[type-arg]
        def append(self, entry: Any) -> None:
            payload = entry.event.payload
            status = payload.get("status") if isinstance(payload, dict) else str(payload)
            fired[entry.trigger_id] = (time.monotonic(), str(status))
            super().append(entry)

    runner.events = Stamped()
    classpath, _ = workload(variant, ids[0], interval)
    runner.get_trigger_by_classpath(classpath)  # imports, before the baseline RSS
    gc.collect()
    rss_base = rss_bytes()
    for n, aid in enumerate(ids, start=1):
        classpath, kwargs = workload(variant, aid, interval)
        runner.to_create.append(
            RunTrigger(id=n, classpath=classpath, encrypted_kwargs=Trigger.encrypt_kwargs(kwargs))
        )

    failures: list[str] = []
    stop = asyncio.Event()

    async def drive() -> None:  # TriggerRunner.arun's loop without the supervisor round trip
        while not stop.is_set():
            finished = await runner.cleanup_finished_triggers()
            msg = runner.process_trigger_events(finished)
            for _trigger_id, tb in msg.failures or []:
                failures.append((tb or ["no traceback"])[-1][:300])
            await runner.create_triggers()
            await runner.cancel_triggers()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)

    created = time.monotonic()
    driver = asyncio.create_task(drive())
    watchdog = asyncio.create_task(runner.block_watchdog())
    while len(runner.triggers) < len(ids) and not driver.done():
        await asyncio.sleep(0.2)
    create_s = time.monotonic() - created
    await asyncio.sleep(2.5 * interval)  # every trigger has polled at least twice
    gc.collect()
    rss_ready = rss_bytes()
    print(json.dumps({"ready": True}), flush=True)
    t0 = json.loads(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline))["t0"]

    lags: list[float] = []
    gen2 = {"count": 0, "s": 0.0}
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gen2["count"] += 1
            gen2["s"] += time.perf_counter() - gc_started[0]

    gc.callbacks.append(on_gc)
    probe = asyncio.create_task(lag_probe(lags, stop))
    counter.waiting = counter.lifecycle = 0
    counter.sample = []
    rounds = poll_rounds(variant)
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(float(req["window"]))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    rounds = poll_rounds(variant) - rounds
    lags = list(lags)  # the window's samples only, not the shutdown below
    gc.callbacks.remove(on_gc)
    rss_end = rss_bytes()
    logged = {"waiting": counter.waiting, "lifecycle": counter.lifecycle, "sample": counter.sample}
    stop.set()
    runner.stop = True
    for details in list(runner.triggers.values()):
        details["task"].cancel()
    await asyncio.gather(*(d["task"] for d in runner.triggers.values()), return_exceptions=True)
    await asyncio.gather(driver, watchdog, probe, return_exceptions=True)
    by_id = dict(enumerate(ids, start=1))
    return {
        "variant": variant,
        "n": len(ids),
        "t0": t0,
        "create_s": create_s,
        "cpu_s": cpu,
        "wall_s": wall,
        "rounds": rounds,
        "lags": lags,
        "gen2": gen2,
        "rss_base": rss_base,
        "rss_ready": rss_ready,
        "rss_end": rss_end,
        "log": logged,
        "events": {by_id[t]: [at, status] for t, (at, status) in fired.items()},
        "failures": failures[:3],
        "n_failures": len(failures),
    }


def main() -> None:
    req = json.loads(sys.stdin.readline())
    from airflow.sdk.log import configure_logging

    counter = LogCounter()
    configure_logging(json_output=True, output=counter, sending_to_supervisor=True)  # type: ignore[arg-type]
    if os.environ.get("BENCH_PROFILE"):  # a cProfile of the whole run, for finding hot spots
        import cProfile

        with cProfile.Profile() as profile:
            result = asyncio.run(main_async(req, counter))
        profile.dump_stats(os.environ["BENCH_PROFILE"])
    elif os.environ.get("BENCH_ASYNCIO_DEBUG"):  # which callbacks block the loop for > 50 ms
        import logging

        handler = logging.StreamHandler(sys.stderr)
        logging.getLogger("asyncio").addHandler(handler)
        logging.getLogger("asyncio").propagate = False

        async def debugged() -> dict[str, Any]:
            asyncio.get_running_loop().slow_callback_duration = 0.05
            return await main_async(req, counter)

        result = asyncio.run(debugged(), debug=True)
    else:
        result = asyncio.run(main_async(req, counter))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
