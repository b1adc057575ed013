"""The jobs part of OneCodexHook over real HTTP: runs never resent blindly, actions, job lookup."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.errors import (
    OneCodexAPIError,
    OneCodexAuthError,
    OneCodexNotFoundError,
    OneCodexServerError,
)
from airflow_provider_onecodex.api.jobs import JobNotFoundError
from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from airflow_provider_onecodex.testing.jobs import add_job

SAMPLE = "a1b2c3d4e5f60718"
ALIGNMENT_JOB = "1d0b0000000000a1"
RUN = f"/api/v1/jobs/{ALIGNMENT_JOB}/run"


@pytest.fixture
def hook(onecodex_simulator, onecodex_connection):
    hook = OneCodexHook()
    hook.client._sleep = lambda seconds: None  # Retry-After waits are not the point here
    yield hook
    hook.close()


def runs(sim):
    return [a for a in sim.state.analyses.values() if a.job == ALIGNMENT_JOB and a.sample == SAMPLE]


def test_run_job_returns_the_new_analysis(hook, onecodex_simulator):
    before = len(runs(onecodex_simulator))
    analysis_id = hook.run_job(ALIGNMENT_JOB, SAMPLE, job_args={"tax_id": "1280"})
    assert hook.get_analysis(analysis_id)["job_args"] == {"tax_id": "1280", "min_mapq": 20}
    assert len(runs(onecodex_simulator)) == before + 1


@pytest.mark.parametrize(
    ("faults", "posts"),
    [
        ([{"kind": "reset", "after": True}], 1),  # created, answer lost: adopted
        ([{"status": 504, "after": True}], 1),
        (["reset"], 2),  # nothing created: one resend
        ([{"status": 429, "retry_after": 1}], 2),  # refused: resent as is
    ],
)
def test_lost_or_refused_answers_leave_exactly_one_run(hook, onecodex_simulator, faults, posts, caplog):
    before = len(runs(onecodex_simulator))
    onecodex_simulator.state.faults.script(RUN, faults)
    with caplog.at_level("WARNING", logger="airflow_provider_onecodex.api.jobs"):
        analysis_id = hook.run_job(ALIGNMENT_JOB, SAMPLE, job_args={"tax_id": "562"})
    assert [a.id for a in runs(onecodex_simulator)][before:] == [analysis_id]
    assert onecodex_simulator.state.count(RUN, method="POST") == posts
    lost = [r.getMessage() for r in caplog.records if "was lost" in r.getMessage()]
    if faults[0] in ("reset",) or (isinstance(faults[0], dict) and faults[0].get("after")):
        # an unknown outcome is said in the log: adopted, or sent once more
        assert len(lost) == 1
        assert (f"adopted analysis {analysis_id}" in lost[0]) == (posts == 1)
    else:
        assert lost == []  # a 429 is a refusal, not an unknown outcome


def test_nothing_created_twice_is_an_error_after_one_resend(hook, onecodex_simulator):
    onecodex_simulator.state.faults.script(RUN, [503, 503])
    with pytest.raises(OneCodexServerError, match="sent twice; no analysis was created"):
        hook.run_job(ALIGNMENT_JOB, SAMPLE, job_args={"tax_id": "562"})
    assert onecodex_simulator.state.count(RUN, method="POST") == 2


def test_4xx_is_not_resent(hook, onecodex_simulator):
    with pytest.raises(OneCodexAPIError, match="Missing required argument"):
        hook.run_job(ALIGNMENT_JOB, SAMPLE)
    with pytest.raises(OneCodexNotFoundError):
        hook.run_job("0000000000000000", SAMPLE)
    assert onecodex_simulator.state.count("/api/v1/jobs/", method="POST") == 2


def test_actions_and_job_lookup(hook, onecodex_simulator, onecodex_manual_clock):
    job = add_job(onecodex_simulator.state, "Variant calling", "workflow", duration=30)
    analysis_id = hook.run_job(job, SAMPLE)
    assert hook.cancel_analysis("analyses", analysis_id)["complete"] is False
    onecodex_manual_clock.advance(2)
    assert hook.get_analysis(analysis_id)["error_msg"] == "Cancelled by user"
    assert hook.get_analysis_logs("analyses", analysis_id, tail=1) == "[    1.0s] finished: failed\n"
    assert hook.rerun_analysis("analyses", analysis_id)["complete"] is False
    with pytest.raises(OneCodexAuthError, match="only custom workflow runs"):
        hook.cancel_analysis("alignments", "a1a1000000001280")
    with pytest.raises(OneCodexNotFoundError, match="custom workflow runs have them"):
        hook.get_analysis_logs("alignments", "a1a1000000001280")
    assert hook.get_job_by_name("Alignment Run", include_public=True)["$uri"].endswith(ALIGNMENT_JOB)
    assert hook.get_job_by_name("Variant calling")["$uri"].endswith(job)
    with pytest.raises(JobNotFoundError, match="no own"):
        hook.get_job_by_name("Alignment Run")  # public, not asked for
    own = [j["name"] for j in hook.list_jobs(where={"public": False})]
    assert "Variant calling" in own and "Alignment Run" not in own
