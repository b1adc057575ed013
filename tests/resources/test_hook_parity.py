"""The sync and the async hook offer the same methods; DAG files stay cheap to parse."""

from __future__ import annotations

import inspect
import subprocess
import sys

from airflow_provider_onecodex.hooks.onecodex import OneCodexAsyncHook, OneCodexHook
from airflow_provider_onecodex.hooks.resources import OneCodexAsyncResourcesMixin, OneCodexResourcesMixin


def _public(cls) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if not name.startswith("_") and callable(member)
    }


def test_sync_and_async_resource_methods_match():
    sync, asynchronous = _public(OneCodexResourcesMixin), _public(OneCodexAsyncResourcesMixin)
    assert sorted(sync) == sorted(asynchronous)
    assert len(sync) >= 35
    for name, signature in sync.items():
        assert str(signature) == str(asynchronous[name]), name
        assert inspect.iscoroutinefunction(getattr(OneCodexAsyncResourcesMixin, name)), name
    for name in sync:  # both hooks expose them
        assert hasattr(OneCodexHook, name) and hasattr(OneCodexAsyncHook, name)


def test_operator_and_sensor_modules_import_no_http_or_storage_stack():
    code = """
import sys
import airflow.sdk  # the baseline every DAG file pays anyway
before = set(sys.modules)
import airflow_provider_onecodex.operators.onecodex
import airflow_provider_onecodex.sensors.onecodex
import airflow_provider_onecodex.operators.storage
added = set(sys.modules) - before
heavy = ("requests", "fastapi", "uvicorn", "starlette", "airflow_provider_onecodex.hooks",
         "airflow_provider_onecodex.api.downloads", "airflow_provider_onecodex.api.client", "tenacity.asyncio")
print(sorted(m for m in added if m.startswith(heavy)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
