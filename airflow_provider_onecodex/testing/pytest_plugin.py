"""pytest fixtures that run the local One Codex API simulator (registered as a ``pytest11`` plugin).

pytest loads this module in every run of every project that has the provider installed, so it
imports nothing heavy: the server (FastAPI, uvicorn) is imported inside the fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from airflow_provider_onecodex.testing.scenario import Clock
    from airflow_provider_onecodex.testing.server import SimulatorServer


class SimulatorFactory(Protocol):
    """Signature of the ``onecodex_simulator_factory`` fixture."""

    def __call__(
        self,
        scenario: str | Path | dict[str, Any] | None = None,
        clock: Clock | None = None,
        api_key: str | None = None,
    ) -> SimulatorServer: ...


@pytest.fixture
def onecodex_simulator() -> Iterator[SimulatorServer]:
    """A running simulator with the bundled demo scenario and no faults; stopped after the test."""
    from airflow_provider_onecodex.testing.server import SimulatorServer

    with SimulatorServer() as server:
        server.state.faults.clear()
        yield server


@pytest.fixture
def onecodex_simulator_factory() -> Iterator[SimulatorFactory]:
    """Start simulators with a chosen scenario (path, dict, ``"demo"`` or None) and clock.

    Every simulator started through the factory is stopped when the test ends.
    """
    from airflow_provider_onecodex.testing.server import SimulatorServer

    started: list[SimulatorServer] = []

    def factory(
        scenario: str | Path | dict[str, Any] | None = None,
        clock: Callable[[], float] | None = None,
        api_key: str | None = None,
    ) -> SimulatorServer:
        server = SimulatorServer(scenario=scenario, api_key=api_key, clock=clock)
        server.start()
        started.append(server)
        return server

    yield factory
    for server in reversed(started):
        server.stop()
