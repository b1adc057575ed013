"""Issue 7: poke and reschedule modes for N alignments, on a virtual clock (worker process).

``python -m bench.sensors`` reads ``{"modes", "n", "interval", "spread", "seed"}`` as JSON on stdin
and prints one JSON line, results by mode. The worker starts its own simulator process on a manual clock, with N
alignments completing at uniform random times in ``[0, spread]`` s (10 % failing), and builds one
:class:`~airflow_provider_onecodex.sensors.onecodex.OneCodexAlignmentSensor` per alignment. Each
round, every sensor still waiting calls ``poke`` (real HTTP to the simulator), then the simulator
clock moves one ``poke_interval`` forward: no real sleeping.

- ``poke``: each sensor keeps its instance (and so its hook's session) across pokes, as a task
  that sleeps in its worker slot does; the slot is held for the whole wait: virtual time to
  detection plus the real time spent poking.
- ``reschedule``: every poke is a new task try, so a new sensor instance (new hook, connection
  lookup, new session and TCP connection); the slot is held only while poking: the sum of the
  measured poke times. The seconds Airflow itself spends starting each try (a process, DAG
  parsing, API calls) are not modelled: they come on top, per poke.
- ``deferrable``: one poke in the worker slot, then the trigger (see :mod:`bench.waiting`); the
  slot is held for that first poke only.

Detection latency is virtual: the round's clock when the poke saw the end, minus the scenario's
completion time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from typing import Any

from bench._common import CONN_ID, Simulator

MAX_ROUNDS = 1000


def _run_mode(sim: Simulator, mode: str, completes: dict[str, float], interval: float) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    def new_sensor(k: int, alignment_id: str) -> OneCodexAlignmentSensor:
        return OneCodexAlignmentSensor(
            task_id=f"wait_{k}", alignment_id=alignment_id, onecodex_conn_id=CONN_ID, poke_interval=interval
        )

    ids = list(completes)
    sensors = {i: new_sensor(k, i) for k, i in enumerate(ids)} if mode == "poke" else {}
    warm = new_sensor(-1, ids[0])  # imports, first connection lookup
    with contextlib.suppress(AirflowFailException):
        warm.poke({})
    sim.command("reset")
    sim.command("restart")  # virtual time 0: nothing has completed yet but what completes at 0
    busy = dict.fromkeys(ids, 0.0)
    first_poke: dict[str, float] = {}
    detected: dict[str, float] = {}
    pending = list(ids)
    now = 0.0
    rounds = 0
    cpu = 0.0
    while pending and rounds < MAX_ROUNDS:
        still = []
        for k, alignment_id in enumerate(pending):
            sensor = sensors[alignment_id] if mode == "poke" else new_sensor(k, alignment_id)
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                done = sensor.poke({}).is_done
            except AirflowFailException:  # a failed alignment: detected too
                done = True
            spent = time.perf_counter() - start
            cpu += time.process_time() - start_cpu
            busy[alignment_id] += spent
            first_poke.setdefault(alignment_id, spent)
            if done:
                detected[alignment_id] = now
            elif mode != "deferrable":  # deferrable: the trigger takes over after the first poke
                still.append(alignment_id)
        pending = still
        rounds += 1
        if pending:
            now = float(sim.command(f"advance {interval}")["now"])
    requests = len(sim.command("log")["requests"])
    if mode == "poke":
        slot = [detected[i] + busy[i] for i in detected]
    elif mode == "reschedule":
        slot = [busy[i] for i in detected]
    else:
        slot = [first_poke[i] for i in ids]
    return {
        "mode": mode,
        "n": len(ids),
        "requests": requests,
        "latencies": [detected[i] - completes[i] for i in detected] if mode != "deferrable" else [],
        "slot_s": slot,
        "unfinished": len(pending),
        "poke_s": sum(busy.values()),
        "poke_cpu_s": cpu,
    }


def main() -> None:
    req = json.loads(sys.stdin.read())
    from bench.scenarios import make_bulk_scenario

    logging.getLogger("airflow_provider_onecodex").setLevel(logging.INFO)  # as a worker runs them

    scenario = make_bulk_scenario(
        int(req["n"]), seed=int(req["seed"]), failure_rate=0.1, max_complete_after=float(req["spread"])
    )
    completes = {a["id"]: float(a["complete_after"]) for a in scenario["analyses"]}
    with Simulator(scenario, manual_clock=True) as sim:
        os.environ.update(sim.env())
        out = {mode: _run_mode(sim, mode, completes, float(req["interval"])) for mode in req["modes"]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
