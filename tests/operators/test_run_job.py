"""OneCodexRunJobOperator over real HTTP against the simulator: one run per task, whatever fails.

Task retries are driven as Airflow does them: a fresh operator per try, the same
``task_state_store`` (Airflow 3.3) or none (3.2), ``ti.try_number`` counting up.
"""

from __future__ import annotations

import base64
import datetime
import time
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_provider_onecodex.api.jobs import JobNotFoundError
from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from airflow_provider_onecodex.operators.jobs import SUBMITTED_KEY, OneCodexRunJobOperator
from airflow_provider_onecodex.testing.jobs import add_job
from tests._modes import MemoryStateStore as Store

SAMPLE = "a1b2c3d4e5f60718"
ALIGNMENT_JOB = "1d0b0000000000a1"


class TI:
    def __init__(self, try_number: int) -> None:
        self.try_number = try_number
        self.stats_tags: dict[str, str] = {}

    def get_first_reschedule_date(self, context: Any) -> None:  # reschedule mode asks
        return None


class DagRun:
    start_date = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)


def context(try_number: int = 1, store: Store | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"ti": TI(try_number), "dag_run": DagRun()}
    if store is not None:
        ctx["task_state_store"] = store
    return ctx


@pytest.fixture(autouse=True)
def _connected(connect):
    """``onecodex_default`` -> the reset session simulator (``sim``) for every test here."""


def workflow_job(sim: Any, **rule: Any) -> str:
    rule.setdefault("duration", 0.3)
    return add_job(sim.state, "Variant calling", "workflow", **rule)


def operator(job_id: str = ALIGNMENT_JOB, **kwargs: Any) -> OneCodexRunJobOperator:
    kwargs.setdefault("job_args", {"tax_id": "1280"})
    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("timeout", 30)
    return OneCodexRunJobOperator(task_id="run", job_id=job_id, sample_id=SAMPLE, **kwargs)


def runs_of(sim: Any, job: str) -> list[Any]:
    return [a for a in sim.state.analyses.values() if a.job == job and a.sample == SAMPLE]


def posts(sim: Any, job: str) -> int:
    return sim.state.count(f"/api/v1/jobs/{job}/run", method="POST")


@pytest.mark.parametrize("fault", [{"kind": "reset", "after": True}, {"status": 502, "after": True}])
def test_connection_dropped_after_the_run_was_created(sim, fault):
    job = workflow_job(sim)
    sim.state.faults.script(f"/api/v1/jobs/{job}/run", [fault])
    record = operator(job).execute(context())
    (run,) = runs_of(sim, job)
    assert record["$uri"] == f"/api/v1/analyses/{run.id}" and record["success"] is True
    assert posts(sim, job) == 1


@pytest.mark.parametrize("durable", [True, False], ids=["3.3-store", "3.2-no-store"])
def test_worker_killed_between_post_and_persisting(sim, monkeypatch, durable):
    job = workflow_job(sim)
    store = Store() if durable else None
    real = OneCodexHook.run_job

    def start_then_die(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(OneCodexHook, "run_job", start_then_die)
    with pytest.raises(RuntimeError, match="worker killed"):
        operator(job).execute(context(1, store))
    assert store is None or ("onecodex_analysis_id" not in store.values and SUBMITTED_KEY in store.values)
    monkeypatch.setattr(OneCodexHook, "run_job", real)
    record = operator(job).execute(context(2, store))
    (run,) = runs_of(sim, job)
    assert record["$uri"].endswith(run.id) and posts(sim, job) == 1


@pytest.mark.parametrize("durable", [True, False], ids=["3.3-store", "3.2-no-store"])
def test_retry_after_a_failed_analysis_resubmits_once(sim, durable):
    job = workflow_job(sim, success=False, error_msg="no reads mapped")
    store = Store() if durable else None
    with pytest.raises(AirflowException, match="no reads mapped") as failed:
        operator(job).execute(context(1, store))
    assert "Last log lines:" in str(failed.value) and "ERROR: no reads mapped" in str(failed.value)
    sim.state.jobs[job].run = {"duration": 0.3}
    record = operator(job).execute(context(2, store))
    _first, second = runs_of(sim, job)
    assert record["$uri"].endswith(second.id) and posts(sim, job) == 2


@pytest.mark.parametrize("durable", [True, False], ids=["3.3-store", "3.2-no-store"])
def test_retry_while_running_reconnects(sim, durable):
    job = workflow_job(sim, duration=1.5)
    store = Store() if durable else None
    with pytest.raises(AirflowSensorTimeout):
        operator(job, timeout=0.2).execute(context(1, store))
    record = operator(job).execute(context(2, store))
    (run,) = runs_of(sim, job)
    assert record["$uri"].endswith(run.id) and record["success"] is True and posts(sim, job) == 1


def test_a_reschedule_of_a_retry_that_reconnected_reports_the_failure_not_a_new_run(sim):
    from airflow.sdk.exceptions import AirflowRescheduleException

    job = workflow_job(sim, duration=1.0, success=False, error_msg="no reads mapped")
    store = Store()
    with pytest.raises(AirflowSensorTimeout):
        operator(job, timeout=0.2).execute(context(1, store))  # try 1 starts the run
    with pytest.raises(AirflowRescheduleException):
        operator(job, mode="reschedule").execute(context(2, store))  # try 2 reconnects: running
    time.sleep(1.2)  # the run fails between two reschedules of try 2
    with pytest.raises(AirflowException, match="no reads mapped"):
        operator(job, mode="reschedule").execute(context(2, store))
    assert posts(sim, job) == 1  # the failure is reported; a new run waits for a retry


def test_reuse_existing_starts_nothing(sim):
    done = sim.state.add_analysis(
        "alignment",
        SAMPLE,
        job=ALIGNMENT_JOB,
        tax_id="1280",
        complete_after=0,
        job_args={"tax_id": "1280", "x": 1},
    )
    record = operator(reuse_existing=True).execute(context())
    assert record["$uri"] == f"/api/v1/analyses/{done}" and posts(sim, ALIGNMENT_JOB) == 0
    assert operator(reuse_existing=True, wait_for_completion=False).execute(context()) == {
        "analysis_id": done
    }
    # other job_args: a new run
    assert (
        operator(reuse_existing=True, job_args={"tax_id": "562"}, wait_for_completion=False).execute(
            context()
        )["analysis_id"]
        != done
    )
    assert posts(sim, ALIGNMENT_JOB) == 1


def test_job_by_name_and_not_waiting(sim):
    op = OneCodexRunJobOperator(
        task_id="run",
        job_name="Alignment Run",
        sample_id=SAMPLE,
        job_args='{"tax_id": "562"}',
        wait_for_completion=False,
    )
    result = op.execute(context())
    run = sim.state.analyses[result["analysis_id"]]
    assert (run.job, run.tax_id) == (ALIGNMENT_JOB, "562")
    assert op.onecodex_url == f"{sim.base_url}/analysis/{run.id}"
    with pytest.raises(JobNotFoundError, match="no own or public One Codex job is named 'Alignement Run'"):
        OneCodexRunJobOperator(task_id="run", job_name="Alignement Run", sample_id=SAMPLE).execute(context())
    assert posts(sim, ALIGNMENT_JOB) == 1


def test_400_for_a_missing_argument_is_not_resent(sim):
    from airflow_provider_onecodex.api.errors import OneCodexAPIError

    with pytest.raises(OneCodexAPIError, match=r"Missing required argument.*tax_id") as raised:
        operator(job_args={}).execute(context())
    assert isinstance(raised.value, AirflowFailException)
    assert posts(sim, ALIGNMENT_JOB) == 1 and runs_of(sim, ALIGNMENT_JOB) == [
        a for a in sim.state.analyses.values() if a.job == ALIGNMENT_JOB and a.sample == SAMPLE
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"job_id": None}, ValueError, "exactly one of job_id and job_name"),
        ({"job_name": "Alignment Run"}, ValueError, "exactly one of job_id and job_name"),
        ({"job_args": [1, 2]}, TypeError, "job_args must be a JSON object"),
        ({"job_args": "tax_id=1280"}, ValueError, "job_args must be a JSON object"),
        ({"job_id": "1d0b"}, ValueError, "job_id must be"),
        ({"description": "x" * 300}, ValueError, "at most 250"),
        ({"dependencies": ["nope"]}, ValueError, "dependencies"),
        ({"poke_interval": 0}, ValueError, "poke_interval"),
    ],
)
def test_bad_input_fails_before_any_request(sim, kwargs, error, text):
    args = {"job_id": ALIGNMENT_JOB, "sample_id": SAMPLE, "job_args": {"tax_id": "1280"}, **kwargs}
    with pytest.raises(error, match=text) as raised:
        OneCodexRunJobOperator(task_id="run", **args).execute(context())
    assert isinstance(raised.value, AirflowFailException)  # no task retries for bad input
    assert sim.state.requests == []


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"sample_id": "A1B2C3D4E5F60718"}, ValueError, "sample_id must be a One Codex id"),
        ({"wait_for_completion": "yes"}, TypeError, "wait_for_completion must be True or False, got 'yes'"),
        ({"reuse_existing": 1}, TypeError, "reuse_existing must be True or False, got 1"),
        ({"populate_default_arguments": None}, TypeError, "populate_default_arguments must be True or False"),
    ],
)
def test_literal_bad_input_fails_when_the_dag_is_parsed(sim, kwargs, error, text):
    args = {"job_id": ALIGNMENT_JOB, "sample_id": SAMPLE, "job_args": {"tax_id": "1280"}, **kwargs}
    with pytest.raises(error, match=text):
        OneCodexRunJobOperator(task_id="run", **args)
    assert sim.state.requests == []


def test_a_bad_rendered_sample_id_fails_before_any_request(sim):
    run = OneCodexRunJobOperator(
        task_id="run", job_id=ALIGNMENT_JOB, sample_id="{{ params.sample }}", job_args={"tax_id": "1280"}
    )
    run.sample_id = "A1B2C3D4E5F60718"  # what the template rendered to
    with pytest.raises(ValueError, match="sample_id must be a One Codex id") as raised:
        run.execute(context())
    assert isinstance(raised.value, AirflowFailException)
    assert sim.state.requests == []


def test_on_kill_cancels_when_allowed_and_says_why_not(sim, capfd):
    job = workflow_job(sim, duration=60)
    op = operator(job, wait_for_completion=False)
    analysis_id = op.execute(context())["analysis_id"]
    op.on_kill()
    assert sim.state.count(f"/api/v1/analyses/{analysis_id}/cancel", method="POST") == 1
    builtin = operator(wait_for_completion=False)
    builtin.execute(context())
    builtin.on_kill()
    logs = "".join(capfd.readouterr())
    assert f"on_kill: cancel of analysis {analysis_id} requested" in logs
    assert "left running" in logs and "only custom workflow runs" in logs


def test_failure_message_carries_no_secret(sim, capfd):
    job = workflow_job(sim, success=False, error_msg=f"denied https://x.test/f?sig={sim.api_key}")
    with pytest.raises(AirflowException) as failed:
        operator(job).execute(context())
    out = "".join(capfd.readouterr()) + str(failed.value)
    assert "https://x.test/f?<redacted>" in str(failed.value) and "Last log lines:" in str(failed.value)
    assert "ERROR: denied https://x.test/f?<redacted>" in out  # the log tail, in the task log too
    for secret in (sim.api_key, base64.b64encode(f"{sim.api_key}:".encode()).decode()):
        assert secret not in out


def test_resume_finds_the_analysis_without_deferral_kwargs(sim):
    """``airflow dags test`` resumes with the event only: the id comes from the task_state_store."""
    from airflow.sdk.exceptions import TaskDeferred

    job = workflow_job(sim, success=False, error_msg="no reads mapped")
    store = Store()
    with pytest.raises(TaskDeferred) as deferred:
        operator(job, deferrable=True).execute(context(1, store))
    analysis_id = store.values["onecodex_analysis_id"]
    assert deferred.value.kwargs == {"analysis_id": analysis_id}
    event = {
        "status": "failed",
        "kind": "analysis_failed",
        "message": f"One Codex analysis {analysis_id} failed: x",
    }
    with pytest.raises(AirflowException, match=f"analysis {analysis_id} failed"):
        operator(job, deferrable=True).execute_complete(context(1, store), event=event)
    record = {"$uri": f"/api/v1/analyses/{analysis_id}", "complete": True, "success": True}
    done = {"status": "success", "value": record, "message": "done"}
    assert operator(job, deferrable=True).execute_complete(context(1, None), event=done) == record
