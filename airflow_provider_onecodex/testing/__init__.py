"""Local One Codex API simulator for demos and tests (Airflow-free).

- :class:`~airflow_provider_onecodex.testing.server.SimulatorServer`: real HTTP on loopback.
- :class:`~airflow_provider_onecodex.testing.state.SimulatorState`: records, clock, run-time
  changes (``add_alignment``, ``set_outcome``), request log and fault injector (``.faults``).
- :func:`~airflow_provider_onecodex.testing.scenario.load_scenario`: scenarios.
- ``python -m airflow_provider_onecodex.testing.simulator``: the same from the command line.

Submodules are imported lazily, so ``import airflow_provider_onecodex.testing`` (done by the
pytest plugin) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_onecodex.testing.faults import Fault, FaultInjector
    from airflow_provider_onecodex.testing.scenario import Scenario, load_scenario
    from airflow_provider_onecodex.testing.server import SimulatorServer
    from airflow_provider_onecodex.testing.state import ManualClock, SimulatorState

_EXPORTS = {
    "Fault": "faults",
    "FaultInjector": "faults",
    "ManualClock": "state",
    "Scenario": "scenario",
    "SimulatorState": "state",
    "load_scenario": "scenario",
    "SimulatorServer": "server",
}
__all__ = [
    "Fault",
    "FaultInjector",
    "ManualClock",
    "Scenario",
    "SimulatorServer",
    "SimulatorState",
    "load_scenario",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
