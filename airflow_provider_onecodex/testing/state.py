"""The live state of a running simulator: records, clock, request log and fault injector.

Analyses are time-driven: each is pending (``complete: false, success: false, error_msg: null,
updated_at: null``) until its ``complete_after`` delay has passed on the injected clock, then
complete with its outcome, as One Codex analyses move from running to succeeded or failed (API
reference §7.2). :class:`SimulatorState` renders records in the v1 API's shapes (through
:mod:`~airflow_provider_onecodex.testing.registry`) and lets tests add records and force outcomes
at run time (:mod:`~airflow_provider_onecodex.testing.writes`).

Listings pinned to ``$uri`` or ``sample`` ids are answered from indexes, so their cost follows the
records returned, not the records held.
"""

from __future__ import annotations

import copy
import random
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from airflow_provider_onecodex.testing import records as rec
from airflow_provider_onecodex.testing.errors import InvalidChange, NotAvailable, NotFound, PresignRefused
from airflow_provider_onecodex.testing.events import appeared, webhook_events
from airflow_provider_onecodex.testing.faults import FaultInjector
from airflow_provider_onecodex.testing.files import FilesMixin
from airflow_provider_onecodex.testing.ids import PREFIX
from airflow_provider_onecodex.testing.registry import COLLECTIONS, RESOURCES, Resource
from airflow_provider_onecodex.testing.render import account_json
from airflow_provider_onecodex.testing.requestlog import RequestLog, RequestRecord
from airflow_provider_onecodex.testing.scenario import Scenario, iso, load_scenario
from airflow_provider_onecodex.testing.upload_store import S3Endpoint, UploadBook
from airflow_provider_onecodex.testing.writes import WritesMixin

__all__ = [
    "GatedClock",
    "InvalidChange",
    "ManualClock",
    "NotAvailable",
    "NotFound",
    "PresignRefused",
    "SimulatorState",
]


class ManualClock:
    """A clock for tests: time moves only when :meth:`advance` is called."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class GatedClock:
    """A clock for demos, benchmarks and end-to-end runs: reads 0 while held (every analysis stays
    pending), then real (monotonic) seconds since :meth:`release`."""

    def __init__(self) -> None:
        self.released_at: float | None = None

    def __call__(self) -> float:
        return 0.0 if self.released_at is None else time.monotonic() - self.released_at

    def hold(self) -> None:
        self.released_at = None

    def release(self) -> float:
        """Start the clock (a second call keeps the first start); the ``time.monotonic()`` it counts from."""
        if self.released_at is None:
            self.released_at = time.monotonic()
        return self.released_at


class SimulatorState(WritesMixin, FilesMixin):
    """Records of a running simulator, rendered in One Codex v1 shapes. Thread-safe.

    :param scenario: a :class:`Scenario` or anything :func:`load_scenario` accepts.
    :param api_key: overrides the scenario's key.
    :param clock: monotonic seconds (default :func:`time.monotonic`); completion times are
        measured from the clock's value when the state is created or :meth:`restart_clock` runs.
    """

    users: dict[str, rec.User]
    tags: dict[str, rec.Tag]
    jobs: dict[str, rec.Job]
    projects: dict[str, rec.Project]
    samples: dict[str, rec.Sample]
    metadata: dict[str, rec.Metadata]
    analyses: dict[str, rec.Analysis]
    documents: dict[str, rec.Document]
    assets: dict[str, rec.Asset]
    webhooks: dict[str, rec.Webhook]
    events: dict[str, rec.Event]

    def __init__(
        self,
        scenario: str | Path | Mapping[str, Any] | Scenario | None = None,
        *,
        api_key: str | None = None,
        clock: rec.Clock | None = None,
    ) -> None:
        self._scenario = load_scenario(scenario)
        sc = copy.deepcopy(self._scenario)
        self.name = sc.name
        self.api_key = api_key or sc.api_key
        self._start_api_key = self.api_key  # what reset() brings back after POST /_sim/api_key
        self._clock: rec.Clock = clock or time.monotonic
        self._lock = threading.RLock()
        self.restart_clock()
        self.account: rec.Account = sc.account
        #: collection -> id -> insertion number; collection -> sample id -> ids (where records
        #: have a ``sample``)
        self._order: dict[str, dict[str, int]] = {}
        self._by_sample: dict[str, dict[str, list[str]]] = {}
        for collection in COLLECTIONS:
            setattr(self, collection, {})
            self._order[collection] = {}
            for record in getattr(sc, collection):
                getattr(self, collection)[record.id] = record
                self._index(collection, record)
        self.faults = FaultInjector()
        self.log = RequestLog(self._clock)
        self._rng = random.Random()
        #: where pre-signed links point (SimulatorServer.start sets its own address)
        self.base_url = "http://127.0.0.1"
        #: seconds a pre-signed link stays valid, on the simulated wall clock
        self.presign_ttl = 3600.0
        #: whether samples and metadata answer ``X-Pagination-Style: cursor`` (False: ignore the
        #: header, as a server without cursor paging would)
        self.cursor_pagination = True
        self._signing_key = secrets.token_bytes(32)
        self._results_cache: dict[str, dict[str, Any]] = {}
        #: sample uploads (testing/uploads.py); the S3 endpoint survives resets
        self.uploads = UploadBook()
        self.s3 = S3Endpoint()

    def reset(
        self,
        scenario: str | Path | Mapping[str, Any] | Scenario | None = None,
        *,
        clock: rec.Clock | None = None,
    ) -> None:
        """Back to a scenario's records (default: the one this state was built from), with no
        fault rules, an empty request log and a restarted clock; the API key the state was built
        with (a key set since, by ``POST /_sim/api_key`` or directly, is undone) and ``base_url`` stay.

        A running server keeps serving this same object, so tests share one server and reset it.
        """
        with self._lock:
            fresh = SimulatorState(
                self._scenario if scenario is None else scenario,
                api_key=self._start_api_key,
                clock=clock or self._clock,
            )
            faults, log, base_url, s3 = self.faults, self.log, self.base_url, self.s3
            self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_lock"})
            faults.clear()
            faults.reset_counts()
            faults.closing.clear()
            log.clear()
            log._clock = self._clock
            self.faults, self.log, self.base_url, self.s3 = faults, log, base_url, s3
            s3.fail_parts(0)

    def _index(self, collection: str, record: rec.Record) -> None:
        order = self._order[collection]
        order.setdefault(record.id, len(order))
        sample = getattr(record, "sample", None)
        if isinstance(sample, str):
            self._by_sample.setdefault(collection, {}).setdefault(sample, []).append(record.id)

    # -- clock --

    def restart_clock(self) -> None:
        """Make "now" the simulator start that ``complete_after`` delays count from."""
        with self._lock:
            self._t0 = self._clock()
            self._wall0 = datetime.now(timezone.utc)

    def elapsed(self) -> float:
        """Seconds since the simulator start, on the injected clock."""
        return self._clock() - self._t0

    def timestamp(self, value: rec.Timestamp) -> str:
        """RFC 3339 text of a scenario timestamp (None: the simulator start)."""
        if value is None:
            return iso(self._wall0)
        if isinstance(value, (int, float)):
            return iso(self._wall0 + timedelta(seconds=value))
        return value

    # -- request accounting --

    @property
    def requests(self) -> list[RequestRecord]:
        """Every One Codex API request received so far (``/_sim`` admin routes excluded)."""
        return self.log.records

    def count(
        self, path_prefix: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        """How many requests matched, e.g. ``count("/api/v1/alignments/", method="GET")``."""
        return self.log.count(path_prefix, method, status)

    def reset_counters(self) -> None:
        """Forget logged requests and injected-fault counts (fault rules stay)."""
        self.log.clear()
        self.faults.reset_counts()

    def stats(self) -> dict[str, Any]:
        """Counts for ``GET /_sim/stats``."""
        counts = self.faults.counts
        return {
            "scenario": self.name,
            "elapsed": round(self.elapsed(), 3),
            "requests": self.log.stats(),
            "faults": {"total": sum(counts.values()), "by_kind": counts},
            "rules": self.faults.rules(),
        }

    # -- reading (GET routes) --

    def account_json(self) -> dict[str, Any]:
        """``GET /api/v1/account``: one object, not a list."""
        return account_json(self)

    def list_json(
        self,
        resource: str,
        scope: str | None = None,
        lookup: tuple[str, Iterable[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Records of a list route, before where/sort/paging, in insertion order.

        :param scope: ``"public"`` (public samples, analyses of public samples, public projects)
            or ``"organization"`` (samples of the scenario's other users); None: the account's own
            samples, and every record of the other routes.
        :param lookup: ``("$uri" | "sample", ids)``: only records with one of these ids there
            (answered from an index; a superset of what the ``where`` then keeps is fine).
        """
        res = RESOURCES[resource]
        with self._lock:
            return [self.render(res, r) for r in self.select(resource, scope, lookup)]

    def select(
        self,
        resource: str,
        scope: str | None = None,
        lookup: tuple[str, Iterable[str]] | None = None,
    ) -> list[Any]:
        """The records (not rendered) :meth:`list_json` shows, for routes that render a page only."""
        res = RESOURCES[resource]
        with self._lock:
            now = self.elapsed()
            return [
                r
                for r in self._candidates(res, lookup)
                if res.shows(r) and self._in_scope(res, r, scope) and appeared(r, now)
            ]

    def _held(self, res: Resource) -> dict[str, Any]:
        if res.store == "events":  # plus the state changes, for an account with webhooks
            return webhook_events(self, self.elapsed())
        held: dict[str, Any] = getattr(self, res.store)
        return held

    def _candidates(self, res: Resource, lookup: tuple[str, Iterable[str]] | None) -> list[Any]:
        held = self._held(res)
        by_sample = self._by_sample.get(res.store)
        if lookup is None or (lookup[0] == "sample" and by_sample is None) or res.store == "events":
            return list(held.values())
        key, ids = lookup
        if key == "sample":
            assert by_sample is not None
            wanted = {i for s in ids for i in by_sample.get(s, ())}
        else:
            wanted = {i for i in ids if i in held}
        return [held[i] for i in sorted(wanted, key=self._order[res.store].__getitem__)]

    def _in_scope(self, res: Resource, record: Any, scope: str | None) -> bool:
        if res.name == "samples":
            if scope == "public":
                return bool(record.visibility == "public")
            if scope == "organization":
                return bool(record.owner != self.account.user)
            return bool(record.owner == self.account.user)
        if scope != "public":
            return True
        if res.store == "analyses":
            sample = self.samples.get(record.sample)
            return sample is not None and sample.visibility == "public"
        return bool(getattr(record, "public", False))

    def get_json(self, resource: str, record_id: str) -> dict[str, Any]:
        """One record of ``GET /api/v1/<resource>/<id>``; raises :class:`NotFound`."""
        res = RESOURCES[resource]
        with self._lock:
            record = self._held(res).get(record_id)
            if record is None or not res.shows(record) or not appeared(record, self.elapsed()):
                raise NotFound(record_id)
            return self.render(res, record)

    def render(self, resource: Resource, record: Any) -> dict[str, Any]:
        """``record`` as ``resource``'s routes show it (one place for tests to wrap)."""
        return resource.render(self, record)

    def expand(self, record: dict[str, Any]) -> dict[str, Any]:
        """``expand=all``: every ``{"$ref"}`` of the record (and of its lists) replaced by the
        record it names, one level deep (the inlined records keep their own references)."""
        out: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, list):
                out[key] = [self._resolve(v) for v in value]
            else:
                out[key] = self._resolve(value)
        return out

    def _resolve(self, value: Any) -> Any:
        if not (isinstance(value, dict) and set(value) == {"$ref"} and isinstance(value["$ref"], str)):
            return value
        parts = value["$ref"].removeprefix(PREFIX + "/").split("/")
        if len(parts) != 2 or parts[0] not in RESOURCES:
            return value
        try:
            return self.get_json(parts[0], parts[1])
        except NotFound:
            return value
