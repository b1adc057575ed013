"""Fixtures for the sample-workflow API tests: a simulator whose clock the tests move, and the
``onecodex_default`` connection pointed at it (or at a requests-mock host)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_onecodex.testing.server import SimulatorServer
from airflow_provider_onecodex.testing.state import ManualClock

MOCK_BASE = "http://onecodex.test"
MOCK_KEY = "5eed5eed5eed5eed5eed5eed5eed5eed"


def connection(base_url: str, api_key: str, **extra: object) -> str:
    extra.setdefault("max_retries", 1)
    return json.dumps({"conn_type": "onecodex", "host": base_url, "password": api_key, "extra": extra})


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    """Shared, read-mostly simulator: every demo analysis is complete (its clock is 100 s in)."""
    clock = ManualClock()
    with SimulatorServer(clock=clock) as server:
        clock.advance(100)
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fresh(clock: ManualClock) -> Iterator[SimulatorServer]:
    """A simulator of its own for tests that write or move the clock (starts at 0 s)."""
    with SimulatorServer(clock=clock) as server:
        yield server


@pytest.fixture
def use_sim(monkeypatch: pytest.MonkeyPatch, sim: SimulatorServer) -> SimulatorServer:
    sim.state.reset_counters()
    monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", connection(sim.base_url, sim.api_key))
    return sim


@pytest.fixture
def use_fresh(monkeypatch: pytest.MonkeyPatch, fresh: SimulatorServer) -> SimulatorServer:
    monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", connection(fresh.base_url, fresh.api_key))
    return fresh


@pytest.fixture
def use_mock(monkeypatch: pytest.MonkeyPatch, requests_mock):
    """``onecodex_default`` -> ``http://onecodex.test``, answered by requests-mock (no retries)."""
    monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", connection(MOCK_BASE, MOCK_KEY, max_retries=0))
    return requests_mock
