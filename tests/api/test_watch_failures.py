"""What a failed poll means for an event watch (api/watching.after_failure): the waits' rule."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api import watching as w
from airflow_provider_onecodex.api.errors import (
    MalformedRecordError,
    OneCodexAuthError,
    OneCodexConnectionError,
    OneCodexNotFoundError,
    OneCodexRateLimitError,
    OneCodexServerError,
)
from airflow_provider_onecodex.api.progress import NEVER_REACHED_GRACE, WaitProgress

PATH = "/api/v1/samples"
INTERVAL = 60.0


def auth(status: int = 401) -> OneCodexAuthError:
    return OneCodexAuthError(status, "GET", PATH, "unauthorized", hint="authentication failed")


def refused() -> OneCodexConnectionError:
    return OneCodexConnectionError(None, "GET", PATH, "connection refused", cause="refused")


def outage() -> OneCodexServerError:
    return OneCodexServerError(503, "GET", PATH, "unavailable")


def fail(progress: WaitProgress, error: Exception, now: float = 0.0, limit: int = 10) -> w.FailedPoll:
    return w.after_failure(progress, error, poll_interval=INTERVAL, now=now, max_consecutive_failures=limit)


@pytest.mark.parametrize("status", [401, 402, 403])
def test_an_auth_failure_before_any_answer_stops_at_once(status):
    result = fail(WaitProgress(), auth(status))
    assert result.stop and "authentication failed" in result.message


@pytest.mark.parametrize("status", [401, 403])
def test_after_an_answer_auth_failures_back_off_and_stop_after_n_in_a_row(status):
    progress = WaitProgress(reached=True)
    results = [fail(progress, auth(status), limit=4) for _ in range(4)]
    assert [r.stop for r in results] == [False, False, False, True]
    assert [r.delay for r in results[:3]] == [INTERVAL, 2 * INTERVAL, 4 * INTERVAL]
    assert "failure 1 of 4 in a row before the watch stops" in results[0].message
    assert "4 polls in a row failed" in results[3].message


def test_an_answer_between_failures_starts_the_count_again():
    progress = WaitProgress(reached=True)
    assert not fail(progress, auth(), limit=2).stop
    progress = WaitProgress(reached=True)  # what the poll loop does after an answered poll
    assert not fail(progress, auth(), limit=2).stop
    assert fail(progress, auth(), limit=2).stop


def test_network_configuration_failures_before_any_answer_stop_after_the_grace():
    progress = WaitProgress()
    first = fail(progress, refused(), now=0.0)
    assert not first.stop and first.delay == INTERVAL
    assert fail(progress, refused(), now=NEVER_REACHED_GRACE + 1).stop


def test_outages_never_stop_a_watch_and_back_off_to_a_cap():
    for progress in (WaitProgress(), WaitProgress(reached=True)):
        results = [fail(progress, outage(), limit=3) for _ in range(50)]
        assert not any(r.stop for r in results)
        assert results[-1].delay == 8 * INTERVAL


def test_retry_after_is_honoured_and_throttling_is_no_failure():
    progress = WaitProgress(reached=True)
    slow = OneCodexRateLimitError(429, "GET", PATH, "slow down", retry_after=500.0)
    assert fail(progress, slow).delay == 500.0
    slow.throttled = True
    result = fail(progress, slow)
    assert (result.stop, result.delay, progress.failures) == (False, 500.0, 0)


@pytest.mark.parametrize(
    "error",
    [
        OneCodexNotFoundError(404, "GET", PATH, "not found", hint="not One Codex at host"),
        MalformedRecordError("record 1 has no created_at"),
    ],
)
def test_errors_retrying_cannot_fix_stop_even_after_answers(error):
    assert fail(WaitProgress(reached=True), error).stop


def test_retry_after_paces_a_watch_capped_by_max_retry_after_as_for_the_waits():
    def throttled() -> OneCodexRateLimitError:
        return OneCodexRateLimitError(429, "GET", PATH, "slow down", retry_after=86400.0)

    honoured = w.after_failure(WaitProgress(reached=True), throttled(), poll_interval=INTERVAL, now=0.0)
    capped = w.after_failure(
        WaitProgress(reached=True), throttled(), poll_interval=INTERVAL, now=0.0, max_retry_after=60.0
    )
    assert not honoured.stop and honoured.delay == 86400.0
    assert not capped.stop and capped.delay == max(60.0, INTERVAL)
