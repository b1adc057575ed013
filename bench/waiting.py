"""Deferred waits at scale: N waits in one triggerer process (driver of :mod:`bench.triggerer`).

For each N a simulator process holds N alignments: ``N - N/10`` never complete, ``N/10`` complete
at uniform random times over ``spread`` seconds after its clock starts (10 % of them failing).
Each run starts a fresh worker (Airflow's ``TriggerRunner`` with N triggers), waits until every
trigger has polled twice with the simulator's clock held at 0, starts the clock, and measures a
window of ``spread + 3 * interval`` seconds. Variants at the same N alternate (A B C A B C) so
drift on a shared machine spreads over all of them. The anchors run in ``bench/.venv-http``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from typing import Any

from bench._common import ROOT, Simulator

LOG_SCALE = 60  # ours: reminders 60x more often, so a window of W seconds shows W minutes of logs


def scenario(n: int, spread: float, seed: int) -> tuple[dict[str, Any], list[str], dict[str, float]]:
    from bench.scenarios import make_bulk_scenario

    sc = make_bulk_scenario(n, seed=seed, failure_rate=0.1, max_complete_after=spread)
    rng = random.Random(seed)
    done: dict[str, float] = {}
    never: list[str] = []
    for k, a in enumerate(sc["analyses"]):
        if k % 10 == 0:
            a["complete_after"] = round(1.0 + rng.random() * (spread - 1.0), 3)
            done[a["id"]] = a["complete_after"]
        else:
            a["complete_after"] = None
            never.append(a["id"])
    return sc, never, done


def _env(sim: Simulator) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = sim.env()
    env["AIRFLOW_CONN_HTTP_BENCH"] = json.dumps(
        {"conn_type": "http", "host": sim.url, "login": sim.api_key, "password": ""}
    )
    env["AIRFLOW__CORE__FERNET_KEY"] = Fernet.generate_key().decode()
    env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "INFO"  # as a triggerer runs: the provider logs at INFO
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _read(proc: subprocess.Popen[str], key: str, variant: str) -> dict[str, Any]:
    """The next JSON line of the worker holding ``key`` (other output is skipped)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            data = json.loads(line)
            if key in data:
                return data  # type: ignore[no-any-return]
    err = proc.stderr.read()[-3000:] if proc.stderr else ""
    raise RuntimeError(f"bench.triggerer ({variant}) exited before '{key}': {err}")


def run_once(
    sim: Simulator,
    variant: str,
    python: str,
    never: list[str],
    done: dict[str, float],
    interval: float,
    window: float,
) -> dict[str, Any]:
    """One worker run; the simulator's clock is held until the worker is ready."""
    sim.command("hold")
    req = {
        "variant": variant,
        "interval": interval,
        "never": never,
        "done": done,
        "window": window,
        "log_scale": LOG_SCALE if variant == "ours" else 1,
    }
    proc = subprocess.Popen(
        [python, "-m", "bench.triggerer"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(sim),
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps(req) + "\n")
        proc.stdin.flush()
        _read(proc, "ready", variant)
        t0 = sim.command("go")["t0"]
        proc.stdin.write(json.dumps({"t0": t0}) + "\n")
        proc.stdin.flush()
        result = _read(proc, "events", variant)
        proc.wait(timeout=120)
        if os.environ.get("BENCH_ASYNCIO_DEBUG") and proc.stderr is not None:
            sys.stderr.write(proc.stderr.read()[-20000:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result["requests"] = [at for at, _m, _p in sim.command("log")["requests"] if 0 <= at <= window]
    result["latencies"] = [at - (t0 + done[i]) for i, (at, _s) in result.pop("events").items() if i in done]
    result["unfinished"] = len(done) - len(result["latencies"])  # completed, but no event in the window
    return result


def measure(
    ns: list[int],
    variants: dict[int, list[str]],
    pythons: dict[str, str],
    reps: dict[int, int],
    interval: float,
    spread: float,
    seed: int,
    log: Any,
) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """``out[variant][n]``: one result per repetition."""
    window = spread + 3 * interval
    out: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for n in ns:
        sc, never, done = scenario(n, spread, seed)
        with Simulator(sc, held_clock=True) as sim:
            for rep in range(reps[n]):
                for variant in variants[n]:
                    log(f"waiting: {variant} N={n:,} run {rep + 1}/{reps[n]} (~{window + 10:.0f} s)")
                    result = run_once(sim, variant, pythons[variant], never, done, interval, window)
                    out.setdefault(variant, {}).setdefault(n, []).append(result)
    return out


if __name__ == "__main__":  # a smoke run: python -m bench.waiting ours 1000
    variant, n = sys.argv[1], int(sys.argv[2])
    python = sys.executable if variant == "ours" else str(ROOT / "bench" / ".venv-http" / "bin" / "python")
    res = measure([n], {n: [variant]}, {variant: python}, {n: 1}, 2.0, 20.0, 3, print)
    r = res[variant][n][0]
    lags = sorted(r["lags"])
    r["lags"] = [lags[len(lags) // 2], lags[int(len(lags) * 0.99)], lags[-1]] if lags else []
    r["requests"] = len(r["requests"])
    r["latencies"] = sorted(r["latencies"])[len(r["latencies"]) // 2] if r["latencies"] else None
    print(json.dumps(r, indent=1)[:3000])
