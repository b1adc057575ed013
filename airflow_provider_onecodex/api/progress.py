"""How a wait carries on from one poll to the next: failure counting, fail-fast, ``Retry-After``.

:func:`advance` is the one rule, used by the sensors' pokes (poke and reschedule modes) and the
triggers, on the outcomes of :func:`~airflow_provider_onecodex.api.waiting.outcome_of` and
:func:`~airflow_provider_onecodex.api.samples.sample_outcome`. :class:`WaitProgress` is what a wait
remembers between polls; it is JSON-native so it rides in trigger kwargs and the task state store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


def give_up_on_transient(message: str, failures: int) -> dict[str, Any]:
    """The failed outcome after ``failures`` polls in a row ended in transient errors."""
    return {
        "status": "failed",
        "kind": "transient",
        "message": f"{failures} polls in a row failed; last error: {message}",
    }


#: Seconds a wait that has never had an answer from One Codex keeps retrying a configuration
#: failure (connection refused, name not resolved, TLS error) before it fails: a server restarting
#: as the wait begins is forgiven, a wrong host is reported within about a minute.
NEVER_REACHED_GRACE = 60.0
#: failed polls in a row after which a wait (or a watch, for configuration failures) gives up
MAX_CONSECUTIVE_FAILURES = 10


@dataclass
class WaitProgress:
    """What a wait remembers between polls, JSON-native (trigger kwargs, the task state store).

    :ivar failures: polls in a row that ended in transient errors.
    :ivar reached: some poll of this wait got an answer from One Codex (records or "not yet").
    :ivar unreachable_since: epoch seconds of the first configuration failure before any answer.
    :ivar not_before: epoch seconds before which the next poll must not be sent (``Retry-After``).
    """

    failures: int = 0
    reached: bool = False
    unreachable_since: float | None = None
    not_before: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> WaitProgress:
        """Rebuild from :meth:`to_dict`; anything unreadable starts afresh (progress is a hint)."""
        if not isinstance(data, Mapping):
            return cls()
        failures, reached = data.get("failures", 0), data.get("reached", False)
        times = [data.get("unreachable_since"), data.get("not_before")]
        times = [t if isinstance(t, (int, float)) and not isinstance(t, bool) else None for t in times]
        if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
            failures = 0
        return cls(failures, reached is True, times[0], times[1])

    def next_poll_in(self, poll_interval: float, now: float) -> float:
        """Seconds until the next poll: ``poll_interval``, or longer when One Codex asked for a pause."""
        if self.not_before is None:
            return poll_interval
        return max(poll_interval, self.not_before - now)


def advance(
    progress: WaitProgress,
    outcome: dict[str, Any],
    *,
    now: float,
    poll_interval: float,
    max_consecutive_failures: int,
    max_retry_after: float | None = None,
) -> dict[str, Any]:
    """The one rule for what a poll's outcome means for the wait, in every mode; updates ``progress``.

    Returns the outcome to act on: ``success``/``failed``/``timeout`` end the wait; ``pending`` and
    ``transient`` keep it going (log their message).

    - A configuration failure (401/402/403, connection refused, name not resolved, TLS error) before
      any poll of this wait was answered means the connection is wrong: 401/402/403 fail at once, a
      network cause once :data:`NEVER_REACHED_GRACE` would be exceeded by the next poll. After One
      Codex has answered once, the same errors are an outage (a key rotation, a restart): they count
      toward ``max_consecutive_failures`` like any transient error.
    - ``max_consecutive_failures`` transient polls in a row fail the wait (kind ``transient``).
    - A ``Retry-After`` (429/503) longer than ``poll_interval`` delays the next poll to no sooner than
      asked, capped by ``max_retry_after`` seconds (see :meth:`WaitProgress.next_poll_in`).
    """
    status = outcome.get("status")
    retry_after = outcome.get("retry_after")
    progress.not_before = None
    if isinstance(retry_after, (int, float)) and retry_after > poll_interval:
        cap = (
            retry_after if max_retry_after is None else min(retry_after, max(max_retry_after, poll_interval))
        )
        progress.not_before = now + cap
    if status in ("success", "pending"):
        progress.failures, progress.reached, progress.unreachable_since = 0, True, None
        return outcome
    if outcome.get("config"):
        if progress.reached:
            outcome = {"status": "transient", "message": outcome["message"]}  # an outage, not a wrong host
        elif status == "failed":
            return outcome
        else:
            if progress.unreachable_since is None:
                progress.unreachable_since = now
            if now - progress.unreachable_since + poll_interval > NEVER_REACHED_GRACE:
                return {
                    "status": "failed",
                    "kind": "unreachable",
                    "message": f"One Codex was never reached for this wait: {outcome['message']}",
                }
    if outcome.get("status") != "transient":
        return outcome
    progress.failures += 1
    if progress.failures >= max_consecutive_failures:
        return give_up_on_transient(outcome["message"], progress.failures)
    return outcome
