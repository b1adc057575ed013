"""The one retry policy, shared by the sync and the async client (tenacity).

Transient failures (connection errors, timeouts, 429, 500, 502, 503, 504, a 2xx body that is not
JSON) are retried with exponential backoff and full jitter. A ``Retry-After`` from the server
(seconds or an HTTP date) replaces the backoff for that attempt; one longer than
``max_retry_after`` is not waited for: the error is raised at once so that no worker sleeps for
hours (a sensor treats it as "not yet" and polls again later). Permanent failures (400, 401, 402,
403, 404, 409, 422, malformed records) are never retried.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import tenacity

from airflow_provider_onecodex.api.errors import OneCodexAPIError, is_transient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one request.

    :param max_attempts: attempts in all, the first included (default 5; 1 disables retries).
    :param initial_wait: seconds of the first backoff before jitter (default 1.0).
    :param max_wait: cap of one backoff wait, seconds (default 30.0).
    :param max_retry_after: longest ``Retry-After`` honoured, seconds (default 60.0); a longer one
        ends the retries and raises the 429/503 error.
    """

    max_attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 30.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or isinstance(self.max_attempts, bool):
            raise TypeError(f"max_attempts must be an int, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts!r}")
        for name in ("initial_wait", "max_wait", "max_retry_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): full jitter."""
        ceiling: float = min(self.max_wait, self.initial_wait * 2.0 ** (attempt - 1))
        return ceiling * rng()

    def wait_for(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds to wait before the next attempt: ``Retry-After`` if the server sent one, else backoff."""
        retry_after: float | None = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return self.backoff(attempt)

    def should_retry(self, attempt: int, exc: BaseException | None) -> bool:
        """Whether failed attempt ``attempt`` (1-based) is followed by another one."""
        if exc is None or not is_transient(exc) or attempt >= self.max_attempts:
            return False
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is None or retry_after <= self.max_retry_after

    def mark_throttled(self, exc: OneCodexAPIError) -> OneCodexAPIError:
        """Flag an error whose ``Retry-After`` outlasted this policy's cap, so waits read it as "later"."""
        if exc.retry_after is not None and exc.retry_after > self.max_retry_after:
            exc.throttled = True
            exc.add_note_to_message(
                f"Retry-After of {exc.retry_after:g} s exceeds max_retry_after ({self.max_retry_after:g} s): not retried"
            )
        return exc

    # tenacity plumbing: the decisions above are the policy; these adapt them.
    def _tenacity_kwargs(self) -> dict[str, Any]:
        def retry(state: tenacity.RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            return self.should_retry(state.attempt_number, exc)

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return self.wait_for(state.attempt_number, exc)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            what = str(exc) if isinstance(exc, OneCodexAPIError) else type(exc).__name__
            seconds = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "Attempt %d/%d failed (%s); retrying in %.1f s",
                state.attempt_number,
                self.max_attempts,
                what,
                seconds,
            )

        return {"retry": retry, "wait": wait, "before_sleep": before_sleep, "reraise": True}

    def retrying(self, sleep: Callable[[float], None] | None = None) -> tenacity.Retrying:
        """A tenacity ``Retrying`` applying this policy; ``sleep`` is injectable for tests."""
        kwargs = self._tenacity_kwargs()
        if sleep is not None:
            kwargs["sleep"] = sleep
        return tenacity.Retrying(**kwargs)

    def async_retrying(self, sleep: Callable[[float], Awaitable[None]] | None = None) -> Any:
        """A tenacity ``AsyncRetrying`` applying this policy (imported lazily: asyncio machinery)."""
        from tenacity.asyncio import AsyncRetrying

        kwargs = self._tenacity_kwargs()
        if sleep is not None:
            kwargs["sleep"] = sleep
        return AsyncRetrying(**kwargs)


NO_RETRY = RetryPolicy(max_attempts=1)
