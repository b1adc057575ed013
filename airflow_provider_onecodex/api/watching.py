"""Watching One Codex for news: the pure half of the event triggers behind Airflow ``AssetWatcher``s.

A watch lists one route (``/api/v1/samples``, ``/api/v1/<analyses route>`` or
``/api/v1/events``) once per poll and decides which records are *news* for one watcher. Nothing
here does I/O or imports Airflow; :mod:`airflow_provider_onecodex.triggers.events` runs it.

**The high-water mark** (:class:`Mark`) of a sample or analysis watch is ``since``, a UTC
timestamp before which every record is settled, plus ``seen``, the ids created at or after
``since`` that are settled already (fired, or finished without matching). A poll lists
``created_at >= since`` in ascending ``created_at`` order (:func:`listing_query`), so:

- records sharing a timestamp are never dropped: ``>=`` re-lists the tie and ``seen`` skips the
  ones already handled;
- ids carry no order (they are random hex); only ``created_at`` and ``seen`` matter;
- a record that becomes visible late (after records created after it) is still seen: polls list
  from :data:`LATE_WINDOW` seconds before ``since`` (:func:`listing_from`; never before the watch's
  ``start``) and ``seen`` keeps the settled ids of that window;
- a record still on its way (a sample ``importing``, an analysis not ``complete``) pins ``since``
  at its ``created_at`` until it settles, so it fires when it gets there, however long after it
  was first listed (up to ``max_wait`` seconds, then it is given up with a note);
- a burst (500 new samples in one interval) is paged through in one listing; a listing cut at
  ``max_records`` advances the mark only to its last record and the next poll goes on from there.

What fires and the payloads sent are in :mod:`.news`; event watches (``/api/v1/events``, no
time to mark) in :mod:`.events`. What a failed poll means for the watch: :func:`after_failure`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_onecodex.api.errors import MalformedRecordError, OneCodexError
from airflow_provider_onecodex.api.news import Verdict, slim_record
from airflow_provider_onecodex.api.ops import Listing, Op
from airflow_provider_onecodex.api.progress import MAX_CONSECUTIVE_FAILURES, WaitProgress, advance
from airflow_provider_onecodex.api.records import parse_timestamp
from airflow_provider_onecodex.api.waiting import error_outcome

#: records per poll before the listing is cut (the next poll continues from the last one)
MAX_RECORDS_PER_POLL = 10_000
#: seconds a record may stay on its way (sample importing, analysis running) before it is given up
DEFAULT_MAX_WAIT = 3 * 24 * 3600.0
#: seconds a record may become visible in listings after records created later than it did
#: (commit order differs from created_at order): polls re-list that far behind the mark
LATE_WINDOW = 120.0
#: longest pause between polls after errors in a row, seconds
MAX_ERROR_DELAY = 900.0
#: ``Mark.since`` of an event watch once it has listed events (events have no time to mark)
EVENT_MARK = "listed"


# -- the mark ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """A watcher's high-water mark; JSON-native through :meth:`to_json` / :meth:`from_json`.

    :ivar since: RFC 3339 UTC timestamp; ``None`` for an event watch that has not polled yet.
    :ivar seen: ids at or after ``since`` already settled (event watches: every seen event id).
    """

    since: str | None
    seen: tuple[str, ...] = ()
    start: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "seen": sorted(self.seen), "start": self.start}

    @classmethod
    def from_json(cls, value: object) -> Mark:
        """A mark from :meth:`to_json`'s output.

        :raises ValueError: not such an object (a corrupt stored mark is never guessed at).
        """
        if not isinstance(value, Mapping) or not {"since", "seen"} <= set(value) <= {
            "since",
            "seen",
            "start",
        }:
            raise ValueError(f"not a One Codex watch mark: {value!r}")
        since, seen, start = value["since"], value["seen"], value.get("start")
        if since is not None and since != EVENT_MARK:
            since = format_timestamp(_timestamp(since, "since"))
        if start is not None:
            start = format_timestamp(_timestamp(start, "start"))
        if not isinstance(seen, list) or not all(isinstance(i, str) for i in seen):
            raise ValueError(f"mark 'seen' must be a list of ids, got {seen!r}")
        return cls(since, tuple(seen), start)

    def with_seen(self, ids: Iterable[str]) -> Mark:
        """This mark with ``ids`` settled too (events handed over before a poll finished)."""
        return Mark(self.since, tuple(sorted(set(self.seen) | set(ids))), self.start)

    @property
    def since_time(self) -> datetime | None:
        if self.since is None or self.since == EVENT_MARK:
            return None
        return _timestamp(self.since, "since")


def format_timestamp(moment: datetime) -> str:
    """``moment`` as the RFC 3339 UTC string sent in ``where`` (microseconds, ``+00:00``)."""
    stamp = parse_timestamp(moment)
    assert stamp is not None
    return stamp.isoformat(timespec="microseconds")


def _timestamp(value: object, name: str) -> datetime:
    try:
        stamp = parse_timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an RFC 3339 timestamp with an offset, got {value!r}") from exc
    if stamp is None:
        raise ValueError(f"{name} must be an RFC 3339 timestamp with an offset, got {value!r}")
    return stamp


def as_time(value: str) -> datetime:
    """A mark's ``since`` string as an aware UTC datetime (``ValueError`` if it is not one)."""
    return _timestamp(value, "since")


def validate_start_from(value: object) -> str | None:
    """``start_from`` (``None``, an RFC 3339 string or an aware ``datetime``) as a UTC string.

    :raises ValueError: a string that is not a timestamp, or a naive ``datetime``.
    """
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(f"start_from must be timezone-aware, got {value!r}")
    if not isinstance(value, (str, datetime)):
        raise TypeError(f"start_from must be an RFC 3339 string or a datetime, got {value!r}")
    return format_timestamp(_timestamp(value, "start_from"))


def first_mark(start_from: str | None, now: datetime) -> Mark:
    """The mark of a watch that has none stored: ``start_from``, else ``now`` ("start at now").
    Records created before it are never news."""
    start = start_from or format_timestamp(now)
    return Mark(start, (), start)


def listing_from(mark: Mark) -> str:
    """Where a poll starts listing: :data:`LATE_WINDOW` seconds before ``since`` (never before the
    watch's start), so a record that becomes visible after later-created ones is still seen."""
    since = mark.since_time
    if since is None:
        raise ValueError("a sample or analysis watch needs a mark with 'since'")
    lower = since - timedelta(seconds=LATE_WINDOW)
    if mark.start is not None:
        lower = max(lower, as_time(mark.start))
    return format_timestamp(lower)


def listing_query(since: str) -> tuple[dict[str, Any], dict[str, bool]]:
    """``(where, sort)`` of one poll: ``created_at >= since``, oldest first (``false`` = ascending)."""
    return {"created_at": {"$gte": since}}, {"created_at": False}


@dataclass
class Step:
    """One poll's outcome for one watcher: events to fire, the next mark, notes to log."""

    events: list[dict[str, Any]] = field(default_factory=list)
    mark: Mark = field(default_factory=lambda: Mark(None))
    notes: list[str] = field(default_factory=list)


def step(
    mark: Mark,
    records: Iterable[Mapping[str, Any]],
    *,
    rule: Callable[[Mapping[str, Any]], Verdict],
    payload: Callable[[Mapping[str, Any]], dict[str, Any]],
    match: Callable[[Mapping[str, Any]], bool] = lambda r: True,
    now: datetime,
    truncated: bool = False,
    max_wait: float = DEFAULT_MAX_WAIT,
) -> Step:
    """Advance a sample or analysis watch over one listing of ``created_at >= mark.since``.

    :param records: slim records (:func:`slim_record`) of the listing, any order.
    :param rule: :func:`sample_rule` or :func:`analysis_rule`.
    :param match: the watcher's own filter (:func:`~airflow_provider_onecodex.api.matching.compile_where`),
        applied to records that fire.
    :param now: the current time, to give up on records waiting longer than ``max_wait`` seconds.
    :param truncated: the listing stopped at its record cap (more may follow the last one).
    :returns: events in ``created_at`` order and the next mark.
    """
    since = mark.since_time
    if since is None:
        raise ValueError("a sample or analysis watch needs a mark with 'since'")
    lower = as_time(listing_from(mark))
    seen = set(mark.seen)
    out = Step()
    listed: list[tuple[datetime, str, Mapping[str, Any]]] = []
    for record in records:
        ident = record.get("id")
        try:
            created = _timestamp(record.get("created_at"), "created_at")
        except ValueError:
            out.notes.append(
                f"record {ident} skipped: created_at {record.get('created_at')!r} is not a timestamp"
            )
            continue
        if isinstance(ident, str) and created >= lower:
            listed.append((created, ident, record))
    listed.sort(key=lambda item: (item[0], item[1]))

    settled: dict[str, datetime] = {}
    waiting: list[tuple[datetime, str]] = []
    for created, ident, record in listed:
        if ident in seen:
            settled[ident] = created
            continue
        try:
            verdict = rule(record)
        except MalformedRecordError as exc:
            out.notes.append(f"record {ident} skipped: {exc}")
            verdict = Verdict.SETTLE
        if verdict is Verdict.WAIT:
            if (now - created).total_seconds() <= max_wait:
                waiting.append((created, ident))
                continue
            out.notes.append(f"record {ident} gave up: still not final {max_wait:g} s after it was created")
            verdict = Verdict.SETTLE
        settled[ident] = created
        if verdict is Verdict.FIRE and match(record):
            out.events.append(payload(record))

    if waiting:
        new_since = waiting[0][0]
    elif listed:
        new_since = listed[-1][0]
    else:
        new_since = since
    if truncated and listed:
        new_since = min(new_since, listed[-1][0])
        if new_since == since and waiting:
            # a full listing that cannot move the mark would repeat forever: give up the waiters
            out.notes.append(
                f"{len(waiting)} records still on their way pin the mark under a listing cut at "
                f"{len(listed)} records; giving them up"
            )
            settled.update({ident: created for created, ident in waiting})
            new_since = listed[-1][0]
    keep_from = new_since - timedelta(seconds=LATE_WINDOW)
    new_seen = {ident for ident, created in settled.items() if created >= keep_from}
    if truncated:  # records past the cut were not listed: keep what was known about them
        listed_ids = {ident for _, ident, _ in listed}
        new_seen |= {ident for ident in seen if ident not in listed_ids}
    out.mark = Mark(format_timestamp(new_since), tuple(sorted(new_seen)), mark.start)
    return out


def poll_records(
    resource: str, since: str, max_records: int = MAX_RECORDS_PER_POLL
) -> Op[tuple[list[dict[str, Any]], bool]]:
    """The operation of one sample or analysis poll: ``GET /api/v1/<resource>`` with
    ``created_at >= since``, oldest first, every page up to ``max_records``.

    :returns: ``(slim records, truncated)``; ``truncated`` when more than ``max_records`` matched.
    """
    where, sort = listing_query(since)
    records = yield Listing(resource, where=where, sort=sort, max_records=max_records + 1)
    return [slim_record(resource, r) for r in records[:max_records]], len(records) > max_records


def error_delay(poll_interval: float, failures_in_a_row: int, retry_after: float | None) -> float:
    """Seconds to wait before the next poll after ``failures_in_a_row`` failed polls (>= 1):
    the interval doubled per failure (at most x8, and :data:`MAX_ERROR_DELAY`), never less than
    the server's ``Retry-After``."""
    factor = 2.0 ** min(failures_in_a_row - 1, 3)
    backoff = min(poll_interval * factor, max(MAX_ERROR_DELAY, poll_interval))
    return max(backoff, float(retry_after or 0.0))


@dataclass(frozen=True)
class FailedPoll:
    """What a failed poll means for a watch (:func:`after_failure`).

    :ivar stop: the watch cannot go on (the connection is wrong): end it with the error.
    :ivar delay: seconds before the next poll (``0.0`` when ``stop``).
    :ivar message: what happened, for the log line (never the key).
    """

    stop: bool
    delay: float
    message: str


def after_failure(
    progress: WaitProgress,
    error: OneCodexError,
    *,
    poll_interval: float,
    now: float,
    max_consecutive_failures: int = MAX_CONSECUTIVE_FAILURES,
    max_retry_after: float | None = None,
) -> FailedPoll:
    """The waits' rule (:func:`~airflow_provider_onecodex.api.progress.advance`) for a watch's failed
    poll; updates ``progress`` (start a watch with ``WaitProgress()``, and after every answered poll
    use ``WaitProgress(reached=True)``).

    - A configuration failure before One Codex ever answered this watch means the connection is
      wrong: 401/402/403 stop it at once, a refused connection, an unknown host name or a TLS error
      once ``NEVER_REACHED_GRACE`` (60 s) has passed.
    - After an answer the same failures are an outage (an API key rotation caught between revoking
      the old key and updating the connection, a restart): the watch backs off and stops only after
      ``max_consecutive_failures`` failed polls in a row.
    - Other transient errors (429, 5xx, timeouts, resets, unreadable answers) never stop a watch: it
      outlives outages, backing off (:func:`error_delay`, at least the server's ``Retry-After``,
      capped by ``max_retry_after`` as for the waits).
    - Anything else (400, a 404 on a route every One Codex has, a malformed record) stops it.

    :param now: seconds on any steady clock (e.g. ``time.monotonic()``).
    """
    outcome = error_outcome(error)
    config = bool(outcome.get("config"))
    limit = max_consecutive_failures if config else sys.maxsize  # outages alone never end a watch
    decided = advance(
        progress,
        outcome,
        now=now,
        poll_interval=poll_interval,
        max_consecutive_failures=limit,
        max_retry_after=max_retry_after,
    )
    if decided["status"] == "failed":
        return FailedPoll(True, 0.0, decided["message"])
    message = decided["message"]
    if config and progress.reached:
        message += (
            f" (an authentication or configuration failure after earlier answers: failure"
            f" {progress.failures} of {max_consecutive_failures} in a row before the watch stops)"
        )
    # the backoff, or One Codex's pause as the progress rule capped it, whichever is longer
    delay = max(
        error_delay(poll_interval, max(progress.failures, 1), None), progress.next_poll_in(poll_interval, now)
    )
    return FailedPoll(False, delay, message)
