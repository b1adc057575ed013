"""Batched polling shared by every deferred One Codex wait in one triggerer process.

N triggers waiting on analyses of the same connection do not send N GETs per poll interval: they
register with one :class:`SharedPoller` per ``(event loop, conn id, resource, poll interval)``,
which fetches all their records with ``$uri $in`` listings of at most
:data:`~airflow_provider_onecodex.api.batch.ID_BATCH` ids each, so that the URL stays under
gunicorn's 4094-byte request line (sample waits: ``{"sample": {"$in": [...]}}``, at most
:data:`SAMPLE_BATCH` samples), judges every wait with the one completion rule
(:func:`~airflow_provider_onecodex.api.waiting.outcome_of`) and wakes a trigger only when its
outcome changed, a poll failed, or it is due for a "still waiting" log line. A poll round costs
O(waits) CPU, allocates no task per wait, and keeps no record beyond the request it came in.

Rounds keep their period: a round starts ``poll_interval`` seconds after the previous one
*started*; a round that took longer starts the next one at once. A ``Retry-After`` longer than the
interval (on a 429/503) moves the next round to no sooner than the server asked, capped by the
connection's ``max_retry_after``. The connection is read again before every round: a rotated key
or a new host is used from the next round on (a new HTTP client, never old and new credentials in
one request), and a 401 re-reads it at once and repeats the round when it changed.

State lives only in memory and every trigger registers itself when it starts, so triggers moving
between triggerers (HA) need nothing special.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_onecodex.api.batch import ID_BATCH, LINE_OVERHEAD, REQUEST_LINE_LIMIT, records_by_ids
from airflow_provider_onecodex.api.errors import OneCodexError
from airflow_provider_onecodex.api.ids import id_from_uri, record_id, ref
from airflow_provider_onecodex.api.waiting import WaitSpec, error_outcome, outcome_of
from airflow_provider_onecodex.triggers import onecodex as _triggers
from airflow_provider_onecodex.triggers.connection import ConnectionClient

if TYPE_CHECKING:
    from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient

log = logging.getLogger(__name__)

# Sample waits list by {"sample": {"$in": [{"$ref": ...}, ...]}}: a $ref costs more URL bytes than
# a $uri, so fewer per request, under the same request-line limit as api.batch.ID_BATCH.
SAMPLE_BATCH = (REQUEST_LINE_LIMIT - LINE_OVERHEAD) // len(
    quote(json.dumps(ref("samples", "0" * 16), separators=(",", ":")) + ",", safe="")
)
CONCURRENT_REQUESTS = 4  # listing requests of one round in flight at once
# Log volume: an unchanged pending wait is re-delivered (and logs that it is still waiting) at most
# every onecodex.LOG_EVERY seconds (10 min), and one poller's waits together at most
# LOG_LINES_PER_SECOND times a second: 10,000 waits write ~900 such lines an hour (~0.5 MB of
# JSON log lines), not 10,000 per round (each wait then logs every 11 h; up to 150 waits, every
# 10 minutes).
LOG_LINES_PER_SECOND = 0.25


class Waiter:
    """One trigger's registration: its spec and a one-slot mailbox the poller fills.

    The trigger awaits :meth:`next`; the poller calls :meth:`deliver` (an outcome dict, or the
    exception judging raised) only when the outcome changed, a poll failed, or a "still waiting"
    line is due. :meth:`expire` (armed with :meth:`expire_at`) wakes the trigger at its deadline.
    """

    __slots__ = ("_future", "_slot", "_timer", "expired", "last", "phase", "said", "spec")

    def __init__(self, spec: WaitSpec) -> None:
        self.spec = spec
        self.last: dict[str, Any] | None = None  # the outcome last delivered
        # An unchanged pending outcome is re-delivered (a reminder) from loop time
        # said + phase * poller.log_every(): the first reminder at a random point of a period
        # (waits registered together do not remind together), then every period.
        self.said = 0.0
        self.phase = 1.0
        self.expired = False
        self._slot: dict[str, Any] | BaseException | None = None
        self._future: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def _wake(self) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_result(None)

    def deliver(self, outcome: dict[str, Any] | BaseException) -> None:
        # Keep only the newest: a slow trigger needs the latest state, not a backlog.
        self._slot = outcome
        if isinstance(outcome, dict):
            self.last = outcome
        self._wake()

    def expire_at(self, delay: float) -> None:
        """Make :meth:`next` return ``None`` in ``delay`` seconds (the wait's deadline)."""
        self._timer = asyncio.get_running_loop().call_later(max(0.0, delay), self.expire)

    def expire(self) -> None:
        self._timer = None
        self.expired = True
        self._wake()

    async def next(self) -> dict[str, Any] | None:
        """The next delivered outcome; ``None`` once the deadline armed by :meth:`expire_at` passed.

        :raises Exception: what judging the records raised (not a One Codex error: a bug, or a
            connection that cannot be read), so the trigger fails with it.
        """
        while self._slot is None:
            if self.expired:
                return None
            self._future = asyncio.get_running_loop().create_future()
            await self._future
        got, self._slot = self._slot, None
        if isinstance(got, BaseException):
            raise got
        return got

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class SharedPoller:
    """Polls for every registered waiter, one listing per batch of ids, once per interval."""

    def __init__(self, key: tuple[Any, ...], conn_id: str, resource: str, poll_interval: float) -> None:
        self.key = key
        self.conn_id = conn_id
        self.resource = resource
        self.poll_interval = poll_interval
        self.waiters: set[Waiter] = set()
        self.requests = 0  # listing requests sent, for benchmarks and tests
        self.rounds = 0  # rounds started
        self.not_before = 0.0  # loop time before which no round starts (Retry-After)
        self.connection = ConnectionClient(conn_id)
        self._by_id: dict[str, list[Waiter]] = {}  # id-mode waiters by each id they wait on
        self._task: asyncio.Task[None] | None = None

    def register(self, spec: WaitSpec) -> Waiter:
        waiter = Waiter(spec)
        loop = asyncio.get_running_loop()
        waiter.said, waiter.phase = loop.time(), random.random()
        self.waiters.add(waiter)
        for i in spec.ids:
            self._by_id.setdefault(i, []).append(waiter)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name=f"onecodex-poller-{self.key}")
        return waiter

    def unregister(self, waiter: Waiter) -> None:
        waiter.close()
        self.waiters.discard(waiter)
        for i in waiter.spec.ids:
            others = self._by_id.get(i)
            if others is not None and waiter in others:
                others.remove(waiter)
                if not others:
                    del self._by_id[i]
        if not self.waiters:
            _POLLERS.pop(self.key, None)
            if self._task is not None and self._task is not asyncio.current_task():
                self._task.cancel()

    def log_every(self) -> float:
        """Seconds between "still waiting" re-deliveries to one wait (grows with the waits held)."""
        return max(_triggers.LOG_EVERY, len(self.waiters) / LOG_LINES_PER_SECOND)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        try:
            while self.waiters:
                delay = max(next_at, self.not_before) - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if not self.waiters:
                    break
                started = loop.time()
                next_at = started + self.poll_interval  # from the start: a long round does not drift
                try:
                    await self.poll_once()
                except Exception as exc:  # a bug must fail the waits loudly, not leave them hanging
                    log.exception("Polling %s for %s failed", self.resource, self.conn_id)
                    for w in list(self.waiters):
                        w.deliver(exc)
        finally:
            await self.connection.aclose()

    async def poll_once(self) -> None:
        """One round: fetch every registered wait's records, judge them, wake the changed ones."""
        self.rounds += 1
        try:
            client = await self.connection.current()
        except Exception as exc:  # the connection cannot be read or used: every wait says why
            for w in list(self.waiters):
                w.deliver(error_outcome(exc) if isinstance(exc, OneCodexError) else exc)
            return
        errors: list[BaseException] = []
        refused = await self._round(client, list(self.waiters), errors, hold_auth=True)
        if refused:
            # A 401/403 may mean the key was rotated since this round read the connection.
            if await self.connection.changed():
                assert self.connection.client is not None
                await self._round(self.connection.client, list(refused), errors, hold_auth=False)
            else:
                for w, outcome in refused.items():
                    w.deliver(outcome)
        self._pace(errors, asyncio.get_running_loop().time())

    def _offer(self, w: Waiter, outcome: dict[str, Any] | BaseException, now: float) -> None:
        """Deliver ``outcome`` unless it is the pending outcome ``w`` already has (and no log is due)."""
        if isinstance(outcome, dict) and outcome["status"] == "pending":
            if outcome == w.last:
                # the period is computed now: it grows as waits join (a triggerer restarting
                # with 10,000 waits sends no burst of reminders from the first ones registered)
                if now < w.said + w.phase * self.log_every():
                    return  # the usual case: nothing changed, the trigger sleeps on
                outcome = w.last  # re-sent so the wait can say it is still waiting
            if w.last is not None:  # (the first reminder keeps its random phase)
                w.said, w.phase = now, 1.0
        w.deliver(outcome)

    def _pace(self, errors: list[BaseException], now: float) -> None:
        """Honour the longest ``Retry-After`` of the round when it exceeds the interval."""
        asked = max((getattr(e, "retry_after", None) or 0.0 for e in errors), default=0.0)
        if asked > self.poll_interval and self.connection.config is not None:
            wait = min(asked, self.connection.config.retry.max_retry_after)
            self.not_before = max(self.not_before, now + wait)
            log.info("One Codex asked to wait %g s: next poll of %s in %g s", asked, self.resource, wait)

    async def _round(
        self, client: AsyncOneCodexClient, members: list[Waiter], errors: list[BaseException], hold_auth: bool
    ) -> dict[Waiter, dict[str, Any]]:
        """Judge ``members`` and deliver their outcomes as they come (records die with their batch).

        :returns: with ``hold_auth``, the authentication failures, held back (not delivered).
        """
        now = asyncio.get_running_loop().time()
        judged: set[Waiter] = set()
        held: dict[Waiter, dict[str, Any]] = {}
        multi: dict[Waiter, list[dict[str, Any]]] = {}  # several-id waits gather across batches
        failed: dict[Waiter, BaseException] = {}
        wanted = set(members)

        def judge(w: Waiter, records: list[dict[str, Any]], error: BaseException | None = None) -> None:
            judged.add(w)
            try:
                outcome: dict[str, Any] | BaseException = outcome_of(w.spec, records, error)
            except Exception as exc:  # not a One Codex error: the trigger raises it
                outcome = exc
            if hold_auth and isinstance(outcome, dict) and outcome.get("kind") == "auth":
                held[w] = outcome
            else:
                self._offer(w, outcome, now)

        async def id_batch(batch: list[str]) -> None:
            await asyncio.sleep(0)  # judging the last batch and building this request: two steps
            self.requests += 1
            try:  # one request: the batch is at most api.batch.ID_BATCH ids
                records = await client.run(records_by_ids(self.resource, batch))
            except OneCodexError as exc:
                errors.append(exc)
                for i in batch:
                    for w in self._by_id.get(i, ()):
                        failed.setdefault(w, exc)
                return
            for record in records:
                for w in self._by_id.get(record_id(record) or "", ()):
                    if w not in wanted:
                        continue
                    if w.spec.single:
                        judge(w, [record])
                    else:
                        multi.setdefault(w, []).append(record)

        ids = list(dict.fromkeys(i for w in members for i in w.spec.ids))
        await _bounded([id_batch(ids[s : s + ID_BATCH]) for s in range(0, len(ids), ID_BATCH)])
        await self._sample_waits(client, [w for w in members if w.spec.sample_id], judge, errors)
        for w, exc in failed.items():
            if w in wanted:
                judge(w, [], exc)
        # (a wait that left during the round is not looked up one by one)
        missing = [w for w in members if not w.spec.sample_id and w not in judged and w in self.waiters]
        await _bounded([self._fill_missing(client, w, multi.get(w, []), judge) for w in missing])
        return held

    async def _fill_missing(
        self, client: AsyncOneCodexClient, w: Waiter, records: list[dict[str, Any]], judge: Any
    ) -> None:
        """GET the ids a listing did not return, to tell a 404 from a record that was just not listed."""
        seen = {record_id(r) for r in records}
        try:
            for i in w.spec.ids:
                if i not in seen:
                    records = [*records, await client.get_record(self.resource, i)]
        except OneCodexError as exc:
            judge(w, records, exc)
            return
        judge(w, records)

    async def _sample_waits(
        self, client: AsyncOneCodexClient, waits: list[Waiter], judge: Any, errors: list[BaseException]
    ) -> None:
        """Sample waits with the same filters share listings: one per batch of samples."""
        groups: dict[str, list[Waiter]] = {}
        for w in waits:
            groups.setdefault(_filters_key(w.spec), []).append(w)
        for members in groups.values():
            spec = members[0].spec
            by_sample: dict[str, list[Waiter]] = {}
            for w in members:
                by_sample.setdefault(str(w.spec.sample_id), []).append(w)
            samples = list(by_sample)
            for start in range(0, len(samples), SAMPLE_BATCH):
                batch = samples[start : start + SAMPLE_BATCH]
                where: dict[str, Any] = {k: v for k, v in spec.listing_where().items() if k != "sample"}
                where["sample"] = {"$in": [ref("samples", s) for s in batch]}
                found: dict[str, list[dict[str, Any]]] = {s: [] for s in batch}
                self.requests += 1
                try:
                    for record in await client.list_records(self.resource, where=where, max_records=None):
                        sid = id_from_uri(record.get("sample"))
                        if sid in found:
                            found[sid].append(record)
                except OneCodexError as exc:
                    errors.append(exc)
                    for s in batch:
                        for w in by_sample[s]:
                            judge(w, [], exc)
                    continue
                for s, records in found.items():
                    for w in by_sample[s]:
                        judge(w, records)


async def _bounded(jobs: list[Any]) -> None:
    """Await the coroutines ``jobs``, at most :data:`CONCURRENT_REQUESTS` at a time, in a few tasks."""
    if not jobs:
        return
    queue = iter(jobs)

    async def worker() -> None:
        for job in queue:
            await job

    try:
        await asyncio.gather(*(worker() for _ in range(min(CONCURRENT_REQUESTS, len(jobs)))))
    finally:
        for job in queue:  # cancelled: close what never started
            job.close()


def _filters_key(spec: WaitSpec) -> str:
    """Sample waits sharing this key can share a listing (same tax_id and extra filters)."""
    return json.dumps([spec.tax_id, spec.where], sort_keys=True)


_POLLERS: dict[tuple[Any, ...], SharedPoller] = {}


def get_poller(conn_id: str, resource: str, poll_interval: float) -> SharedPoller:
    """The shared poller of this event loop for ``(conn_id, resource, poll_interval)``."""
    key = (id(asyncio.get_running_loop()), conn_id, resource, float(poll_interval))
    poller = _POLLERS.get(key)
    if poller is None:
        poller = _POLLERS[key] = SharedPoller(key, conn_id, resource, float(poll_interval))
    return poller
