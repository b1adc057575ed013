"""Shared helpers of the benchmarks: statistics, the simulator process, worker subprocesses."""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONN_ID = "onecodex_bench"
# One scratch folder per `python -m bench` run (AIRFLOW_HOME, scenario files), shared with workers.
HOME = Path(os.environ.get("ONECODEX_BENCH_HOME") or tempfile.mkdtemp(prefix="onecodex-bench-"))


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); for 10 values, p99 is the largest."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def airflow_env(url: str | None = None, api_key: str | None = None) -> dict[str, str]:
    """Environment of a benchmark worker: a throwaway AIRFLOW_HOME and the bench connection."""
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(HOME),
        ONECODEX_BENCH_HOME=str(HOME),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="True",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.pop("ONE_CODEX_API_KEY", None)
    if url is not None and api_key is not None:
        env["AIRFLOW_CONN_" + CONN_ID.upper()] = json.dumps(
            {"conn_type": "onecodex", "host": url, "password": api_key}
        )
    return env


def write_scenario(scenario: dict[str, Any]) -> Path:
    path = HOME / f"{scenario['name']}.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    return path


class Simulator:
    """The simulator in its own process (see :mod:`bench.simproc`); a context manager."""

    def __init__(self, scenario: dict[str, Any], *, manual_clock: bool = False, held_clock: bool = False):
        args = [sys.executable, "-m", "bench.simproc", str(write_scenario(scenario))]
        if manual_clock:
            args.append("--manual-clock")
        if held_clock:
            args.append("--held-clock")
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=airflow_env(),
        )
        hello = self._read()
        self.url: str = hello["url"]
        self.api_key: str = hello["api_key"]

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process exited")
        return json.loads(line)  # type: ignore[no-any-return]

    def command(self, text: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self._read()

    def env(self) -> dict[str, str]:
        return airflow_env(self.url, self.api_key)

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError, RuntimeError, ValueError):
                self.command("quit")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_worker(
    module: str, args: dict[str, Any], env: dict[str, str], python: str | None = None, timeout: float = 300
) -> Any:
    """Run ``python -m module`` with ``args`` as JSON on stdin; return the JSON of its last stdout line."""
    proc = subprocess.run(
        [python or sys.executable, "-m", module] if python is None else [python, module],
        input=json.dumps(args),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{module} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def fmt(value: float, unit: str = "", digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.{digits}g}"
    return text + unit


def ratio(a: float, b: float) -> float:
    if not b or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b
