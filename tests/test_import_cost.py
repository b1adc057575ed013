"""Parse-time hygiene (issue 6): what a DAG file imports from the provider pulls in no heavy package.

DAG files import the operators and sensors on every parse. This test is not timed: it compares the
modules loaded in a fresh interpreter by ``import airflow.sdk`` alone with those loaded when our
operator and sensor modules are imported on top, and fails if ours add any of the packages that
belong in the trigger, the async hook, the sync client or the simulator. (The timing is measured by
``make bench``; see docs/benchmarks.md.)
"""

from __future__ import annotations

import json
import subprocess
import sys

DAG_FILE_IMPORTS = (
    "airflow_provider_onecodex.operators.onecodex",
    "airflow_provider_onecodex.sensors.onecodex",
    "airflow_provider_onecodex.triggers.events",  # event-driven DAGs build their watchers at parse time
)
HEAVY = ("httpx", "fastapi", "uvicorn", "starlette", "tenacity.asyncio", "requests")

_PROBE = """
import importlib, json, sys
import airflow.sdk
for name in {modules!r}:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(*modules: str) -> set[str]:
    """Names in ``sys.modules`` of a fresh interpreter after ``import airflow.sdk`` and ``modules``."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(modules=modules)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def _heavy(names: set[str]) -> set[str]:
    return {n for n in names for pkg in HEAVY if n == pkg or n.startswith(pkg + ".")}


def test_dag_file_imports_add_no_heavy_package() -> None:
    sdk_only = _modules_after()
    ours = _modules_after(*DAG_FILE_IMPORTS)
    assert set(DAG_FILE_IMPORTS) <= ours  # the probe did import our modules
    added = ours - sdk_only
    assert not _heavy(added), (
        f"importing {', '.join(DAG_FILE_IMPORTS)} newly loads {sorted(_heavy(added))}: "
        "import these inside the methods that use them"
    )


def test_probe_sees_heavy_imports() -> None:
    """The comparison can fail: importing a heavy package on top of airflow.sdk is caught."""
    sdk_only = _modules_after()
    with_fastapi = _modules_after("fastapi")
    assert {"fastapi", "starlette"} <= _heavy(with_fastapi - sdk_only)
