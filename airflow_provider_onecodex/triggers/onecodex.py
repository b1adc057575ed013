"""Deferrable waiting for One Codex analyses (alignments, classifications, panels...).

:class:`OneCodexAnalysisTrigger` registers its wait with the process's shared poller
(:mod:`.poller`), which batches every waiting trigger's ids into listing requests. The trigger
decides with the same functions as the sensor's poke (:func:`~airflow_provider_onecodex.api.waiting.outcome_of`),
so both modes end the same way. Its kwargs are JSON-native and never hold the API key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_onecodex.api.errors import OneCodexError
from airflow_provider_onecodex.api.waiting import (
    WaitSpec,
    give_up_on_transient,
    missing_ids,
    outcome_of,
    timeout_outcome,
)


class OneCodexAnalysisTrigger(BaseTrigger):
    """Fire one event when the wait in ``spec`` ends.

    :param spec: a :class:`~airflow_provider_onecodex.api.waiting.WaitSpec` as a dict (``to_dict()``).
    :param onecodex_conn_id: Airflow connection id; the key is read in the triggerer, never passed.
    :param poll_interval: seconds between polls (> 0).
    :param deadline: absolute end of the wait, epoch seconds (``None`` = no trigger-side deadline).
        Enforced here too, because ``dag.test()`` does not enforce deferral timeouts.
    :param timeout: the sensor's total ``timeout`` in seconds, for the timeout message.
    :param max_consecutive_failures: polls in a row ending in transient errors (after the client's
        own retries) before the trigger gives up with a ``failed`` event of kind ``transient``.
    :param consecutive_failures: transient failures already in a row when the wait was deferred
        (the sensor's first poke), so the count and the give-up message match poke mode. Default 0.

    Events: ``{"status": "success", "value": ..., "message": ...}``,
    ``{"status": "failed", "kind": ..., "message": ...}``, ``{"status": "timeout", "message": ...}``.
    """

    def __init__(
        self,
        spec: dict[str, Any],
        onecodex_conn_id: str,
        poll_interval: float,
        deadline: float | None = None,
        timeout: float | None = None,
        max_consecutive_failures: int = 10,
        consecutive_failures: int = 0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        # Kwargs cross a serialization boundary: refuse bad state here rather than in the triggerer.
        WaitSpec.from_dict(spec)
        for name, value, low in (
            ("max_consecutive_failures", max_consecutive_failures, 1),
            ("consecutive_failures", consecutive_failures, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, (int, float))
            or poll_interval <= 0
        ):
            raise ValueError(f"poll_interval must be a number of seconds > 0, got {poll_interval!r}")
        self.spec = spec
        self.onecodex_conn_id = onecodex_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)
        self.timeout = None if timeout is None else float(timeout)
        self.max_consecutive_failures = max_consecutive_failures
        self.consecutive_failures = consecutive_failures

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "spec": self.spec,
                "onecodex_conn_id": self.onecodex_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "timeout": self.timeout,
                "max_consecutive_failures": self.max_consecutive_failures,
                "consecutive_failures": self.consecutive_failures,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_onecodex.triggers.poller import get_poller

        spec = WaitSpec.from_dict(self.spec)
        poller = get_poller(self.onecodex_conn_id, spec.resource, self.poll_interval)
        waiter = poller.register(spec)
        failures = self.consecutive_failures
        try:
            while True:
                remaining = None if self.deadline is None else self.deadline - time.time()
                if remaining is not None and remaining <= 0:
                    yield TriggerEvent(timeout_outcome(spec, self.timeout or 0.0))
                    return
                try:
                    result = await asyncio.wait_for(waiter.mailbox.get(), timeout=remaining)
                except asyncio.TimeoutError:
                    continue
                records, error = result.records, result.error
                if error is None and spec.sample_id is None:
                    records, error = await self._fill_missing(spec, records)
                outcome = outcome_of(spec, records, error)
                if outcome["status"] == "transient":
                    failures += 1
                    self.log.warning(
                        "Polling %s failed (%d in a row): %s", spec.describe(), failures, outcome["message"]
                    )
                    if failures >= self.max_consecutive_failures:
                        yield TriggerEvent(give_up_on_transient(outcome["message"], failures))
                        return
                    continue
                failures = 0
                if outcome["status"] == "pending":
                    self.log.info("Waiting for %s: %s", spec.describe(), outcome["message"])
                    continue
                yield TriggerEvent(outcome)
                return
        finally:
            poller.unregister(waiter)

    async def _fill_missing(
        self, spec: WaitSpec, records: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], BaseException | None]:
        """GET ids a listing did not return, to tell a 404 from a record that was just not listed."""
        absent = missing_ids(spec, records)
        if not absent:
            return records, None
        from airflow_provider_onecodex.hooks.onecodex import OneCodexAsyncHook

        hook = OneCodexAsyncHook(self.onecodex_conn_id)
        try:
            for analysis_id in absent:
                records = [*records, await hook.get_record(spec.resource, analysis_id)]
        except OneCodexError as exc:
            return records, exc
        finally:
            await hook.aclose()
        return records, None


class OneCodexSampleTrigger(BaseTrigger):
    """Fire one event when a sample becomes usable, fails, or the deadline passes.

    Polls ``GET /api/v1/samples/{id}`` with the async hook and decides with the sensor's own
    function (:func:`~airflow_provider_onecodex.api.samples.sample_outcome`). Kwargs are
    JSON-native and never hold the API key.

    :param sample_id: the sample (16 hex characters).
    :param onecodex_conn_id: Airflow connection id; the key is read in the triggerer.
    :param poll_interval: seconds between polls (> 0).
    :param wait_for_primary_classification: also wait for ``primary_classification``.
    :param deadline: absolute end of the wait, epoch seconds (``None``: no trigger-side deadline).
    :param timeout: the sensor's ``timeout`` in seconds, for the timeout message.
    :param max_consecutive_failures: polls in a row ending in transient errors before giving up.

    Events: the outcome shapes of ``sample_outcome`` (``success`` with the record as ``value``,
    ``failed`` with ``kind``) or ``{"status": "timeout", "message"}``.
    """

    def __init__(
        self,
        sample_id: str,
        onecodex_conn_id: str,
        poll_interval: float,
        wait_for_primary_classification: bool = False,
        deadline: float | None = None,
        timeout: float | None = None,
        max_consecutive_failures: int = 10,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        from airflow_provider_onecodex.api.ids import validate_id

        if (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, (int, float))
            or poll_interval <= 0
        ):
            raise ValueError(f"poll_interval must be a number of seconds > 0, got {poll_interval!r}")
        self.sample_id = validate_id(sample_id, "sample_id", resource="samples")
        self.onecodex_conn_id = onecodex_conn_id
        self.poll_interval = float(poll_interval)
        self.wait_for_primary_classification = bool(wait_for_primary_classification)
        self.deadline = None if deadline is None else float(deadline)
        self.timeout = None if timeout is None else float(timeout)
        self.max_consecutive_failures = int(max_consecutive_failures)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "sample_id": self.sample_id,
                "onecodex_conn_id": self.onecodex_conn_id,
                "poll_interval": self.poll_interval,
                "wait_for_primary_classification": self.wait_for_primary_classification,
                "deadline": self.deadline,
                "timeout": self.timeout,
                "max_consecutive_failures": self.max_consecutive_failures,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_onecodex.api.samples import sample_outcome, sample_timeout_outcome
        from airflow_provider_onecodex.hooks.onecodex import OneCodexAsyncHook

        hook = OneCodexAsyncHook(self.onecodex_conn_id)
        failures = 0
        try:
            while True:
                remaining = None if self.deadline is None else self.deadline - time.time()
                if remaining is not None and remaining <= 0:
                    yield TriggerEvent(sample_timeout_outcome(self.sample_id, self.timeout or 0.0))
                    return
                record: dict[str, Any] | None = None
                error: BaseException | None = None
                try:
                    record = dict(await hook.get_sample(self.sample_id))
                except OneCodexError as exc:
                    error = exc
                outcome = sample_outcome(
                    self.sample_id,
                    record,
                    error,
                    wait_for_primary_classification=self.wait_for_primary_classification,
                )
                if outcome["status"] == "transient":
                    failures += 1
                    self.log.warning(
                        "Polling sample %s failed (%d in a row): %s",
                        self.sample_id,
                        failures,
                        outcome["message"],
                    )
                    if failures >= self.max_consecutive_failures:
                        yield TriggerEvent(give_up_on_transient(outcome["message"], failures))
                        return
                elif outcome["status"] == "pending":
                    failures = 0
                    self.log.info("Waiting: %s", outcome["message"])
                else:
                    yield TriggerEvent(outcome)
                    return
                pause = self.poll_interval if remaining is None else min(self.poll_interval, remaining)
                await asyncio.sleep(pause)
        finally:
            await hook.aclose()
