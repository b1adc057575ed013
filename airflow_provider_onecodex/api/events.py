"""Watching ``/api/v1/events`` (accounts with webhooks): the pure half of the webhook-events trigger.

Events have no ``created_at`` and cannot be filtered or sorted by time (API reference §8.11), so
an event watch's mark (:class:`~.watching.Mark`) is the set of event ids already seen: a poll lists
every retained event (One Codex keeps them up to 30 days) and fires the unseen ones whose type is
wanted; ids that left the listing are forgotten. The first poll of a new watch only records what
exists ("start at now"). Payload keys per event type are undocumented: the type is read from
``payload.event_type`` (else ``type``/``event``), and a ``payload`` sent as a JSON string (as the
hyper-schema says) is decoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_onecodex.api.ids import record_id
from airflow_provider_onecodex.api.news import ref_id
from airflow_provider_onecodex.api.ops import Listing, Op
from airflow_provider_onecodex.api.watching import EVENT_MARK, MAX_RECORDS_PER_POLL, Mark, Step


def validate_event_types(value: object) -> list[str]:
    """A non-empty list of event types (``sample.uploaded``, ``analysis.succeeded``,
    ``analysis.failed``; ``*`` for every type, present and future)."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"event_types must be a non-empty list such as ['sample.uploaded'], got {value!r}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"event_types must hold non-empty strings, got {item!r}")
    return list(value)


def _payload_object(value: object) -> dict[str, Any]:
    # the OpenAPI file says object, the hyper-schema says string: accept both
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def event_type_of(event: Mapping[str, Any]) -> str | None:
    """The event type in an event's ``payload`` (``event_type``, else ``type``/``event``)."""
    body = _payload_object(event.get("payload"))
    for key in ("event_type", "type", "event"):
        if isinstance(body.get(key), str):
            return str(body[key])
    return None


def event_payload(event: Mapping[str, Any]) -> dict[str, Any]:
    """The asset event ``extra`` of one ``/api/v1/events`` record: ids only, never the raw payload."""
    body = _payload_object(event.get("payload"))
    out: dict[str, Any] = {
        "kind": "event",
        "event_id": record_id(dict(event)),
        "event_type": event_type_of(event),
        "status": event.get("status"),
    }
    for name in ("sample", "analysis"):
        ident = ref_id(body.get(name)) or ref_id(body.get(f"{name}_id"))
        if ident:
            out[f"{name}_id"] = ident
    for name in ("created_at", "api_version"):
        if isinstance(body.get(name), str):
            out[name] = body[name]
    return out


def event_step(mark: Mark, events: Iterable[Mapping[str, Any]], event_types: list[str]) -> Step:
    """Advance an event watch over one full listing of ``/api/v1/events``.

    :param events: the listing as :func:`event_payload` dicts.
    :returns: the first listing (``mark.since is None``) only records what exists ("start at
        now"); later ones fire every event not seen before whose type is in ``event_types``
        (``*`` matches all).
    """
    wanted = set(event_types)
    out = Step()
    listed = [e for e in events if isinstance(e.get("event_id"), str)]
    if mark.since is not None:
        seen = set(mark.seen)
        for event in listed:
            if event["event_id"] not in seen and ("*" in wanted or event.get("event_type") in wanted):
                out.events.append(dict(event))
    out.mark = Mark(EVENT_MARK, tuple(sorted({str(e["event_id"]) for e in listed})))
    return out


def poll_events(max_records: int = MAX_RECORDS_PER_POLL) -> Op[tuple[list[dict[str, Any]], bool]]:
    """The operation of one event poll: every page of ``GET /api/v1/events`` (no time filter
    exists), as :func:`event_payload` dicts."""
    records = yield Listing("events", max_records=max_records + 1)
    return [event_payload(r) for r in records[:max_records]], len(records) > max_records
