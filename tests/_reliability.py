"""Shared pieces of the reliability tests (tests/hooks, tests/operators, tests/sensors,
tests/testing): the demo ids, simulated time driven by the request log, connections to a
simulator (``connect``, imported by those modules: tests/sensors and tests/triggers have another
``connect``), and a factory of alignment sensors. The simulator is the plugin's session one
(``fresh_sim``, ``timed_sim``, ``done_sim`` in tests/conftest.py); sensors run through the one
mode driver (``waits``, tests/_modes.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_onecodex.testing.pytest_plugin import connection_json
from airflow_provider_onecodex.testing.server import SimulatorServer

ALIGNMENTS = "/api/v1/alignments"
# Demo scenario: an alignment that succeeds after 3 s and one that fails after 4 s of simulated time.
GOOD_ID = "a1a1000000001280"
FAILED_ID = "a1a1000000001639"
FAILED_MSG = "Reference genome coverage too low to call an alignment."
SAMPLE_ID = "a1b2c3d4e5f60718"
LATER = 1_000.0  # simulated seconds after which every demo alignment is complete


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
        host = host if host is not None else (sim.base_url if sim else "http://127.0.0.1:9")
        pw = (sim.api_key if sim else None) if password is ... else password
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(host, pw, **extra))
        return conn_id

    return connect


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


async def run_as_trigger(conn_id: str, op: Any) -> Any:
    """``op`` run the way the triggers run it: the connection read now (``ConnectionClient``), then
    the async client; closed afterwards."""
    from airflow_provider_onecodex.triggers.connection import ConnectionClient

    connection = ConnectionClient(conn_id)
    try:
        return await (await connection.current()).run(op)
    finally:
        await connection.aclose()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``condition()`` holds (checked every 5 ms), else fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
