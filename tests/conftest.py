"""Test-wide Airflow settings: a throwaway AIRFLOW_HOME, set before anything imports airflow."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="onecodex-airflow-home-"))
ROOT = Path(__file__).resolve().parent.parent

os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags_examples")
os.environ["AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES"] = "airflow.*"
# The One Codex client's own credential sources must never be read: make sure they are absent.
os.environ.pop("ONE_CODEX_API_KEY", None)

import pytest  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Named here rather than in pyproject.toml: resolving the class imports airflow, which must
    # happen after AIRFLOW_HOME is set above.
    config.addinivalue_line("filterwarnings", "error::airflow.exceptions.AirflowProviderDeprecationWarning")


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh SQLite metadata DB, for tests that run DAGs (``dag.test()``)."""
    from airflow.utils import db

    db.resetdb()
