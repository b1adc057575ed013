"""Batched polling shared by every deferred One Codex wait in one triggerer process.

N triggers waiting on analyses of the same connection do not send N GETs per poll interval: they
register with one :class:`SharedPoller` per ``(event loop, conn id, resource, poll interval)``,
which fetches all their records with listing requests of at most :data:`CHUNK` ids each
(``where={"$uri": {"$in": [...]}}``; sample waits with ``{"sample": {"$in": [...]}}``), then hands
each trigger the records it asked for. State lives only in memory and every trigger registers
itself when it starts, so triggers moving between triggerers (HA) need nothing special.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_onecodex.api.ids import build_uri, id_from_uri, record_id, ref
from airflow_provider_onecodex.api.waiting import WaitSpec

log = logging.getLogger(__name__)

CHUNK = 100  # ids per listing request (One Codex pages hold up to 1000; 100 keeps URLs short)


@dataclass
class PollResult:
    """What one poll round brought a waiter: its records, or the error of its request."""

    records: list[dict[str, Any]] = field(default_factory=list)
    error: BaseException | None = None


class Waiter:
    """One trigger's registration: its spec and a mailbox for poll results."""

    def __init__(self, spec: WaitSpec) -> None:
        self.spec = spec
        self.mailbox: asyncio.Queue[PollResult] = asyncio.Queue(maxsize=1)

    def deliver(self, result: PollResult) -> None:
        # Keep only the newest result: a slow trigger needs the latest state, not a backlog.
        if self.mailbox.full():
            self.mailbox.get_nowait()
        self.mailbox.put_nowait(result)


class SharedPoller:
    """Polls for every registered waiter, one listing per chunk of ids, once per interval."""

    def __init__(self, key: tuple[Any, ...], conn_id: str, resource: str, poll_interval: float) -> None:
        self.key = key
        self.conn_id = conn_id
        self.resource = resource
        self.poll_interval = poll_interval
        self.waiters: set[Waiter] = set()
        self.requests = 0  # listing requests sent, for benchmarks and tests
        self._task: asyncio.Task[None] | None = None

    def register(self, spec: WaitSpec) -> Waiter:
        waiter = Waiter(spec)
        self.waiters.add(waiter)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"onecodex-poller-{self.key}"
            )
        return waiter

    def unregister(self, waiter: Waiter) -> None:
        self.waiters.discard(waiter)
        if not self.waiters:
            _POLLERS.pop(self.key, None)
            if self._task is not None and self._task is not asyncio.current_task():
                self._task.cancel()

    async def _run(self) -> None:
        from airflow_provider_onecodex.hooks.onecodex import OneCodexAsyncHook

        hook = OneCodexAsyncHook(self.conn_id)
        try:
            while self.waiters:
                await self.poll_once(hook)
                await asyncio.sleep(self.poll_interval)
        finally:
            await hook.aclose()

    async def poll_once(self, hook: Any) -> None:
        """One round: fetch every registered wait's records and deliver them."""
        waiters = list(self.waiters)
        by_id: dict[str, dict[str, Any]] = {}
        id_errors: dict[str, BaseException] = {}
        ids = sorted({i for w in waiters if w.spec.sample_id is None for i in w.spec.ids})
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            uris = {"$uri": {"$in": [build_uri(self.resource, i) for i in chunk]}}
            try:
                self.requests += 1
                for record in await hook.list_records(self.resource, where=uris, per_page=len(chunk)):
                    rid = record_id(record)
                    if rid is not None:
                        by_id[rid] = record
            except Exception as exc:
                id_errors.update(dict.fromkeys(chunk, exc))

        # Sample waits, grouped by their extra filters; one listing per chunk of samples.
        # Sample waits with the same filters share listings: one per chunk of samples.
        groups: dict[str, list[Waiter]] = {}
        for w in waiters:
            if w.spec.sample_id is not None:
                groups.setdefault(_filters_key(w.spec), []).append(w)
        by_sample: dict[tuple[str, str], list[dict[str, Any]]] = {}
        sample_errors: dict[tuple[str, str], BaseException] = {}
        for group, members in groups.items():
            spec = members[0].spec
            samples = sorted({w.spec.sample_id for w in members if w.spec.sample_id})
            for start in range(0, len(samples), CHUNK):
                chunk = samples[start : start + CHUNK]
                where: dict[str, Any] = {k: v for k, v in spec.listing_where().items() if k != "sample"}
                where["sample"] = {"$in": [ref("samples", s) for s in chunk]}
                for s in chunk:
                    by_sample[group, s] = []
                try:
                    self.requests += 1
                    for record in await hook.list_records(self.resource, where=where):
                        sid = id_from_uri(record.get("sample"))
                        if (group, sid) in by_sample:
                            by_sample[group, str(sid)].append(record)
                except Exception as exc:
                    sample_errors.update({(group, s): exc for s in chunk})

        for w in waiters:
            spec = w.spec
            if spec.sample_id is None:
                error = next((id_errors[i] for i in spec.ids if i in id_errors), None)
                records = [by_id[i] for i in spec.ids if i in by_id]
            else:
                key = (_filters_key(spec), spec.sample_id)
                error = sample_errors.get(key)
                records = by_sample.get(key, [])
            w.deliver(PollResult(records, error))


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
