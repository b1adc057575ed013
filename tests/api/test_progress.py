"""The one rule for carrying a wait from poll to poll: fail fast, outages, Retry-After pacing."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.errors import OneCodexConnectionError, error_for_status
from airflow_provider_onecodex.api.progress import NEVER_REACHED_GRACE, WaitProgress, advance
from airflow_provider_onecodex.api.waiting import error_outcome

PATH = "/api/v1/alignments"
REFUSED = OneCodexConnectionError(
    None, "GET", PATH, "could not connect to 127.0.0.1:9: connection refused", cause="refused"
)
RESET = OneCodexConnectionError(None, "GET", PATH, "connection to 127.0.0.1:9 was closed", cause="reset")
AUTH = error_for_status(401, "GET", PATH, b'{"message": "bad key"}', conn_id="onecodex_prod")
PENDING = {"status": "pending", "message": "not yet"}


def step(progress, outcome, now, interval=10.0, max_failures=10, max_retry_after=None):
    return advance(
        progress,
        outcome,
        now=now,
        poll_interval=interval,
        max_consecutive_failures=max_failures,
        max_retry_after=max_retry_after,
    )


def test_refused_before_any_answer_fails_within_the_grace_minute():
    progress = WaitProgress()
    seen = [step(progress, error_outcome(REFUSED), now=float(t))["status"] for t in range(0, 70, 10)]
    # Polls at 0..50 s keep trying; the poll at 60 s fails: the next one would pass the grace.
    assert seen == ["transient"] * 6 + ["failed"]
    final = step(WaitProgress(), error_outcome(REFUSED), now=0.0, interval=NEVER_REACHED_GRACE + 1)
    assert final == {
        "status": "failed",
        "kind": "unreachable",
        "message": "One Codex was never reached for this wait: One Codex API request failed on GET "
        f"{PATH}: could not connect to 127.0.0.1:9: connection refused",
    }


def test_auth_failure_before_any_answer_fails_at_once_with_the_hint():
    outcome = step(WaitProgress(), error_outcome(AUTH), now=0.0)
    assert outcome["status"] == "failed" and outcome["kind"] == "auth"
    assert outcome["message"] == (
        "authentication failed for connection `onecodex_prod`: check its API key. "
        f"One Codex answered 401 on GET {PATH}: bad key"
    )


@pytest.mark.parametrize("error", [REFUSED, AUTH])
def test_after_an_answer_configuration_errors_are_an_outage(error):
    progress = WaitProgress()
    assert step(progress, PENDING, now=0.0) == PENDING
    assert progress.reached
    outcomes = [step(progress, error_outcome(error), now=10.0 * n, max_failures=3) for n in range(1, 4)]
    assert [o["status"] for o in outcomes] == ["transient", "transient", "failed"]
    assert outcomes[-1]["kind"] == "transient"
    assert outcomes[-1]["message"] == f"3 polls in a row failed; last error: {error}"


def test_other_network_errors_count_from_the_start():
    progress = WaitProgress()
    outcomes = [step(progress, error_outcome(RESET), now=500.0 * n, max_failures=2) for n in range(2)]
    assert [o["status"] for o in outcomes] == ["transient", "failed"]


def test_an_answer_resets_the_count_and_the_grace():
    progress = WaitProgress(failures=4, unreachable_since=0.0)
    step(progress, PENDING, now=5.0)
    assert (progress.failures, progress.reached, progress.unreachable_since) == (0, True, None)


def test_retry_after_longer_than_the_interval_delays_the_next_poll_capped():
    progress = WaitProgress()
    throttled = {"status": "pending", "message": "throttled", "retry_after": 300.0}
    step(progress, throttled, now=1000.0, interval=10.0, max_retry_after=120.0)
    assert progress.next_poll_in(10.0, now=1000.0) == 120.0
    step(progress, throttled, now=1000.0, interval=10.0)
    assert progress.next_poll_in(10.0, now=1000.0) == 300.0
    assert progress.next_poll_in(10.0, now=1250.0) == 50.0
    step(progress, {"status": "pending", "message": "x", "retry_after": 5.0}, now=1300.0, interval=10.0)
    assert progress.next_poll_in(10.0, now=1300.0) == 10.0  # shorter than the interval: no change


def test_progress_round_trips_and_garbage_starts_afresh():
    progress = WaitProgress(3, True, 12.5, 99.0)
    assert WaitProgress.from_dict(progress.to_dict()) == progress
    assert WaitProgress.from_dict(None) == WaitProgress()
    assert WaitProgress.from_dict({"failures": "x", "reached": "yes", "not_before": True}) == WaitProgress()
