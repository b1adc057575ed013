"""Issue 6: what a DAG file's imports cost at parse time, in fresh interpreters.

Each measurement is a new ``python`` process that times ``import airflow.sdk`` and then, in the
same process, the modules under test (so only what they add on top of ``airflow.sdk`` counts).
Configurations run interleaved, one warm-up round first (bytecode caches, AIRFLOW_HOME), medians
reported.
The anchor is ``airflow.providers.http.operators.http`` when installed, else the standard
provider's ``airflow.providers.standard.operators.python``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Any

from bench._common import HOME, ROOT, airflow_env, median

OURS = ("airflow_provider_onecodex.operators.onecodex", "airflow_provider_onecodex.sensors.onecodex")
ANCHORS = ("airflow.providers.http.operators.http", "airflow.providers.standard.operators.python")

_EMPTY = HOME / "no-pycache"  # an empty PYTHONPYCACHEPREFIX: no bytecode cache is found

_PROBE = """
import importlib, json, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
before = set(sys.modules)
for name in {modules!r}:
    importlib.import_module(name)
t2 = time.perf_counter()
print(json.dumps({{"sdk": t1 - t0, "extra": t2 - t1, "added": sorted(set(sys.modules) - before)}}))
"""


def anchor_module() -> str:
    for name in ANCHORS:
        try:
            if importlib.util.find_spec(name) is not None:
                return name
        except ModuleNotFoundError:
            continue
    raise RuntimeError(f"none of {ANCHORS} is installed")


def _env(bytecode: bool = True) -> dict[str, str]:
    """As a deployed DAG processor runs: bytecode caches written and used.

    With ``PYTHONDONTWRITEBYTECODE`` set (as on some CI machines), the editable checkout's modules
    would be compiled from source on every parse while Airflow's own come precompiled from
    site-packages, which is neither fair nor what a deployment sees. The caches land in the
    git-ignored ``__pycache__`` folders; the warm-up round writes them.
    """
    env = airflow_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not bytecode:  # no cache to read or write: everything is compiled from source
        env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(_EMPTY))
    return env


def _probe(modules: tuple[str, ...], bytecode: bool = True) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(modules=modules)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(bytecode),
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _importtime(modules: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """``python -X importtime`` of ``modules`` after airflow.sdk: (module, self_us, cumulative_us)."""
    code = "import airflow.sdk\nimport sys\nprint('--mark--', file=sys.stderr)\n" + "".join(
        f"import {m}\n" for m in modules
    )
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
        check=True,
    )
    rows = []
    after = proc.stderr.split("--mark--", 1)[-1]
    for line in after.splitlines():
        if not line.startswith("import time:"):
            continue
        self_us, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((name.strip(), int(self_us), int(cumulative)))
    return rows


def measure(runs: int = 7, cold_runs: int = 3) -> dict[str, Any]:
    anchor = anchor_module()
    configs: dict[str, tuple[str, ...]] = {"sdk": (), "ours": OURS, "anchor": (anchor,)}
    for modules in configs.values():  # warm-up round, discarded
        _probe(modules)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    for _ in range(runs):
        for name, modules in configs.items():
            samples[name].append(_probe(modules))
    cold: dict[str, list[float]] = {"ours": [], "anchor": []}
    for _ in range(cold_runs):  # ~5 s each: Airflow itself is compiled from source too
        cold["ours"].append(_probe(OURS, bytecode=False)["extra"])
        cold["anchor"].append(_probe((anchor,), bytecode=False)["extra"])
    top = sorted(_importtime(OURS), key=lambda row: -row[1])[:6]
    return {
        "anchor": anchor,
        "http_installed": anchor == ANCHORS[0],
        "runs": runs,
        "sdk_s": [s["sdk"] for s in samples["sdk"]],
        "ours_s": [s["extra"] for s in samples["ours"]],
        "anchor_s": [s["extra"] for s in samples["anchor"]],
        "cold_runs": cold_runs,
        "ours_cold_s": cold["ours"],
        "anchor_cold_s": cold["anchor"],
        "ours_added": samples["ours"][0]["added"],
        "anchor_added": len(samples["anchor"][0]["added"]),
        "top_self": top,
    }


if __name__ == "__main__":
    result = measure()
    print(json.dumps(result))
    print(f"ours on top of airflow.sdk: {median(result['ours_s']) * 1000:.1f} ms", file=sys.stderr)
