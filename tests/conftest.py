"""Test-wide Airflow settings: a throwaway AIRFLOW_HOME, set before anything imports airflow."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="onecodex-airflow-home-"))
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `bench` (its scenarios, the official client's venv) is not installed
    sys.path.insert(0, str(ROOT))

os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags_examples")
os.environ["AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES"] = "airflow.*"
# The One Codex client's own credential sources must never be read: make sure they are absent.
os.environ.pop("ONE_CODEX_API_KEY", None)

import json  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from airflow_provider_onecodex.testing.server import SimulatorServer  # noqa: E402
from airflow_provider_onecodex.testing.state import ManualClock  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Named here rather than in pyproject.toml: resolving the class imports airflow, which must
    # happen after AIRFLOW_HOME is set above.
    config.addinivalue_line("filterwarnings", "error::airflow.exceptions.AirflowProviderDeprecationWarning")


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh SQLite metadata DB, for tests that run DAGs (``dag.test()``)."""
    from airflow.utils import db

    db.resetdb()


# -- moved verbatim from tests/resources/conftest.py: a simulator whose clock the tests move, and the
# ``onecodex_default`` connection pointed at it (or at a requests-mock host).

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
