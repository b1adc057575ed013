"""Deferrable waiting for One Codex analyses (alignments, classifications, panels...) and samples.

:class:`OneCodexAnalysisTrigger` registers its wait with the process's shared poller
(:mod:`.poller`), which batches every waiting trigger's ids into listing requests;
:class:`OneCodexSampleTrigger` polls one sample. Both decide with the same functions as the
sensors' pokes (:mod:`airflow_provider_onecodex.api.waiting`, :mod:`airflow_provider_onecodex.api.samples`)
and share one loop (deadline, failure counting, events), so every mode ends the same way. Their
kwargs are JSON-native and never hold the API key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_onecodex.api.config import validate_conn_id
from airflow_provider_onecodex.api.errors import OneCodexAuthError, OneCodexError
from airflow_provider_onecodex.api.progress import MAX_CONSECUTIVE_FAILURES, WaitProgress, advance
from airflow_provider_onecodex.api.waiting import WaitSpec, timeout_outcome

# A waiting trigger logs when its state changes, and repeats an unchanged pending state at most
# every LOG_EVERY seconds (the shared poller spaces repeats further when it holds many waits).
LOG_EVERY = 600.0


class _OneCodexPollingTrigger(BaseTrigger):
    """The loop every One Codex trigger shares: deadline, consecutive-failure count, one final event.

    Subclasses provide :meth:`outcomes` (one outcome dict per poll, paced by the subclass),
    :meth:`timeout_event` and :meth:`describe`.

    :param onecodex_conn_id: Airflow connection id; the key is read in the triggerer, never passed.
    :param poll_interval: seconds between polls (> 0).
    :param deadline: absolute end of the wait, epoch seconds (``None`` = no trigger-side deadline).
        Enforced here too, because ``dag.test()`` does not enforce deferral timeouts.
    :param timeout: the sensor's total ``timeout`` in seconds, for the timeout message.
    :param max_consecutive_failures: polls in a row ending in transient errors (after the client's
        own retries) before the trigger gives up with a ``failed`` event of kind ``transient``.
    :param consecutive_failures: transient failures already in a row when the wait was deferred
        (the sensor's first poke), so the count and the give-up message match poke mode. Default 0.
    :param reached: One Codex answered a poll of this wait before it was deferred (see
        :func:`~airflow_provider_onecodex.api.progress.advance`). Default False.
    :param unreachable_since: epoch seconds of the wait's first configuration failure (refused,
        name not resolved, TLS) before any answer, or None.
    """

    def __init__(
        self,
        onecodex_conn_id: str,
        poll_interval: float,
        deadline: float | None = None,
        timeout: float | None = None,
        max_consecutive_failures: int = MAX_CONSECUTIVE_FAILURES,
        consecutive_failures: int = 0,
        reached: bool = False,
        unreachable_since: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        # Kwargs cross a serialization boundary: refuse bad state here rather than in the triggerer.
        validate_conn_id(onecodex_conn_id)
        for name, value, low in (
            ("max_consecutive_failures", max_consecutive_failures, 1),
            ("consecutive_failures", consecutive_failures, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        for name, number in (("poll_interval", poll_interval), ("deadline", deadline), ("timeout", timeout)):
            if number is None and name != "poll_interval":
                continue
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not number > 0:
                raise ValueError(f"{name} must be a number of seconds > 0, got {number!r}")
        self.onecodex_conn_id = onecodex_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)
        self.timeout = None if timeout is None else float(timeout)
        self.max_consecutive_failures = max_consecutive_failures
        self.consecutive_failures = consecutive_failures
        self.reached = reached is True
        self.unreachable_since = None if unreachable_since is None else float(unreachable_since)
        self._progress: WaitProgress | None = None  # of the running wait (run), for pacing sources
        self._max_retry_after: float | None = None  # the connection's, once a source has read it

    def _common_kwargs(self) -> dict[str, Any]:
        return {
            "onecodex_conn_id": self.onecodex_conn_id,
            "poll_interval": self.poll_interval,
            "deadline": self.deadline,
            "timeout": self.timeout,
            "max_consecutive_failures": self.max_consecutive_failures,
            "consecutive_failures": self.consecutive_failures,
            "reached": self.reached,
            "unreachable_since": self.unreachable_since,
        }

    def describe(self) -> str:
        raise NotImplementedError

    def timeout_event(self) -> dict[str, Any]:
        raise NotImplementedError

    def outcomes(self) -> AsyncIterator[dict[str, Any]]:
        """Outcomes as they change, paced by the subclass; a ``timeout`` outcome ends the wait.

        Every ``pending`` outcome yielded is logged: a source yields changes, and repeats an
        unchanged one at most every :data:`LOG_EVERY` seconds; ``transient`` ones come every poll.
        """
        raise NotImplementedError

    def remaining(self) -> float | None:
        """Seconds to the deadline (``None`` without one)."""
        return None if self.deadline is None else self.deadline - time.time()

    def pause_beyond_interval(self) -> float:
        """Seconds beyond ``poll_interval`` One Codex asked for (``Retry-After`` through the progress
        rule, capped by the connection's ``max_retry_after``), for sources that pace themselves."""
        if self._progress is None:
            return 0.0
        return self._progress.next_poll_in(self.poll_interval, time.time()) - self.poll_interval

    async def run(self) -> AsyncIterator[TriggerEvent]:
        progress = WaitProgress(self.consecutive_failures, self.reached, self.unreachable_since)
        self._progress = progress
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            yield TriggerEvent(self.timeout_event())
            return
        outcomes = self.outcomes()
        first = True
        try:
            async for outcome in outcomes:
                if outcome["status"] != "timeout":
                    # The one rule of every mode: failure counting, fail-fast before any answer.
                    outcome = advance(
                        progress,
                        outcome,
                        now=time.time(),
                        poll_interval=self.poll_interval,
                        max_consecutive_failures=self.max_consecutive_failures,
                        max_retry_after=self._max_retry_after,
                    )
                if outcome["status"] == "transient":
                    self.log.warning(
                        "Polling %s failed (%d in a row): %s",
                        self.describe(),
                        progress.failures,
                        outcome["message"],
                    )
                    continue
                if outcome["status"] == "pending":
                    # The sensor logged the state it deferred on; sources send changes and
                    # spaced reminders only (a triggerer may hold 10,000 waits).
                    log = self.log.debug if first else self.log.info
                    log("Waiting for %s: %s", self.describe(), outcome["message"])
                    first = False
                    continue
                yield TriggerEvent(outcome)
                return
        finally:
            await outcomes.aclose()  # type: ignore[attr-defined]


class OneCodexAnalysisTrigger(_OneCodexPollingTrigger):
    """Fire one event when the wait in ``spec`` ends.

    :param spec: a :class:`~airflow_provider_onecodex.api.waiting.WaitSpec` as a dict (``to_dict()``).
    Other parameters as :class:`_OneCodexPollingTrigger`.

    Events: ``{"status": "success", "value": ..., "message": ...}``,
    ``{"status": "failed", "kind": ..., "message": ...}``, ``{"status": "timeout", "message": ...}``.
    """

    def __init__(
        self, spec: dict[str, Any], onecodex_conn_id: str, poll_interval: float, **kwargs: Any
    ) -> None:
        super().__init__(onecodex_conn_id, poll_interval, **kwargs)
        self._spec = WaitSpec.from_dict(spec)
        self.spec = spec

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"spec": self.spec, **self._common_kwargs()},
        )

    def describe(self) -> str:
        return self._spec.describe()

    def timeout_event(self) -> dict[str, Any]:
        return timeout_outcome(self._spec, self.timeout or 0.0)

    async def outcomes(self) -> AsyncIterator[dict[str, Any]]:
        from airflow_provider_onecodex.triggers.poller import get_poller

        spec = self._spec
        poller = get_poller(self.onecodex_conn_id, spec.resource, self.poll_interval)
        waiter = poller.register(spec)
        remaining = self.remaining()
        if remaining is not None:
            waiter.expire_at(remaining)
        try:
            while True:
                outcome = await waiter.next()  # the shared poller wakes this wait only on news
                if outcome is None:
                    yield self.timeout_event()
                    return
                yield outcome
        finally:
            poller.unregister(waiter)


class OneCodexSampleTrigger(_OneCodexPollingTrigger):
    """Fire one event when a sample becomes usable, fails, or the deadline passes.

    Polls ``GET /api/v1/samples/{id}`` every ``poll_interval`` seconds with the async hook and
    decides with the sensor's own function (:func:`~airflow_provider_onecodex.api.samples.sample_outcome`).

    :param sample_id: the sample (16 hex characters).
    :param wait_for_primary_classification: also wait for ``primary_classification``.
    Other parameters as :class:`_OneCodexPollingTrigger`.

    Events: the outcome shapes of ``sample_outcome`` (``success`` with the record as ``value``,
    ``failed`` with ``kind``) or ``{"status": "timeout", "message"}``.
    """

    def __init__(
        self,
        sample_id: str,
        onecodex_conn_id: str,
        poll_interval: float,
        wait_for_primary_classification: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(onecodex_conn_id, poll_interval, **kwargs)
        from airflow_provider_onecodex.api.ids import validate_id

        if not isinstance(wait_for_primary_classification, bool):
            raise TypeError(
                f"wait_for_primary_classification must be True or False, got {wait_for_primary_classification!r}"
            )
        self.sample_id = validate_id(sample_id, "sample_id", resource="samples")
        self.wait_for_primary_classification = wait_for_primary_classification

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "sample_id": self.sample_id,
                "wait_for_primary_classification": self.wait_for_primary_classification,
                **self._common_kwargs(),
            },
        )

    def describe(self) -> str:
        return f"sample {self.sample_id}"

    def timeout_event(self) -> dict[str, Any]:
        from airflow_provider_onecodex.api.samples import sample_timeout_outcome

        return sample_timeout_outcome(self.sample_id, self.timeout or 0.0)

    async def outcomes(self) -> AsyncIterator[dict[str, Any]]:
        from airflow_provider_onecodex.api.samples import sample_outcome
        from airflow_provider_onecodex.triggers.connection import ConnectionClient

        connection = ConnectionClient(self.onecodex_conn_id)  # the connection as it is at each poll
        loop = asyncio.get_running_loop()
        last: dict[str, Any] | None = None  # the outcome last yielded, and when (loop time)
        said = 0.0
        try:
            while True:
                started = loop.time()
                record: dict[str, Any] | None = None
                error: BaseException | None = None
                try:
                    client = await connection.current()
                    self._max_retry_after = client.config.retry.max_retry_after
                    try:
                        record = dict(await client.get_record("samples", self.sample_id))
                    except OneCodexAuthError:
                        if not await connection.changed():  # else the key was rotated: ask again
                            raise
                        assert connection.client is not None
                        record = dict(await connection.client.get_record("samples", self.sample_id))
                except OneCodexError as exc:
                    error = exc
                outcome = sample_outcome(
                    self.sample_id,
                    record,
                    error,
                    wait_for_primary_classification=self.wait_for_primary_classification,
                )
                if outcome != last or outcome["status"] != "pending" or started >= said + LOG_EVERY:
                    last, said = outcome, started
                    yield outcome
                # The period counts from the poll's start; the deadline cuts the sleep short.
                remaining = self.remaining()
                delay = started + self.poll_interval - loop.time() + self.pause_beyond_interval()
                if remaining is not None and remaining <= delay:
                    await asyncio.sleep(max(0.0, remaining))
                    yield self.timeout_event()
                    return
                await asyncio.sleep(max(0.0, delay))
        finally:
            await connection.aclose()
