"""Job runs as pure operations: validation, the run body, and the unknown-outcome decision."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api import job_actions
from airflow_provider_onecodex.api.errors import (
    OneCodexAPIError,
    OneCodexAuthError,
    OneCodexConnectionError,
    OneCodexNotFoundError,
    OneCodexRateLimitError,
    OneCodexResponseError,
    OneCodexServerError,
)
from airflow_provider_onecodex.api.jobs import (
    CLOCK_SKEW_MARGIN,
    DuplicateRunError,
    JobNotFoundError,
    JobRun,
    find_reusable_run,
    find_started_run,
    iso_utc,
    run_job,
    validate_job_choice,
)
from airflow_provider_onecodex.api.ops import ApiCall, Listing, Sleep, run_op
from tests._scripted import scripted

JOB = "1d0b0000000000a1"
SAMPLE = "a1b2c3d4e5f60718"
NEW = "0a0a0a0a0a0a0a0a"
RUN_PATH = f"/api/v1/jobs/{JOB}/run"
T0 = 1_800_000_000.0


def record(ident, *, complete=False, success=False, job_args=None, error_msg=None):
    out = {
        "$uri": f"/api/v1/analyses/{ident}",
        "complete": complete,
        "success": success,
        "error_msg": error_msg,
    }
    if job_args is not None:
        out["job_args"] = job_args
    return out


def run(answers, **kwargs):
    perform, seen = scripted(list(answers))
    op = run_job(JobRun.build(JOB, SAMPLE, job_args={"ref": "1280"}), clock=lambda: T0, **kwargs)
    return run_op(op, perform), seen


def posts(seen):
    return [e for e in seen if isinstance(e, ApiCall) and e.method == "POST"]


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"job_id": None, "job_name": None}, ValueError, "exactly one of job_id and job_name"),
        ({"job_id": JOB, "job_name": "Alignment Run"}, ValueError, "exactly one"),
        ({"job_id": "xyz", "job_name": None}, ValueError, "job_id must be"),
        ({"job_id": None, "job_name": "  "}, ValueError, "job_name must not be empty"),
        ({"job_id": None, "job_name": 7}, TypeError, "job_name must be a string"),
    ],
)
def test_job_choice_refused(kwargs, error, text):
    with pytest.raises(error, match=text):
        validate_job_choice(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"sample_id": "nope"}, ValueError, "sample_id must be"),
        ({"sample_id": 12}, TypeError, "sample_id must be"),
        ({"job_args": [1, 2]}, TypeError, "job_args must be a JSON object"),
        ({"job_args": "[1, 2]"}, TypeError, "job_args must be a JSON object"),
        ({"job_args": "{not json"}, ValueError, "not JSON"),
        ({"job_args": {"x": float("nan")}}, ValueError, "NaN"),
        ({"job_args": {"x": object()}}, TypeError, "only JSON values"),
        ({"dependencies": "0123456789abcdef"}, TypeError, "dependencies must be a list"),
        ({"dependencies": ["bad"]}, ValueError, r"dependencies\[0\].analysis"),
        ({"dependencies": [{"analysis": NEW, "download_path": "/abs"}]}, ValueError, "relative"),
        ({"dependencies": [{"analysis": NEW, "extra": 1}]}, ValueError, "unknown keys"),
        ({"description": "x" * 251}, ValueError, "at most 250"),
        ({"description": 5}, TypeError, "description must be a string"),
        ({"populate_default_arguments": "yes"}, TypeError, "populate_default_arguments"),
    ],
)
def test_bad_run_arguments_are_refused(kwargs, error, text):
    args = {"sample_id": SAMPLE, **kwargs}
    with pytest.raises(error, match=text):
        JobRun.build(JOB, args.pop("sample_id"), **args)


def test_run_body_follows_the_reference():
    run = JobRun.build(
        f"/api/v1/jobs/{JOB}",
        SAMPLE,
        job_args='{"min_quality": 30}',
        dependencies=[NEW, {"analysis": {"$ref": f"/api/v1/analyses/{NEW}"}, "download_path": "parent"}],
        description="  align  ",
    )
    call = run.request()
    assert (call.method, call.path, call.retried) == ("POST", RUN_PATH, False)
    assert call.json_body == {
        "sample": {"$ref": f"/api/v1/samples/{SAMPLE}"},
        "job_args": {"min_quality": 30},
        "populate_default_arguments": True,
        "dependencies": [
            {"analysis": {"$ref": f"/api/v1/analyses/{NEW}"}, "download_path": None},
            {"analysis": {"$ref": f"/api/v1/analyses/{NEW}"}, "download_path": "parent"},
        ],
        "description": "align",
    }
    bare = JobRun.build(JOB, SAMPLE).body()
    assert bare["job_args"] == {} and "dependencies" not in bare and "description" not in bare


# -- the run and its unknown outcomes ----------------------------------------------------------


def test_run_returns_the_new_id_after_a_baseline_listing():
    result, seen = run([[], {"$ref": f"/api/v1/analyses/{NEW}"}])
    assert result == NEW
    listing = seen[0]
    assert isinstance(listing, Listing) and listing.resource == "analyses"
    assert listing.where == {
        "job": {"$ref": f"/api/v1/jobs/{JOB}"},
        "sample": {"$ref": f"/api/v1/samples/{SAMPLE}"},
        "created_at": {"$gte": iso_utc(T0 - CLOCK_SKEW_MARGIN)},
    }


def test_a_200_without_ref_is_an_error_not_a_resend():
    with pytest.raises(OneCodexResponseError, match="no analysis \\$ref"):
        run([[], {"id": NEW}])


@pytest.mark.parametrize(
    "lost",
    [
        OneCodexConnectionError(None, "POST", RUN_PATH, "connection reset"),
        OneCodexServerError(502, "POST", RUN_PATH, "Bad Gateway"),
        OneCodexResponseError(200, "POST", RUN_PATH, "truncated"),
    ],
)
def test_unknown_outcome_adopts_the_one_new_analysis(lost):
    old = record("1111111111111111", complete=True, success=False, job_args={"ref": "1280"})
    mine = record(NEW, job_args={"ref": "1280", "default": 1})
    result, seen = run([[old], lost, [old, mine]])
    assert result == NEW
    assert len(posts(seen)) == 1


def test_unknown_outcome_with_nothing_created_resends_once():
    lost = OneCodexServerError(503, "POST", RUN_PATH, "down")
    result, seen = run([[], lost, [], {"$ref": f"/api/v1/analyses/{NEW}"}])
    assert result == NEW and len(posts(seen)) == 2
    with pytest.raises(OneCodexServerError, match="sent twice; no analysis was created"):
        run([[], lost, [], lost, []])


def test_unknown_outcome_with_several_candidates_adopts_none():
    lost = OneCodexConnectionError(None, "POST", RUN_PATH, "read timeout")
    a, b = record("2222222222222222"), record("3333333333333333")
    with pytest.raises(DuplicateRunError, match="2222222222222222, 3333333333333333") as info:
        run([[], lost, [a, b]])
    assert info.value.analysis_ids == ["2222222222222222", "3333333333333333"]


def test_other_job_args_are_not_adopted():
    lost = OneCodexServerError(500, "POST", RUN_PATH, "oops")
    other = record("4444444444444444", job_args={"ref": "562"})
    result, seen = run([[], lost, [other], {"$ref": f"/api/v1/analyses/{NEW}"}])
    assert result == NEW and len(posts(seen)) == 2


@pytest.mark.parametrize("status", [400, 402, 403, 404, 409, 422])
def test_4xx_is_never_resent(status):
    error = (OneCodexAuthError if status in (402, 403) else OneCodexAPIError)(status, "POST", RUN_PATH, "no")
    perform, seen = scripted([[], error])
    with pytest.raises(OneCodexAPIError):
        run_op(run_job(JobRun.build(JOB, SAMPLE), clock=lambda: T0), perform)
    assert len(posts(seen)) == 1 and len(seen) == 2


def test_429_with_retry_after_is_resent_as_is():
    limited = OneCodexRateLimitError(429, "POST", RUN_PATH, "slow down", retry_after=2.0)
    result, seen = run([[], limited, None, {"$ref": f"/api/v1/analyses/{NEW}"}])
    assert result == NEW
    assert Sleep(2.0) in seen and len(posts(seen)) == 2
    never = OneCodexRateLimitError(429, "POST", RUN_PATH, "slow down", retry_after=None)
    with pytest.raises(OneCodexRateLimitError):
        run([[], never])
    long = OneCodexRateLimitError(429, "POST", RUN_PATH, "later", retry_after=600.0)
    with pytest.raises(OneCodexRateLimitError):
        run([[], long], max_retry_after=60.0)


# -- lookups -----------------------------------------------------------------------------------


def test_started_run_ignores_failures_and_refuses_two():
    build = JobRun.build(JOB, SAMPLE, job_args={"ref": "1280"})
    failed = record("5555555555555555", complete=True, success=False, job_args={"ref": "1280"})
    running = record("6666666666666666", job_args={"ref": "1280"})
    perform, _ = scripted([[failed, running]])
    assert run_op(find_started_run(build, T0), perform)["$uri"].endswith("6666666666666666")
    perform, _ = scripted([[failed]])
    assert run_op(find_started_run(build, T0), perform) is None
    perform, _ = scripted([[running, record("7777777777777777")]])
    with pytest.raises(DuplicateRunError):
        run_op(find_started_run(build, T0), perform)


def test_reusable_run_needs_success_and_the_same_job_args():
    build = JobRun.build(JOB, SAMPLE, job_args={"ref": "1280"})
    ok_old = record("8888888888888888", complete=True, success=True, job_args={"ref": "1280"})
    ok_new = record("9999999999999999", complete=True, success=True, job_args={"ref": "1280"})
    other = record("aaaaaaaaaaaaaaaa", complete=True, success=True, job_args={"ref": "562"})
    unknown = record("bbbbbbbbbbbbbbbb", complete=True, success=True)
    perform, seen = scripted([[ok_new, other, unknown, ok_old]])  # listed newest first
    assert run_op(find_reusable_run(build), perform)["$uri"].endswith("9999999999999999")
    assert "created_at" not in seen[0].where and seen[0].sort == {"created_at": True}
    perform, _ = scripted([[other, unknown, record("cccccccccccccccc", job_args={"ref": "1280"})]])
    assert run_op(find_reusable_run(build), perform) is None


def test_job_by_name():
    alignment = {"$uri": f"/api/v1/jobs/{JOB}", "name": "Alignment Run", "public": True}
    perform, seen = scripted([[alignment]])
    op = job_actions.get_job_by_name("Alignment Run", include_public=True)
    assert run_op(op, perform) == alignment
    assert seen[0].where == {"name": "Alignment Run"}
    perform, seen = scripted([[]])
    with pytest.raises(JobNotFoundError, match="no own \\(include_public=False\\) One Codex job"):
        run_op(job_actions.get_job_by_name("Alignment Run"), perform)
    assert seen[0].where == {"name": "Alignment Run", "public": False}
    twin = {**alignment, "$uri": "/api/v1/jobs/1d0b0000000000a2"}
    perform, _ = scripted([[alignment, twin]])
    with pytest.raises(JobNotFoundError, match=r"2 One Codex jobs .*1d0b0000000000a1, 1d0b0000000000a2"):
        run_op(job_actions.get_job_by_name("Alignment Run", include_public=True), perform)


def test_cancel_rerun_logs():
    perform, seen = scripted([{"$uri": f"/api/v1/analyses/{NEW}"}])
    run_op(job_actions.cancel_analysis("analyses", NEW), perform)
    assert (seen[0].method, seen[0].path, seen[0].retried) == ("POST", f"/api/v1/analyses/{NEW}/cancel", True)
    perform, _ = scripted([OneCodexAuthError(403, "POST", "/x", "Forbidden")])
    with pytest.raises(OneCodexAuthError, match="only the user who started the run"):
        run_op(job_actions.cancel_analysis("workflows", NEW), perform)
    perform, seen = scripted([OneCodexServerError(502, "POST", "/x", "Bad Gateway")])
    with pytest.raises(OneCodexServerError, match="the rerun may have started"):
        run_op(job_actions.rerun_analysis("analyses", NEW), perform)
    assert seen[0].retried is False and len(seen) == 1
    perform, seen = scripted(["a\nb\n"])
    assert run_op(job_actions.get_analysis_logs("analyses", NEW, tail=2), perform) == "a\nb\n"
    assert seen[0].params == {"tail": "2"} and seen[0].expect is str
    perform, _ = scripted([OneCodexNotFoundError(404, "GET", "/x", "Logs not found")])
    with pytest.raises(OneCodexNotFoundError, match="custom workflow runs have them"):
        run_op(job_actions.get_analysis_logs("analyses", NEW), perform)
    for bad, error in ((0, ValueError), (True, TypeError), ("5", TypeError)):
        with pytest.raises(error, match="tail"):
            run_op(job_actions.get_analysis_logs("analyses", NEW, tail=bad), scripted([])[0])


def test_log_redaction_cuts_signed_queries():
    text = "fetching https://s3.example/bucket/key?X-Amz-Signature=abc&X-Amz-Credential=k done\n"
    out = job_actions.redact_log_text(text)
    assert "abc" not in out and "https://s3.example/bucket/key?<redacted> done" in out
