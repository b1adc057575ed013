"""Event triggers for Airflow ``AssetWatcher``s: start DAG runs when One Codex has news.

- :class:`OneCodexNewSampleTrigger`: one event per sample that newly reaches a ``status``.
- :class:`OneCodexAnalysisCompletedTrigger`: one event per analysis that completes (by outcome).
- :class:`OneCodexWebhookEventsTrigger`: one event per new ``/api/v1/events`` record of the
  wanted types (accounts with webhooks).

Usage::

    from airflow.sdk import Asset, AssetWatcher
    trigger = OneCodexNewSampleTrigger(onecodex_conn_id="onecodex_default", poll_interval=60)
    new_samples = Asset("onecodex_new_samples", watchers=[AssetWatcher(name="s", trigger=trigger)])

The event payload (the asset event's ``extra["payload"]``) is small JSON: ids, status and
timestamps (:mod:`airflow_provider_onecodex.api.watching`), never records or secrets.

**Guarantees** (README, "Event-driven DAGs"). Each trigger keeps a high-water mark, stored in
the watched asset's ``asset_state_store`` (Airflow 3.3) once the events of a poll are handed over
and read on start: a triggerer restart resumes there, nothing missed, nothing twice (a crash in the
milliseconds between handing over and storing repeats those events once). The first start begins
at "now" unless ``start_from``. Watchers of one connection, route and ``poll_interval`` share one
listing per interval (``shared_stream_key``) and filter it in ``filter_shared_stream``. Failed
polls follow the waits' rule (:func:`~airflow_provider_onecodex.api.watching.after_failure`):
transient errors back off (:func:`~airflow_provider_onecodex.api.watching.error_delay`) and never
stop a watch; a 401/403 (or a refused connection, an unknown host, a TLS error) before One Codex
ever answered the watch logs an error naming the connection and stops the watcher, and an instance
restarted within :data:`~.event_poll.AUTH_COOLDOWN` seconds waits before asking again; after an
answer (a key rotation's gap) such failures back off, the connection read anew before each poll,
and stop the watcher only after ``MAX_CONSECUTIVE_FAILURES`` (10) in a row. **Airflow 3.2**: no
shared streams, no asset state store: each trigger polls alone (``run``), its mark in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Hashable, Mapping
from contextlib import aclosing, suppress
from datetime import datetime, timezone
from typing import Any, cast

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_onecodex.api import events as event_watch
from airflow_provider_onecodex.api import news, watching
from airflow_provider_onecodex.api.config import validate_conn_id
from airflow_provider_onecodex.api.matching import compile_where
from airflow_provider_onecodex.api.resources import validate_where
from airflow_provider_onecodex.api.watching import Mark
from airflow_provider_onecodex.triggers import event_poll

log = logging.getLogger(__name__)


def _check_interval(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"poll_interval must be a number of seconds > 0, got {value!r}")
    return float(value)


class _OneCodexWatchTrigger(BaseEventTrigger):
    """The poll loop, mark keeping and stream sharing of the One Codex event triggers.

    Subclasses implement :meth:`resource`, :meth:`_kwargs`, :meth:`_first_mark` and
    :meth:`_advance` (one poll's records -> events and next mark).
    """

    def __init__(self, onecodex_conn_id: str, poll_interval: float = 60.0) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        validate_conn_id(onecodex_conn_id)
        self.onecodex_conn_id = onecodex_conn_id
        self.poll_interval = _check_interval(poll_interval)
        self._mark: Mark | None = None
        self._demand_key: Hashable | None = None

    # -- what subclasses define --

    def resource(self) -> str:
        raise NotImplementedError

    def _kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

    def _first_mark(self) -> Mark:
        raise NotImplementedError

    def _advance(self, mark: Mark, batch: dict[str, Any]) -> watching.Step:
        raise NotImplementedError

    # -- Airflow's interface --

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {"onecodex_conn_id": self.onecodex_conn_id, "poll_interval": self.poll_interval}
        return f"{type(self).__module__}.{type(self).__qualname__}", {**kwargs, **self._kwargs()}

    def shared_stream_key(self) -> Hashable | None:
        """Watchers of one connection, route and interval share one listing (Airflow 3.3)."""
        return ("onecodex-watch", self.onecodex_conn_id, self.resource(), self.poll_interval)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """One poll loop for the group (Airflow 3.3): yields one listing per interval."""
        trigger = cls(**kwargs)
        key = trigger.shared_stream_key()
        async for batch in event_poll.poll(
            trigger.onecodex_conn_id, trigger.resource(), trigger.poll_interval, key
        ):
            yield batch

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        """This watcher's events from the group's listings, with its own mark and filter."""
        key = self._demand_key if self._demand_key is not None else self.shared_stream_key()
        mark = await self._load_mark()
        subscribers = event_poll.DEMAND.setdefault(key, {})
        subscribers[id(self)] = _floor_of(mark)
        try:
            async for batch in shared_stream:
                floor, mine = batch.get("floor"), _floor_of(mark)
                if (
                    floor is not None
                    and mine is not None
                    and watching.as_time(floor) > watching.as_time(mine)
                ):
                    continue  # listed before this watcher joined: the next poll starts at its mark
                result = self._advance(mark, batch)
                for note in result.notes:
                    log.warning("One Codex watch %s: %s", self.describe(), note)
                handed: list[str] = []
                try:
                    for payload in result.events:
                        handed.append(news.payload_id(payload))
                        yield TriggerEvent(payload)
                        handed.pop()  # the consumer came back for more: it has this one
                        mark = mark.with_seen([news.payload_id(payload)])
                finally:
                    if handed:  # closed at a yield: the event went out, keep it settled
                        await self._save_mark(mark.with_seen(handed))
                mark = result.mark
                if mark != self._mark:
                    await self._save_mark(mark)
                subscribers[id(self)] = _floor_of(mark)
        finally:
            subscribers.pop(id(self), None)
            if not subscribers:
                event_poll.DEMAND.pop(key, None)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Standalone loop (Airflow 3.2, or no shared stream): this watcher polls on its own."""
        self._demand_key = ("onecodex-watch-alone", id(self))
        stream = event_poll.poll(self.onecodex_conn_id, self.resource(), self.poll_interval, self._demand_key)
        filtered = cast(AsyncGenerator[TriggerEvent, None], self.filter_shared_stream(stream))
        async with aclosing(stream), aclosing(filtered) as events:
            async for event in events:
                yield event

    def describe(self) -> str:
        return f"{type(self).__name__}({self.onecodex_conn_id!r}, {self.resource()!r})"

    # -- the mark --

    def state_key(self) -> str:
        """The asset state store key of this watcher's mark: changes with what it watches (not
        with ``poll_interval`` or ``start_from``)."""
        _, kwargs = self.serialize()
        what = {k: v for k, v in kwargs.items() if k not in ("poll_interval", "start_from")}
        digest = hashlib.sha256(json.dumps([type(self).__name__, what], sort_keys=True).encode()).hexdigest()
        return f"onecodex_watch_{digest[:16]}"

    def _store(self) -> Any:
        return getattr(self, "asset_state_store", None)  # None on Airflow 3.2 and outside a triggerer

    async def _load_mark(self) -> Mark:
        if self._mark is not None:
            return self._mark
        stored = None
        if (store := self._store()) is not None:
            try:
                stored = await store.aget(self.state_key())
            except ValueError as exc:  # one trigger watching several assets: no single store
                log.warning("One Codex watch %s keeps its mark in memory: %s", self.describe(), exc)
        if stored is not None:
            try:
                self._mark = Mark.from_json(stored)
            except ValueError as exc:
                log.warning(
                    "One Codex watch %s: stored mark unreadable (%s); starting now", self.describe(), exc
                )
        if self._mark is None:
            self._mark = self._first_mark()
            await self._save_mark(self._mark)
        start = self._mark.since or "now (its first listing only records what exists)"
        log.info("One Codex watch %s starts at %s", self.describe(), start)
        return self._mark

    async def _save_mark(self, mark: Mark) -> None:
        self._mark = mark
        if (store := self._store()) is not None:
            with suppress(ValueError):  # several assets: warned about when loading
                await store.aset(self.state_key(), mark.to_json())


def _floor_of(mark: Mark) -> str | None:
    """What a subscriber needs listed: from its ``since`` (``None`` for event watches)."""
    return watching.listing_from(mark) if mark.since_time is not None else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class _OneCodexRecordWatchTrigger(_OneCodexWatchTrigger):
    """A watch of a record route (samples, analyses): this watcher's ``where``, its first start
    (``start_from``), and per listed record the subclass's rule (:attr:`_rule`) and payload."""

    _rule: Callable[[Mapping[str, Any]], news.Verdict]

    def __init__(
        self,
        onecodex_conn_id: str,
        resource: str,
        where: dict[str, Any] | str | None,
        poll_interval: float,
        start_from: str | datetime | None,
    ) -> None:
        super().__init__(onecodex_conn_id, poll_interval)
        self._resource = resource
        self.where = validate_where(where)
        self._match = compile_where(resource, self.where)
        self.start_from = watching.validate_start_from(start_from)

    def resource(self) -> str:
        return self._resource

    def _kwargs(self) -> dict[str, Any]:
        return {"where": self.where, "start_from": self.start_from}

    def _payload(self, record: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _first_mark(self) -> Mark:
        return watching.first_mark(self.start_from, _now())

    def _advance(self, mark: Mark, batch: dict[str, Any]) -> watching.Step:
        return watching.step(
            mark,
            batch["records"],
            rule=self._rule,
            payload=self._payload,
            match=self._match,
            now=_now(),
            truncated=batch["truncated"],
        )


class OneCodexNewSampleTrigger(_OneCodexRecordWatchTrigger):
    """Fire once per sample that newly reaches ``status`` (route ``GET /api/v1/samples``).

    :param onecodex_conn_id: Airflow connection id.
    :param where: this watcher's filter on ``status``, ``filename``, ``project``, ``tags``,
        ``owner``, ``visibility``, ``size``... (API grammar; see :mod:`~.api.matching`).
    :param status: the status that is news (default ``available``).
    :param poll_interval: seconds between listings (default 60).
    :param start_from: RFC 3339 timestamp to start from on the first start (default: now).
    :raises ValueError: a bad argument, naming it, when the trigger is built.

    Payload: ``{"kind": "sample", "sample_id", "status", "filename", "project_id",
    "created_at", "updated_at"}``.
    """

    def __init__(
        self,
        onecodex_conn_id: str,
        where: dict[str, Any] | str | None = None,
        status: str = "available",
        poll_interval: float = 60.0,
        start_from: str | datetime | None = None,
    ) -> None:
        super().__init__(onecodex_conn_id, "samples", where, poll_interval, start_from)
        self.status = news.validate_sample_status(status)
        self._rule = news.sample_rule(self.status)

    def _kwargs(self) -> dict[str, Any]:
        return {**super()._kwargs(), "status": self.status}

    def _payload(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return news.sample_payload(record)


class OneCodexAnalysisCompletedTrigger(_OneCodexRecordWatchTrigger):
    """Fire once per analysis that completes with ``outcome`` (route ``GET /api/v1/<resource>``).

    Completion is the one rule of :mod:`airflow_provider_onecodex.api.status` (``complete`` true;
    ``success`` decides the outcome).

    :param onecodex_conn_id: Airflow connection id.
    :param resource: ``analyses`` (default), ``alignments``, ``classifications``, ``panels``...
    :param where: this watcher's filter on ``sample``, ``job``, ``analysis_type``, ``tax_id``,
        ``success``, ``error_msg`` (API grammar).
    :param outcome: ``any`` (default), ``success`` or ``failure``.
    :param poll_interval: seconds between listings (default 60).
    :param start_from: RFC 3339 timestamp (analyses created since then) for the first start.
    :raises ValueError: a bad argument, naming it, when the trigger is built.

    Payload: ``{"kind": "analysis", "resource", "analysis_id", "sample_id", "job_id", "outcome":
    "success"|"failure", "error_msg", "created_at", "updated_at"}`` (+ ``analysis_type`` on
    ``analyses``, ``tax_id`` on ``alignments``).
    """

    def __init__(
        self,
        onecodex_conn_id: str,
        resource: str = "analyses",
        where: dict[str, Any] | str | None = None,
        outcome: str = "any",
        poll_interval: float = 60.0,
        start_from: str | datetime | None = None,
    ) -> None:
        super().__init__(onecodex_conn_id, news.analysis_resource(resource), where, poll_interval, start_from)
        self.outcome = news.validate_outcome(outcome)
        self._rule = news.analysis_rule(self.outcome)

    def _kwargs(self) -> dict[str, Any]:
        return {**super()._kwargs(), "resource": self._resource, "outcome": self.outcome}

    def _payload(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return news.analysis_payload(self._resource, record)


class OneCodexWebhookEventsTrigger(_OneCodexWatchTrigger):
    """Fire once per new ``/api/v1/events`` record whose type is in ``event_types``.

    For accounts with webhooks (events exist only then). Events have no timestamp to filter on,
    so every poll lists all retained events and the mark is the set of ids seen
    (:mod:`airflow_provider_onecodex.api.events`); the first start only records what exists.

    :param onecodex_conn_id: Airflow connection id.
    :param event_types: e.g. ``["sample.uploaded"]``, ``["analysis.succeeded", "analysis.failed"]``;
        ``["*"]`` for all.
    :param poll_interval: seconds between listings (default 60).
    :raises ValueError: empty or non-string ``event_types``.

    Payload: ``{"kind": "event", "event_id", "event_type", "status"}`` plus ``sample_id`` /
    ``analysis_id`` / ``created_at`` when the event's payload names them.
    """

    def __init__(self, onecodex_conn_id: str, event_types: list[str], poll_interval: float = 60.0) -> None:
        super().__init__(onecodex_conn_id, poll_interval)
        self.event_types = event_watch.validate_event_types(event_types)

    def resource(self) -> str:
        return "events"

    def _kwargs(self) -> dict[str, Any]:
        return {"event_types": self.event_types}

    def _first_mark(self) -> Mark:
        return Mark(None)

    def _advance(self, mark: Mark, batch: dict[str, Any]) -> watching.Step:
        return event_watch.event_step(mark, batch["records"], self.event_types)
