"""pytest fixtures that run the local One Codex API simulator (registered as a ``pytest11`` plugin).

- ``onecodex_simulator_server`` (session): one simulator over real HTTP on loopback for the run;
- ``onecodex_simulator`` (function): that server, reset to the demo scenario before the test (no
  fault rules, empty request log, clock restarted): the fixture almost every test wants;
- ``onecodex_manual_clock`` (function): the reset simulator driven by a :class:`ManualClock` the
  test moves (``clock.advance(100)`` completes every demo analysis);
- ``onecodex_connection`` (function): the Airflow connection ``onecodex_default`` pointed at the
  simulator (through ``AIRFLOW_CONN_ONECODEX_DEFAULT``); call it to change key, host or extras;
- ``onecodex_simulator_factory`` (function): simulators of their own (another scenario, a clock),
  stopped after the test.

pytest loads this module in every run of every project that has the provider installed, so it
imports nothing heavy: the server (FastAPI, uvicorn) is imported inside the fixtures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from airflow_provider_onecodex.testing.scenario import Clock
    from airflow_provider_onecodex.testing.server import SimulatorServer
    from airflow_provider_onecodex.testing.state import ManualClock


class SimulatorFactory(Protocol):
    """Signature of the ``onecodex_simulator_factory`` fixture."""

    def __call__(
        self,
        scenario: str | Path | dict[str, Any] | None = None,
        clock: Clock | None = None,
        api_key: str | None = None,
    ) -> SimulatorServer: ...


class ConnectionSetter(Protocol):
    """Signature of the ``onecodex_connection`` fixture's value."""

    conn_id: str

    def __call__(
        self,
        *,
        conn_id: str = "onecodex_default",
        host: str | None = None,
        password: str | None = None,
        **extra: Any,
    ) -> str: ...


def connection_json(host: str | None, password: str | None, **extra: Any) -> str:
    """The JSON form of a ``onecodex`` connection, as ``AIRFLOW_CONN_<ID>`` takes it (``host=None``:
    the hook's default host)."""
    return json.dumps({"conn_type": "onecodex", "host": host, "password": password, "extra": extra})


@pytest.fixture(scope="session")
def onecodex_simulator_server() -> Iterator[SimulatorServer]:
    """One running simulator (demo scenario) for the whole test session; reset it per test."""
    from airflow_provider_onecodex.testing.server import SimulatorServer

    with SimulatorServer() as server:
        yield server


@pytest.fixture
def onecodex_simulator(onecodex_simulator_server: SimulatorServer) -> SimulatorServer:
    """The session simulator reset to the demo scenario (real clock, no faults, empty log)."""
    import time

    from airflow_provider_onecodex.testing.scenario import load_scenario

    # "demo" by name: a test may have reset the shared server to a scenario of its own
    onecodex_simulator_server.state.reset(load_scenario("demo"), clock=time.monotonic)
    return onecodex_simulator_server


@pytest.fixture
def onecodex_manual_clock(onecodex_simulator: SimulatorServer) -> ManualClock:
    """A :class:`ManualClock` at 0 s driving the reset session simulator (``onecodex_simulator``)."""
    from airflow_provider_onecodex.testing.state import ManualClock

    clock = ManualClock()
    onecodex_simulator.state.reset(clock=clock)
    return clock


@pytest.fixture
def onecodex_connection(
    monkeypatch: pytest.MonkeyPatch, onecodex_simulator: SimulatorServer
) -> ConnectionSetter:
    """``onecodex_default`` -> the simulator, with ``max_retries=1``; call to change it.

    ``onecodex_connection(password="wrong", max_retries=0)`` re-points the connection; ``conn_id``
    names another connection id, ``host`` another base URL. Returns the connection id.
    """

    def setter(
        *,
        conn_id: str = "onecodex_default",
        host: str | None = None,
        password: str | None = None,
        **extra: Any,
    ) -> str:
        extra.setdefault("max_retries", 1)
        if host is None:  # uploads go to the simulator's S3 endpoint (moto, started on first use)
            extra.setdefault("upload_s3_endpoint_url", onecodex_simulator.state.s3.endpoint_url)
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}",
            connection_json(
                onecodex_simulator.base_url if host is None else host,
                onecodex_simulator.api_key if password is None else password,
                **extra,
            ),
        )
        return conn_id

    setter.conn_id = "onecodex_default"  # type: ignore[attr-defined]
    setter()
    return setter  # type: ignore[return-value]


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
