"""A job run's wait ends alike in poke, reschedule and deferrable modes (the analysis sensor's
outcome rule and trigger), and starts exactly one analysis in each."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
import requests
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from airflow_provider_onecodex.testing import jobs as sim_jobs
from tests._modes import MemoryStateStore

SAMPLE = "a1b2c3d4e5f60718"
MODES = ("poke", "reschedule", "deferrable")
KEPT = ("complete", "success", "error_msg", "sample", "job_args", "analysis_type")  # one job per mode


def cancel_soon(sim: Any, job: str) -> threading.Timer:
    """Cancel the job's run through the API shortly after it starts (someone pressed "cancel")."""

    def cancel() -> None:
        for a in list(sim.state.analyses.values()):
            if a.job == job:
                requests.post(
                    f"{sim.base_url}/api/v1/analyses/{a.id}/cancel", auth=(sim.api_key, ""), timeout=10
                ).raise_for_status()

    timer = threading.Timer(0.3, cancel)
    timer.start()
    return timer


CASES: dict[str, dict[str, Any]] = {
    "success": {"rule": {"duration": 0.3}},
    "failure": {"rule": {"duration": 0.3, "success": False, "error_msg": "no reads mapped"}},
    "cancelled": {"rule": {"duration": 60}, "cancel": True},
    "timeout": {"rule": {"duration": 60}, "timeout": 0.5},
}


def normalized(result: Any, analysis_id: str, job: str) -> tuple[Any, ...]:
    xcom = {k: result.xcom.get(k) for k in KEPT} if isinstance(result.xcom, dict) else result.xcom
    message = result.message
    if message is not None:
        message = message.replace(analysis_id, "<id>").replace(job, "<job>")
    if result.exc_type is AirflowSensorTimeout:
        message = "timeout"  # poke mode words Airflow's own timeout; the outcome is the same
    return xcom, result.exc_type, message


@pytest.mark.parametrize("case", list(CASES))
def test_run_waits_end_alike_in_every_mode(case, sim, connect, drive, monkeypatch):
    from airflow_provider_onecodex.operators.jobs import OneCodexRunJobOperator

    monkeypatch.setattr(sim_jobs, "CANCEL_DELAY", 0.1)
    spec = CASES[case]
    outcomes = []
    for mode in MODES:
        job = sim_jobs.add_job(sim.state, "Variant calling", "workflow", **spec["rule"])
        timer = cancel_soon(sim, job) if spec.get("cancel") else None

        def make(job: str = job, **mode_kwargs: Any) -> OneCodexRunJobOperator:
            return OneCodexRunJobOperator(
                task_id="run",
                job_id=job,
                sample_id=SAMPLE,
                job_args={"caller": "parity"},
                poke_interval=0.05,
                timeout=spec.get("timeout", 30),
                **mode_kwargs,
            )

        # Airflow 3.3: one task_state_store for every reschedule of the task
        result = drive(mode, make, context={"task_state_store": MemoryStateStore()})
        if timer is not None:
            timer.join()
        (analysis_id,) = [a.id for a in sim.state.analyses.values() if a.job == job]
        assert sim.state.count(f"/api/v1/jobs/{job}/run", method="POST") == 1, mode
        outcomes.append(normalized(result, analysis_id, job))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    xcom, exc_type, message = outcomes[0]
    if case == "success":
        assert exc_type is None and xcom["success"] is True and xcom["job_args"] == {"caller": "parity"}
    elif case == "timeout":
        assert exc_type is AirflowSensorTimeout
    else:
        reason = "no reads mapped" if case == "failure" else sim_jobs.CANCELLED_MSG
        assert exc_type is AirflowException
        assert re.match(rf"One Codex analysis <id> failed: {reason}\nLast log lines:\n", message), message
        assert f"ERROR: {reason}" in message
