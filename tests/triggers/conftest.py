"""Simulator and connection fixtures for the trigger and poller tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_onecodex.testing.server import SimulatorServer


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer() as sim:
        yield sim


@pytest.fixture
def sim(server: SimulatorServer) -> Iterator[SimulatorServer]:
    """The module's simulator with no fault rules and zeroed counters; no poller may outlive a test."""
    from airflow_provider_onecodex.triggers import poller

    server.state.faults.clear()
    server.state.reset_counters()
    yield server
    assert not poller._POLLERS, f"pollers left behind: {list(poller._POLLERS)}"


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch, sim: SimulatorServer) -> Callable[..., None]:
    """Point ``onecodex_default`` at the simulator; no client-side retries unless asked for, so
    every injected fault reaches the trigger."""

    def connect(password: str | None = None, **extra: Any) -> None:
        extra.setdefault("max_retries", 0)
        conn = {
            "conn_type": "onecodex",
            "host": sim.base_url,
            "password": sim.api_key if password is None else password,
            "extra": extra,
        }
        monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", json.dumps(conn))

    connect()
    return connect
