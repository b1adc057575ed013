"""Simulator, connection and scripted reads shared by the sensor tests (the modes are driven by
the ``drive`` fixture, tests/_modes.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_onecodex.api.ids import record_id
from airflow_provider_onecodex.testing.server import SimulatorServer

DEMO_SAMPLE = "a1b2c3d4e5f60718"
ANALYSIS_ROUTES = ("analyses", "alignments", "classifications", "panels")


@pytest.fixture(autouse=True)
def retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Clients built by hooks retry without sleeping; the waits they asked for are recorded."""
    from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient
    from airflow_provider_onecodex.api.client import OneCodexClient

    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def asleep(seconds: float) -> None:
        waits.append(seconds)

    sync_init, async_init = OneCodexClient.__init__, AsyncOneCodexClient.__init__

    def init(self: OneCodexClient, config: Any, *, sleep: Any = sleep) -> None:
        sync_init(self, config, sleep=sleep)

    def ainit(self: AsyncOneCodexClient, config: Any, *, sleep: Any = asleep) -> None:
        async_init(self, config, sleep=sleep)

    monkeypatch.setattr(OneCodexClient, "__init__", init)
    monkeypatch.setattr(AsyncOneCodexClient, "__init__", ainit)
    return waits


class ScriptedReads:
    """Counts the analysis reads the simulator serves and changes its state at chosen reads.

    A "read" is one listing or GET of an analysis route that got past auth and fault injection:
    one poll of a sensor or trigger. ``at(k, action)`` runs ``action`` just before read ``k`` is
    served, so the answers a wait sees are fixed by the read number, whichever mode polls.
    """

    def __init__(self, server: SimulatorServer) -> None:
        self.state = server.state
        self.count = 0
        self._lock = threading.Lock()
        self._actions: dict[int, list[Callable[[], object]]] = {}
        self._overrides: dict[str, dict[str, Any]] = {}
        self._list_json, self._get_json = self.state.list_json, self.state.get_json

    def at(self, read: int, action: Callable[[], object]) -> None:
        self._actions.setdefault(read, []).append(action)

    def override(self, analysis_id: str, **fields: Any) -> None:
        """Serve ``fields`` over the record of ``analysis_id`` (e.g. a malformed ``complete``)."""
        self._overrides.setdefault(analysis_id, {}).update(fields)

    def record(self, resource: str, analysis_id: str) -> dict[str, Any]:
        """The record as the API serves it now (not counted as a read)."""
        return self._apply(self._get_json(resource, analysis_id))

    def _tick(self, resource: str) -> None:
        if resource not in ANALYSIS_ROUTES:
            return
        with self._lock:
            self.count += 1
            actions = self._actions.pop(self.count, [])
        for action in actions:
            action()

    def _apply(self, record: dict[str, Any]) -> dict[str, Any]:
        fields = self._overrides.get(record_id(record) or "")
        return {**record, **fields} if fields else record

    def list_json(self, resource: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        self._tick(resource)
        return [self._apply(r) for r in self._list_json(resource, *args, **kwargs)]

    def get_json(self, resource: str, analysis_id: str) -> dict[str, Any]:
        self._tick(resource)
        return self._apply(self._get_json(resource, analysis_id))


@pytest.fixture
def reads(sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedReads:
    scripted = ScriptedReads(sim)
    monkeypatch.setattr(sim.state, "list_json", scripted.list_json)
    monkeypatch.setattr(sim.state, "get_json", scripted.get_json)
    return scripted
