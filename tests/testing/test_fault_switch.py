"""Faults switched on and off at run time through the simulator's admin routes, as an
out-of-process test or demo would, are seen by the hook and counted."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_onecodex.api.errors import OneCodexServerError
from tests._reliability import ALIGNMENTS, GOOD_ID, connect  # noqa: F401  (connect: a fixture)


def test_admin_routes_switch_faults_at_run_time_and_count_them(onecodex_simulator, connect):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    admin = onecodex_simulator.base_url + "/_sim"
    hook = OneCodexHook(connect(onecodex_simulator, max_retries=1))
    assert hook.get_alignment(GOOD_ID)["$uri"].endswith(GOOD_ID)

    rule = {
        "mode": "rate",
        "rate": 1.0,
        "kinds": [{"status": 504, "body": "empty"}],
        "path_prefix": ALIGNMENTS,
    }
    requests.post(admin + "/faults", json=rule, timeout=5).raise_for_status()
    with pytest.raises(OneCodexServerError) as info:
        hook.get_alignment(GOOD_ID)
    assert info.value.status == 504 and info.value.message == "empty response body"

    requests.delete(admin + "/faults", timeout=5).raise_for_status()
    assert hook.get_alignment(GOOD_ID)["$uri"].endswith(GOOD_ID)

    stats = requests.get(admin + "/stats", timeout=5).json()
    assert stats["faults"] == {"total": 2, "by_kind": {"status": 2}} and stats["rules"] == []
    assert stats["requests"]["total"] == 4 and stats["requests"]["by_status"] == {"200": 2, "504": 2}
