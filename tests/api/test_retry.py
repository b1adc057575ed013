"""The retry policy: which failures are retried, how long to wait, and the tenacity wiring."""

from __future__ import annotations

import logging
import math
import random

import pytest
import tenacity

from airflow_provider_onecodex.api.errors import (
    MalformedRecordError,
    OneCodexAPIError,
    OneCodexAuthError,
    OneCodexConnectionError,
    OneCodexNotFoundError,
    OneCodexRateLimitError,
    OneCodexResponseError,
    OneCodexServerError,
)
from airflow_provider_onecodex.api.retry import NO_RETRY, RetryPolicy

PATH = "/api/v1/alignments/0123456789abcdef"


def server_error(status=503, retry_after=None):
    return OneCodexServerError(status, "GET", PATH, "unavailable", retry_after)


def rate_limited(retry_after=None):
    return OneCodexRateLimitError(429, "GET", PATH, "slow down", retry_after)


TRANSIENT = [
    rate_limited(),
    server_error(500),
    server_error(502),
    server_error(503),
    server_error(504),
    OneCodexConnectionError(None, "GET", PATH, "connection failed (ConnectionError)"),
    OneCodexResponseError(200, "GET", PATH, "expected JSON"),
]
PERMANENT = [
    OneCodexAPIError(400, "GET", PATH, "bad where"),
    OneCodexAuthError(401, "GET", PATH, "who are you"),
    OneCodexAuthError(402, "GET", PATH, "pay"),
    OneCodexAuthError(403, "GET", PATH, "forbidden"),
    OneCodexNotFoundError(404, "GET", PATH, "not found"),
    OneCodexAPIError(409, "GET", PATH, "conflict"),
    OneCodexAPIError(422, "GET", PATH, "unprocessable"),
    OneCodexServerError(501, "GET", PATH, "not implemented"),
    MalformedRecordError("analysis x: field 'complete' is missing"),
    ValueError("a bug, not a network problem"),
]


@pytest.mark.parametrize("exc", TRANSIENT, ids=lambda e: type(e).__name__)
def test_transient_errors_are_retried_until_max_attempts(exc):
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(1, exc)
    assert policy.should_retry(2, exc)
    assert not policy.should_retry(3, exc)
    assert not policy.should_retry(4, exc)


@pytest.mark.parametrize("exc", PERMANENT, ids=lambda e: type(e).__name__)
def test_permanent_errors_are_never_retried(exc):
    assert not RetryPolicy(max_attempts=10).should_retry(1, exc)


def test_no_exception_is_not_retried():
    assert not RetryPolicy().should_retry(1, None)


def test_no_retry_policy_makes_one_attempt():
    assert NO_RETRY.max_attempts == 1
    assert not NO_RETRY.should_retry(1, server_error())


def test_retry_after_above_max_retry_after_stops():
    policy = RetryPolicy(max_attempts=5, max_retry_after=60.0)
    assert policy.should_retry(1, rate_limited(60.0))
    assert not policy.should_retry(1, rate_limited(60.5))
    assert not policy.should_retry(1, server_error(503, 3600.0))
    assert RetryPolicy(max_retry_after=0.0).should_retry(1, rate_limited(0.0))


def test_wait_for_uses_retry_after_even_above_max_wait():
    policy = RetryPolicy(max_wait=5.0, max_retry_after=60.0)
    assert policy.wait_for(1, rate_limited(42.0)) == 42.0
    assert policy.wait_for(3, server_error(503, 0.0)) == 0.0


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 10, 60])
def test_backoff_is_full_jitter_bounded_by_max_wait(attempt):
    policy = RetryPolicy(initial_wait=1.0, max_wait=30.0)
    ceiling = min(30.0, 2.0 ** (attempt - 1))
    assert policy.backoff(attempt, rng=lambda: 0.0) == 0.0
    assert policy.backoff(attempt, rng=lambda: 0.5) == pytest.approx(ceiling / 2)
    assert policy.backoff(attempt, rng=lambda: 0.999999) <= 30.0
    assert policy.backoff(attempt, rng=lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)


def test_wait_for_without_retry_after_is_bounded_backoff():
    policy = RetryPolicy(initial_wait=0.5, max_wait=4.0)
    for attempt in range(1, 12):
        ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
        waits = [policy.wait_for(attempt, server_error()) for _ in range(50)]
        assert all(0.0 <= w <= ceiling for w in waits)
    # Jittered: not the same value every time.
    assert len({policy.wait_for(5, server_error()) for _ in range(20)}) > 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_attempts": 0}, ValueError),
        ({"max_attempts": -1}, ValueError),
        ({"max_attempts": 2.0}, TypeError),
        ({"max_attempts": True}, TypeError),
        ({"max_attempts": "3"}, TypeError),
        ({"initial_wait": -0.1}, ValueError),
        ({"max_wait": -1}, ValueError),
        ({"max_retry_after": -1.0}, ValueError),
        ({"max_retry_after": "60"}, ValueError),
        ({"initial_wait": None}, ValueError),
        ({"max_wait": True}, ValueError),
        # NaN passes a "value < 0" check but is not a number of seconds >= 0: with
        # max_retry_after=NaN every Retry-After is refused, so no 429 is ever retried.
        pytest.param({"max_retry_after": math.nan}, ValueError, id="max_retry_after-nan"),
        pytest.param({"initial_wait": math.nan}, ValueError, id="initial_wait-nan"),
    ],
)
def test_invalid_policy_values_raise(kwargs, error):
    with pytest.raises(error) as info:
        RetryPolicy(**kwargs)
    assert next(iter(kwargs)) in str(info.value)


def test_valid_edge_values():
    policy = RetryPolicy(max_attempts=1, initial_wait=0, max_wait=0, max_retry_after=0)
    assert policy.backoff(3, rng=lambda: 0.7) == 0.0


# -- tenacity wiring --------------------------------------------------------------------------------
class Flaky:
    """Fails with the given errors in turn, then returns "ok"."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return ("ok", *args)


def test_retrying_two_transient_failures_then_success(caplog):
    sleeps = []
    fn = Flaky(rate_limited(2.0), server_error(503, 3.5))
    with caplog.at_level(logging.WARNING, logger="airflow_provider_onecodex.api.retry"):
        result = RetryPolicy(max_attempts=5).retrying(sleep=sleeps.append)(fn, "x")
    assert result == ("ok", "x")
    assert fn.calls == 3
    assert sleeps == [2.0, 3.5]
    assert "Attempt 1/5 failed" in caplog.text
    assert "Attempt 2/5 failed" in caplog.text


def test_retrying_backoff_waits_follow_the_policy():
    sleeps = []
    fn = Flaky(server_error(), server_error())
    policy = RetryPolicy(max_attempts=5, initial_wait=1.0, max_wait=30.0)
    state = random.getstate()
    try:
        assert policy.retrying(sleep=sleeps.append)(fn) == ("ok",)
        random.setstate(state)
        expected = [policy.backoff(1), policy.backoff(2)]
    finally:
        random.setstate(state)
    assert fn.calls == 3
    assert sleeps == expected
    assert 0.0 <= sleeps[0] <= 1.0 and 0.0 <= sleeps[1] <= 2.0


def test_retrying_permanent_error_calls_once_and_reraises_it():
    sleeps = []
    error = OneCodexAuthError(401, "GET", PATH, "who are you")
    fn = Flaky(error)
    with pytest.raises(OneCodexAuthError) as info:
        RetryPolicy().retrying(sleep=sleeps.append)(fn)
    assert info.value is error
    assert fn.calls == 1
    assert sleeps == []


def test_retrying_exhausted_raises_last_error_not_retry_error():
    sleeps = []
    errors = [server_error(), server_error(502), server_error(504)]
    fn = Flaky(*errors)
    with pytest.raises(OneCodexServerError) as info:
        RetryPolicy(max_attempts=3).retrying(sleep=sleeps.append)(fn)
    assert not isinstance(info.value, tenacity.RetryError)
    assert info.value is errors[2]
    assert fn.calls == 3
    assert len(sleeps) == 2


def test_retrying_long_retry_after_raises_at_once():
    sleeps = []
    fn = Flaky(rate_limited(3600.0))
    with pytest.raises(OneCodexRateLimitError):
        RetryPolicy(max_retry_after=60.0).retrying(sleep=sleeps.append)(fn)
    assert fn.calls == 1
    assert sleeps == []


async def test_async_retrying_uses_the_same_policy():
    sleeps = []

    async def fake_sleep(seconds):
        sleeps.append(seconds)

    calls = 0

    async def fn():
        nonlocal calls
        calls += 1
        if calls < 3:
            raise rate_limited(1.25)
        return "done"

    assert await RetryPolicy().async_retrying(sleep=fake_sleep)(fn) == "done"
    assert calls == 3
    assert sleeps == [1.25, 1.25]
