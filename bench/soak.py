"""Fault soak: many alignments waited on through a flaky One Codex, in poke and deferrable mode.

``python -m bench.soak [--n 200] [--fault-rate 0.2] [--spread 12] [--seed 7]`` starts the local
simulator with a bulk scenario (alignments completing at random times within ``spread`` seconds,
some failing) and makes a ``fault_rate`` share of its responses fail at random with the transient
faults a real deployment sees: 429 with a short Retry-After, 500/502/503 with JSON, HTML or empty
bodies, reset connections, 200 HTML pages and truncated JSON. Half the alignments are waited on by
:class:`~airflow_provider_onecodex.sensors.onecodex.OneCodexAlignmentSensor` in poke mode (one
thread each, Airflow's own poke loop); the other half in deferrable mode (first poke, then every
trigger in one event loop, sharing the batched poller, then ``execute_complete``).

It prints the faults injected, the requests sent, the outcomes by kind and the requests per
alignment, and exits non-zero when any sensor ended in the wrong state or a request bound was
exceeded. ``tests/sensors/test_soak.py`` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from airflow_provider_onecodex.api.batch import ID_BATCH

ALIGNMENTS = "/api/v1/alignments"
CONN_ID = "onecodex_soak"
#: transient faults only (never ``hang``: a hung request only costs its read timeout)
SOAK_FAULTS: tuple[Any, ...] = (
    {"status": 429, "retry_after": 1},
    {"status": 500, "body": "json"},
    {"status": 500, "body": "empty"},
    {"status": 502, "body": "html"},
    {"status": 502, "body": "json"},
    {"status": 503, "body": "empty"},
    {"status": 503, "body": "html"},
    {"status": 504, "body": "html"},
    "reset",
    "html200",
    "truncated",
)
SENSOR_TIMEOUT = 120.0  # seconds; a wait still running then is reported as an error


@dataclass
class Outcome:
    """How one sensor ended: ``success``, ``failed`` (AirflowFailException naming the id) or ``error``."""

    kind: str
    detail: str = ""


@dataclass
class SoakReport:
    """Figures of one soak run; :attr:`problems` is empty when every check passed."""

    n: int
    seconds: float
    expected: dict[str, str]
    modes: dict[str, str]
    outcomes: dict[str, Outcome]
    requests: int
    requests_by_id: dict[str, float]
    batched_listings: int
    faults: dict[str, int]
    poke_bounds: dict[str, int]
    deferrable_bound: int
    deferrable_mean_bound: float
    problems: list[str] = field(default_factory=list)

    def ids(self, mode: str) -> list[str]:
        return [i for i, m in self.modes.items() if m == mode]

    @property
    def false_successes(self) -> list[str]:
        return [i for i, o in self.outcomes.items() if o.kind == "success" and self.expected[i] != "success"]

    @property
    def false_failures(self) -> list[str]:
        return [i for i, o in self.outcomes.items() if o.kind != "success" and self.expected[i] == "success"]

    @property
    def errors(self) -> dict[str, str]:
        return {i: o.detail for i, o in self.outcomes.items() if o.kind not in ("success", "failed")}

    def outcome_counts(self, mode: str) -> dict[str, int]:
        return dict(Counter(self.outcomes[i].kind for i in self.ids(mode)))

    def per_alignment(self, mode: str) -> list[float]:
        """Requests per alignment: GETs of its id, plus its share of each listing naming it."""
        return [self.requests_by_id.get(i, 0.0) for i in self.ids(mode)]

    def check(self) -> list[str]:
        """Fill and return :attr:`problems`."""
        problems = []
        missing = set(self.expected) - set(self.outcomes)
        if missing:
            problems.append(f"{len(missing)} alignments have no outcome")
        for label, ids in (
            ("false successes", self.false_successes),
            ("false failures", self.false_failures),
        ):
            if ids:
                problems.append(f"{len(ids)} {label}: {ids[:5]}")
        for i, detail in list(self.errors.items())[:5]:
            problems.append(f"{i} ended in an error: {detail}")
        for i in self.ids("poke"):
            if not 1 <= self.requests_by_id.get(i, 0) <= self.poke_bounds[i]:
                problems.append(
                    f"poke {i}: {self.requests_by_id.get(i, 0):g} requests, bound {self.poke_bounds[i]}"
                )
        for i in self.ids("deferrable"):
            if not 0 < self.requests_by_id.get(i, 0) <= self.deferrable_bound:
                problems.append(
                    f"deferrable {i}: {self.requests_by_id.get(i, 0):g} requests, bound {self.deferrable_bound}"
                )
        deferrable = self.per_alignment("deferrable")
        if deferrable and statistics.mean(deferrable) > self.deferrable_mean_bound:
            problems.append(
                f"deferrable: {statistics.mean(deferrable):.2f} requests per alignment on average, "
                f"bound {self.deferrable_mean_bound:.2f}"
            )
        self.problems = problems
        return problems

    def summary(self) -> str:
        failing = sum(1 for v in self.expected.values() if v == "failed")
        injected = sum(self.faults.values())
        lines = [
            f"fault soak: {self.n} alignments ({len(self.ids('poke'))} poke, {len(self.ids('deferrable'))} "
            f"deferrable), {failing} failing; {self.seconds:.1f} s",
            f"requests: {self.requests:,} ({injected:,} faulted = {injected / max(self.requests, 1):.0%}); "
            f"faults by kind: {json.dumps(dict(sorted(self.faults.items())))}",
        ]
        for mode in ("poke", "deferrable"):
            per = self.per_alignment(mode)
            if not per:
                continue
            bound = (
                f"bound {max(self.poke_bounds[i] for i in self.ids(mode))}"
                if mode == "poke"
                else f"bounds: mean {self.deferrable_mean_bound:.1f}, each {self.deferrable_bound}"
            )
            lines.append(
                f"{mode:>10}: outcomes {json.dumps(self.outcome_counts(mode), sort_keys=True)}; requests per "
                f"alignment mean {statistics.mean(per):.1f}, max {max(per):.1f} ({bound})"
            )
        lines.append(f"batched listings (several ids in one request): {self.batched_listings}")
        lines.append(
            f"false successes {len(self.false_successes)}, false failures {len(self.false_failures)}, "
            f"errors {len(self.errors)}"
        )
        lines.append("OK" if not self.problems else "PROBLEMS:\n  " + "\n  ".join(self.problems))
        return "\n".join(lines)


# -- running the waits ---------------------------------------------------------------------------


def _sensor(alignment_id: str, poll_interval: float, **kwargs: Any) -> Any:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    return OneCodexAlignmentSensor(
        task_id=f"wait_{alignment_id}",
        alignment_id=alignment_id,
        onecodex_conn_id=CONN_ID,
        poke_interval=poll_interval,
        timeout=SENSOR_TIMEOUT,
        **kwargs,
    )


def _judge(alignment_id: str, call: Any) -> Outcome:
    """Run ``call()`` (an execute) and sort how it ended."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        value = call()
    except AirflowFailException as exc:
        if alignment_id in str(exc):
            return Outcome("failed", str(exc))
        return Outcome("error", f"AirflowFailException without the id: {exc}")
    except Exception as exc:
        return Outcome("error", f"{type(exc).__name__}: {exc}")
    ok = (
        isinstance(value, dict)
        and str(value.get("$uri", "")).endswith(alignment_id)
        and value.get("complete") is True
        and value.get("success") is True
    )
    return Outcome("success") if ok else Outcome("error", f"unexpected XCom value {value!r:.200}")


def _close(sensor: Any) -> None:
    if "hook" in sensor.__dict__:
        sensor.hook.close()


def _wait_poke(alignment_id: str, poll_interval: float) -> Outcome:
    sensor = _sensor(alignment_id, poll_interval, mode="poke")
    try:
        return _judge(alignment_id, lambda: sensor.execute({}))
    finally:
        _close(sensor)


def _rebuild(trigger: Any) -> Any:
    """The trigger as the triggerer gets it: through its serialized, JSON-native kwargs."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))


async def _first_events(triggers: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run every trigger in this one loop to its first event (they share the batched poller)."""

    async def first(trigger: Any) -> Any:
        events = trigger.run()
        try:
            return (await events.__anext__()).payload
        finally:
            await events.aclose()

    ids = list(triggers)
    results = await asyncio.wait_for(
        asyncio.gather(*(first(triggers[i]) for i in ids), return_exceptions=True), timeout
    )
    return dict(zip(ids, results, strict=True))


def _wait_deferrable(ids: list[str], poll_interval: float) -> dict[str, Outcome]:
    from airflow.sdk.exceptions import TaskDeferred

    outcomes: dict[str, Outcome] = {}
    deferred: dict[str, TaskDeferred] = {}
    for alignment_id in ids:
        sensor = _sensor(alignment_id, poll_interval, deferrable=True)

        def execute(sensor: Any = sensor, alignment_id: str = alignment_id) -> Any:
            try:
                return sensor.execute({})
            except TaskDeferred as exc:  # a BaseException: record it, end as "deferred"
                deferred[alignment_id] = exc
                return None

        outcome = _judge(alignment_id, execute)
        _close(sensor)
        if alignment_id not in deferred:
            outcomes[alignment_id] = outcome
    triggers = {i: _rebuild(d.trigger) for i, d in deferred.items()}
    events = asyncio.run(_first_events(triggers, SENSOR_TIMEOUT))
    for alignment_id, exc in deferred.items():
        event = events[alignment_id]
        if isinstance(event, BaseException):
            outcomes[alignment_id] = Outcome("error", f"trigger raised {type(event).__name__}: {event}")
            continue
        resumed = _sensor(alignment_id, poll_interval, deferrable=True)
        outcomes[alignment_id] = _judge(
            alignment_id, lambda r=resumed, e=event, m=exc.method_name: getattr(r, m)({}, e)
        )
        _close(resumed)
    return outcomes


def _listed_ids(query: str) -> list[str]:
    """Ids named by a listing's ``where={"$uri": {"$in": [...]}}``; empty for other listings."""
    try:
        clause = json.loads(parse_qs(query).get("where", ["{}"])[0])
        uris = clause.get("$uri", {}).get("$in", [])
    except (ValueError, AttributeError):
        return []
    return [u.rsplit("/", 1)[-1] for u in uris if isinstance(u, str)]


def _attribute(records: list[Any]) -> tuple[dict[str, float], int]:
    """Requests per alignment id, whatever route polled it: a GET of the id counts 1, a listing of
    ``k`` ids counts ``1/k`` for each. Also returns how many listings named several ids."""
    per_id: dict[str, float] = defaultdict(float)
    batched = 0
    for record in records:
        if record.path.startswith(ALIGNMENTS + "/"):
            per_id[record.path.rsplit("/", 1)[-1]] += 1
        elif record.path == ALIGNMENTS:
            ids = _listed_ids(record.query)
            batched += len(ids) > 1
            for i in ids:
                per_id[i] += 1 / len(ids)
    return dict(per_id), batched


@contextmanager
def _connection(sim: Any, **extra: Any) -> Iterator[None]:
    """The soak's Airflow connection, as an environment variable, for the duration of the run."""
    name = f"AIRFLOW_CONN_{CONN_ID.upper()}"
    before = os.environ.get(name)
    os.environ[name] = json.dumps(
        {"conn_type": "onecodex", "host": sim.base_url, "password": sim.api_key, "extra": extra}
    )
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def run_soak(
    n: int = 200,
    *,
    seed: int = 7,
    fault_rate: float = 0.2,
    spread: float = 12.0,
    failure_rate: float = 0.15,
    poll_interval: float = 0.5,
    max_retries: int = 3,
    retry_initial_wait: float = 0.05,
) -> SoakReport:
    """Run the soak once and return its report (already checked: see ``report.problems``).

    :param n: alignments; half are waited on in poke mode, half in deferrable mode.
    :param fault_rate: share of API responses replaced by a random transient fault.
    :param spread: alignments complete at uniform random times in ``[0, spread]`` s.
    :param failure_rate: share of alignments that complete with ``success: false``.
    :param poll_interval: the sensors' ``poke_interval`` (and the triggers' poll interval), s.
    :param max_retries: connection extra: retries of one request after its first attempt.
    :param retry_initial_wait: connection extra: first retry backoff, s.
    """
    from airflow_provider_onecodex.testing.server import SimulatorServer
    from bench.scenarios import make_bulk_scenario

    scenario = make_bulk_scenario(n, seed=seed, failure_rate=failure_rate, max_complete_after=spread)
    analyses = {a["id"]: a for a in scenario["analyses"]}
    expected = {i: ("success" if a["success"] else "failed") for i, a in analyses.items()}
    order = sorted(analyses)
    random.Random(seed).shuffle(order)
    modes = {i: ("poke" if k % 2 == 0 else "deferrable") for k, i in enumerate(order)}
    attempts = max_retries + 1

    with (
        SimulatorServer(scenario) as sim,
        _connection(
            sim,
            max_retries=max_retries,
            retry_initial_wait=retry_initial_wait,
            max_retry_after=5,
            read_timeout=10,
            connect_timeout=5,
        ),
    ):
        sim.state.faults.set_rate(fault_rate, SOAK_FAULTS, seed=seed, path_prefix="/api/v1/")
        started = time.monotonic()
        poke_ids = [i for i in order if modes[i] == "poke"]
        with ThreadPoolExecutor(max_workers=max(1, len(poke_ids)), thread_name_prefix="poke") as pool:
            poking = {i: pool.submit(_wait_poke, i, poll_interval) for i in poke_ids}
            outcomes = _wait_deferrable([i for i in order if modes[i] == "deferrable"], poll_interval)
            outcomes.update({i: f.result() for i, f in poking.items()})
        seconds = time.monotonic() - started
        records = sim.state.requests

    by_id, batched = _attribute(records)
    faults = Counter(
        (str(r.status) if r.fault == "status" else str(r.fault)) for r in records if r.fault is not None
    )
    rounds = math.ceil(seconds / poll_interval) + 2  # poll rounds that fit in the run, at most
    n_deferrable = n - len(poke_ids)
    chunks = math.ceil(n_deferrable / ID_BATCH)  # the poller lists ID_BATCH ids per request
    report = SoakReport(
        n=n,
        seconds=seconds,
        expected=expected,
        modes=modes,
        outcomes=outcomes,
        requests=len(records),
        requests_by_id=by_id,
        batched_listings=batched,
        faults=dict(faults),
        # a poke-mode wait polls until its alignment completes (one more poll, plus a couple that
        # failed outright), and every poll costs at most `attempts` requests
        poke_bounds={
            i: (math.ceil(analyses[i]["complete_after"] / poll_interval) + 3) * attempts for i in poke_ids
        },
        # a deferrable wait: its first poke (plus a lookup of its id if a listing missed it), then
        # a share of one listing request per ID_BATCH ids per poll round, each with its retries
        deferrable_bound=(2 + rounds) * attempts,
        deferrable_mean_bound=2 * attempts + rounds * attempts * chunks / max(1, n_deferrable),
    )
    report.check()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="alignments (default 200)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of faulted responses (0.2)")
    parser.add_argument("--spread", type=float, default=12.0, help="completion times within this many s (12)")
    parser.add_argument("--poll-interval", type=float, default=0.5, help="sensor poke interval, s (0.5)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    # A throwaway Airflow home and quiet task logs, before anything imports airflow.
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="onecodex-soak-home-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    import logging

    logging.basicConfig(level=logging.ERROR)
    report = run_soak(
        args.n,
        seed=args.seed,
        fault_rate=args.fault_rate,
        spread=args.spread,
        poll_interval=args.poll_interval,
    )
    print(report.summary())
    return 0 if not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
