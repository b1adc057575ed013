"""Shared pieces of the reliability tests: connections, simulated time, and running a sensor to
its end in each mode the way Airflow would (poke loop, reschedule re-executions, defer -> trigger ->
``execute_complete``)."""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_onecodex.testing.server import SimulatorServer

ALIGNMENTS = "/api/v1/alignments"
# Demo scenario: an alignment that succeeds after 3 s and one that fails after 4 s of simulated time.
GOOD_ID = "a1a1000000001280"
FAILED_ID = "a1a1000000001639"
FAILED_MSG = "Reference genome coverage too low to call an alignment."
SAMPLE_ID = "a1b2c3d4e5f60718"
LATER = 1_000.0  # simulated seconds after which every demo alignment is complete
MODES = ("poke", "reschedule", "deferrable")
TRIGGER_TIMEOUT = 30.0  # a wait in these tests that has not ended by then is a hang: fail the test


class RequestClock:
    """Simulated time driven by the simulator's own request log.

    Reads 0 until ``n`` requests under ``prefix`` have arrived, then ``LATER``: an analysis is
    pending in the answers to the first ``n - 1`` requests and complete in the answer to the n-th
    one, however long the client waits between them.
    """

    def __init__(self, n: int, prefix: str = ALIGNMENTS) -> None:
        self.n = n
        self.prefix = prefix
        self.sim: SimulatorServer | None = None

    def __call__(self) -> float:
        if self.sim is None:
            return 0.0
        return LATER if self.sim.state.count(self.prefix) >= self.n else 0.0


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Define an Airflow connection (environment variable) to a simulator; returns its id.

    ``password`` defaults to the simulator's key (``None`` leaves it out); extras are keyword
    arguments. Retries back off for 10 ms by default so that tests do not sleep for real.
    """

    def connect(
        sim: SimulatorServer | None,
        conn_id: str = "onecodex_rel",
        *,
        password: str | object | None = ...,
        host: str | None = None,
        **extra: Any,
    ) -> str:
        extra.setdefault("retry_initial_wait", 0.01)
        conn: dict[str, Any] = {"conn_type": "onecodex", "extra": extra}
        conn["host"] = host if host is not None else (sim.base_url if sim else "http://127.0.0.1:9")
        pw = (sim.api_key if sim else None) if password is ... else password
        if pw is not None:
            conn["password"] = pw
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return connect


class SwitchClock:
    """The clock of the shared simulator: 0 until a test plugs in its own clock (which must read 0
    until the test moves it, as :class:`RequestClock` and ``ManualClock()`` do)."""

    def __init__(self) -> None:
        self.clock: Callable[[], float] | None = None

    def __call__(self) -> float:
        return self.clock() if self.clock is not None else 0.0


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[SimulatorServer]:
    """One demo simulator for the tests of this folder (starting and stopping one costs ~0.3 s)."""
    with SimulatorServer(clock=SwitchClock()) as sim:
        yield sim


@pytest.fixture
def fresh_sim(shared_sim: SimulatorServer) -> Iterator[SimulatorServer]:
    """The shared simulator with no fault rules, no logged requests and time standing at 0."""
    state = shared_sim.state
    clock = state._clock
    assert isinstance(clock, SwitchClock)
    state.faults.clear()
    state.reset_counters()
    clock.clock = None
    yield shared_sim
    state.faults.clear()
    clock.clock = None


@pytest.fixture
def onecodex_simulator(fresh_sim: SimulatorServer) -> SimulatorServer:
    """Overrides the plugin's fixture in this folder: the demo scenario, no faults, pending analyses."""
    return fresh_sim


@pytest.fixture
def timed_sim(fresh_sim: SimulatorServer) -> Callable[..., SimulatorServer]:
    """The demo simulator with its time given by ``clock`` (a :class:`RequestClock`, a
    ``ManualClock()``...)."""

    def make(clock: Any = None) -> SimulatorServer:
        if hasattr(clock, "sim"):  # a RequestClock: let it read this simulator's request log
            clock.sim = fresh_sim
        switch = fresh_sim.state._clock
        assert isinstance(switch, SwitchClock)
        assert clock is None or clock() == 0.0, "a test's clock must read 0 when the test starts"
        switch.clock = clock
        return fresh_sim

    return make


def alignment_sensor(conn_id: str, alignment_id: str, **defaults: Any) -> Callable[..., Any]:
    """A factory of alignment sensors (fresh per try, as Airflow builds them) with short intervals."""
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    def make(**kw):
        return OneCodexAlignmentSensor(
            task_id="wait",
            alignment_id=alignment_id,
            onecodex_conn_id=conn_id,
            poke_interval=0.05,
            timeout=30,
            **{**defaults, **kw},
        )

    return make


class FakeTI:
    """Just enough of a task instance for ``mode="reschedule"``: when the first try started."""

    def __init__(self) -> None:
        self.first = datetime.now(timezone.utc)

    def get_first_reschedule_date(self, context: Any) -> datetime:
        return self.first


def first_event(trigger: Any, timeout: float = TRIGGER_TIMEOUT) -> Any:
    """Run a trigger as the triggerer does: rebuilt from ``serialize()``, run to its first event,
    then closed (so it leaves the shared poller). Returns the ``TriggerEvent``."""
    classpath, kwargs = trigger.serialize()
    json.dumps(kwargs)  # trigger kwargs must be JSON-native
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)

    async def run() -> Any:
        events = rebuilt.run()
        try:
            return await asyncio.wait_for(events.__anext__(), timeout)
        finally:
            await events.aclose()

    return asyncio.run(run())


class Waits:
    """Runs a sensor to its end in one mode; records the trigger and events for inspection."""

    def __init__(self) -> None:
        self.triggers: list[Any] = []
        self.events: list[Any] = []
        self.executions = 0

    def run(self, make: Callable[..., Any], mode: str, context: dict[str, Any] | None = None) -> Any:
        """``make(**kw)`` builds a fresh sensor (Airflow builds one per try and per resume)."""
        from airflow.sdk.exceptions import AirflowRescheduleException, TaskDeferred

        context = dict(context or {})
        if mode == "poke":
            self.executions += 1
            return make(mode="poke").execute(context)
        if mode == "reschedule":
            context["ti"] = FakeTI()
            for _ in range(200):
                self.executions += 1
                try:
                    return make(mode="reschedule").execute(context)
                except AirflowRescheduleException:
                    continue
            raise AssertionError("the sensor kept rescheduling")
        assert mode == "deferrable", mode
        self.executions += 1
        try:
            return make(deferrable=True).execute(context)
        except TaskDeferred as deferred:
            self.triggers.append(deferred.trigger)
            event = first_event(deferred.trigger)
            self.events.append(event.payload)
            resumed = make(deferrable=True)
            return getattr(resumed, deferred.method_name)(context, event.payload)


@pytest.fixture
def waits() -> Iterator[Waits]:
    yield Waits()
