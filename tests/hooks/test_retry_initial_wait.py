"""The ``retry_initial_wait`` connection extra: how long the first retry backs off (then doubling)."""

from __future__ import annotations

import time

import pytest

from airflow_provider_onecodex.api.config import EXTRA_FIELDS, OneCodexConfigError, config_from_connection
from airflow_provider_onecodex.get_provider_info import get_provider_info
from airflow_provider_onecodex.testing.faults import Fault
from tests._reliability import ALIGNMENTS, GOOD_ID, connect  # noqa: F401  (connect: a fixture)

KEY = "0123456789abcdef0123456789abcdef"


def policy(**extra):
    return config_from_connection(host=None, password=KEY, extra=extra).retry


def test_default_is_one_second_and_the_form_offers_it():
    assert policy().initial_wait == 1.0 == EXTRA_FIELDS["retry_initial_wait"][0]
    (conn,) = get_provider_info()["connection-types"]
    field = conn["conn-fields"]["retry_initial_wait"]
    assert field["schema"]["default"] == 1.0 and field["schema"]["minimum"] == 0


@pytest.mark.parametrize(
    ("value", "expected"), [(0.25, 0.25), ("0.5", 0.5), (0, 0.0), ("", 1.0), (None, 1.0)]
)
def test_values_are_read_as_seconds(value, expected):
    assert policy(retry_initial_wait=value).initial_wait == expected


@pytest.mark.parametrize("value", [-1, "-0.1", "abc", "nan", "inf", True, [1]])
def test_bad_values_are_refused_naming_the_extra(value):
    with pytest.raises(OneCodexConfigError, match="retry_initial_wait") as info:
        policy(retry_initial_wait=value)
    assert repr(value) in str(info.value) or str(float(value)) in str(info.value)


def test_the_hook_backs_off_from_the_configured_first_wait(onecodex_simulator, connect, monkeypatch):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    onecodex_simulator.state.faults.script(ALIGNMENTS, [Fault.http_error(503)] * 3)
    hook = OneCodexHook(connect(onecodex_simulator, retry_initial_wait=0.004))

    hook.get_alignment(GOOD_ID)

    assert onecodex_simulator.state.count() == 4 and len(sleeps) == 3
    # full jitter under a ceiling that doubles from the configured first wait
    assert all(0 <= s <= 0.004 * 2**n for n, s in enumerate(sleeps)), sleeps
