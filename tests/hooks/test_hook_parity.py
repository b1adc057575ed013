"""The async hook has what the triggers call and no more; DAG files stay cheap to parse."""

from __future__ import annotations

import inspect
import subprocess
import sys

from airflow_provider_onecodex.hooks.onecodex import OneCodexAsyncHook, OneCodexHook


def test_the_async_hook_has_only_what_deferrable_code_calls():
    """No sync/async mirror: the async hook serves the triggers, the sync hook everything."""
    public = {
        n
        for n in vars(OneCodexAsyncHook)
        if not n.startswith("_") and callable(getattr(OneCodexAsyncHook, n))
    }
    assert public == {"aget_config"}  # the triggers' ConnectionClient and the event poll read it
    for name in public:
        assert inspect.iscoroutinefunction(getattr(OneCodexAsyncHook, name)), name
    assert len([n for n in dir(OneCodexHook) if n.startswith(("get_", "list_", "download_"))]) >= 35


def test_public_hook_methods_are_keyword_only_after_their_first_id():
    # get_results(resource, analysis_id), fetch_results(...), run_job(job_id, sample_id)
    positional_ok = {"resource", "analysis_id", "job_id"}
    for name in dir(OneCodexHook):
        member = getattr(OneCodexHook, name)
        if name.startswith("_") or not inspect.isfunction(member) or name in {"get_connection", "get_hook"}:
            continue
        params = [p for p in inspect.signature(member).parameters.values() if p.name != "self"]
        positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert len([p for p in positional if p not in positional_ok]) <= 1, (name, positional)


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
