"""Simulator and connection fixtures for the trigger and poller tests, on the plugin's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_onecodex.testing.server import SimulatorServer


@pytest.fixture
def sim(onecodex_simulator: SimulatorServer) -> Iterator[SimulatorServer]:
    """The plugin's session simulator, reset; no poller may outlive a test."""
    from airflow_provider_onecodex.triggers import poller

    yield onecodex_simulator
    assert not poller._POLLERS, f"pollers left behind: {list(poller._POLLERS)}"


@pytest.fixture
def connect(onecodex_connection: Any, sim: SimulatorServer) -> Callable[..., str]:
    """``onecodex_default`` -> the simulator; no client-side retries unless asked for, so every
    injected fault reaches the trigger."""

    def connect(password: str | None = None, **extra: Any) -> str:
        extra.setdefault("max_retries", 0)
        return onecodex_connection(password=password, **extra)

    connect()
    return connect
