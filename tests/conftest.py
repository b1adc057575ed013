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

import pytest  # noqa: E402

from airflow_provider_onecodex.testing.pytest_plugin import connection_json  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Named here rather than in pyproject.toml: resolving the class imports airflow, which must
    # happen after AIRFLOW_HOME is set above.
    config.addinivalue_line("filterwarnings", "error::airflow.exceptions.AirflowProviderDeprecationWarning")


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh SQLite metadata DB, for tests that run DAGs (``dag.test()``)."""
    from airflow.utils import db

    db.resetdb()


# -- on top of the plugin's fixtures (airflow_provider_onecodex/testing/pytest_plugin.py): the
# ``onecodex_default`` connection pointed at the reset session simulator, or at a requests-mock host.


@pytest.fixture
def sim(onecodex_simulator):
    """The plugin's reset session simulator (short name used across the tests)."""
    return onecodex_simulator


@pytest.fixture
def connect(onecodex_connection):
    """The plugin's ``onecodex_connection``: ``onecodex_default`` -> ``sim``, ``max_retries=1``;
    call it to change key or extras (tests/triggers and the reliability modules have their own)."""
    return onecodex_connection


@pytest.fixture
def fresh_sim(onecodex_simulator, onecodex_manual_clock):
    """The reset simulator with time standing at 0 (the demo analyses are pending)."""
    return onecodex_simulator


@pytest.fixture
def done_sim(onecodex_simulator, onecodex_manual_clock):
    """The reset simulator with every demo analysis complete."""
    onecodex_manual_clock.advance(1_000)
    return onecodex_simulator


@pytest.fixture
def timed_sim(onecodex_simulator):
    """``timed_sim(clock)``: the reset demo simulator with its time given by ``clock`` (which must
    read 0 now: a ``ManualClock()``, a ``tests._reliability.RequestClock``; default: standing at 0)."""
    from airflow_provider_onecodex.testing.state import ManualClock

    def make(clock=None):
        if hasattr(clock, "sim"):  # a RequestClock: let it read this simulator's request log
            clock.sim = onecodex_simulator
        assert clock is None or clock() == 0.0, "a test's clock must read 0 when the test starts"
        onecodex_simulator.state.reset(clock=clock if clock is not None else ManualClock())
        return onecodex_simulator

    return make


MOCK_BASE = "http://onecodex.test"
MOCK_KEY = "5eed5eed5eed5eed5eed5eed5eed5eed"


@pytest.fixture
def use_fresh(fresh_sim, onecodex_connection):
    """``fresh_sim`` with ``onecodex_default`` pointed at it (move ``onecodex_manual_clock``)."""
    return fresh_sim


@pytest.fixture
def use_sim(done_sim, onecodex_connection):
    """``done_sim`` with ``onecodex_default`` pointed at it."""
    return done_sim


@pytest.fixture
def use_mock(monkeypatch: pytest.MonkeyPatch, requests_mock):
    """``onecodex_default`` -> ``http://onecodex.test``, answered by requests-mock (no retries)."""
    monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", connection_json(MOCK_BASE, MOCK_KEY, max_retries=0))
    return requests_mock


# -- the one mode driver (tests/_modes.py)


@pytest.fixture
def drive():
    """``drive(mode, make)``: run the sensor ``make(**mode_kwargs)`` builds to its end in ``mode``,
    as Airflow would; returns how it ended (``tests._modes.Result``)."""
    from tests._modes import run_mode

    return run_mode


@pytest.fixture
def waits():
    """``waits.run(make, mode)``: the same driver, returning the XCom value or raising; records
    ``executions``, ``triggers`` and ``events``."""
    from tests._modes import Waits

    return Waits()
