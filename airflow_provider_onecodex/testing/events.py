"""News in a running simulator: records that appear later, records added at run time, webhook events.

- **``appear_after``** (scenario samples and analyses): seconds after the simulator start until
  the record is visible at all (listings, ``GET``); its ``created_at`` is then the moment it
  appeared unless the scenario gives one. ``ready_after``/``complete_after`` still count from the
  start, so give them at least ``appear_after``.
- **``POST /_sim/samples``** adds a sample now (``{"filename", "status", "ready_after",
  "pending_status", "tags", "project", "metadata", "id", "size", "error_msg"}``, all optional but
  ``filename``) and answers the sample as ``/api/v1/samples`` shows it. ``POST /_sim/analyses``
  (in :mod:`.app`) does the same for analyses. Demos and tests out of process use them; upload and
  job-run code can use them to make the records they create.
- **``/api/v1/events``** for an account with ``"webhooks": true`` lists, besides the scenario's
  events, one event per state change as One Codex would send webhooks (API reference §8.11):
  ``sample.uploaded`` when a sample becomes ``available``, ``analysis.succeeded`` /
  ``analysis.failed`` when an analysis completes. Payload (keys undocumented upstream; this is the
  simulator's choice): ``{"api_version": "v1", "event_type", "created_at", "sample": {"$ref"}}``
  plus ``"analysis": {"$ref"}`` for analyses. Event ids are derived from the record and the type,
  so they are stable across listings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request

from airflow_provider_onecodex.api.ids import build_uri
from airflow_provider_onecodex.testing.records import Event
from airflow_provider_onecodex.testing.routing import ApiError, json_body
from airflow_provider_onecodex.testing.scenario import derived_id

if TYPE_CHECKING:
    from airflow_provider_onecodex.testing.state import SimulatorState

SAMPLE_FIELDS = frozenset(
    {"filename", "status", "ready_after", "pending_status", "tags", "project", "metadata", "id", "size",
     "error_msg", "visibility", "primary_classification"}
)  # fmt: skip


def appeared(record: Any, now: float) -> bool:
    """Whether a record is visible ``now`` seconds after the start (only samples and analyses
    have ``appear_after``)."""
    late = getattr(record, "appear_after", None)
    return late is None or now >= late


def webhook_events(state: SimulatorState, now: float) -> dict[str, Event]:
    """The scenario's events plus one per state change so far, when the account has webhooks."""
    events = dict(state.events)
    if not state.account.webhooks:
        return events
    changes: list[tuple[float, str, dict[str, Any]]] = []
    for s in state.samples.values():
        ready = max(s.ready_after or 0.0, s.appear_after or 0.0)
        if s.owner == state.account.user and s.status == "available" and appeared(s, now) and now >= ready:
            changes.append((ready, "sample.uploaded", {"sample": {"$ref": build_uri("samples", s.id)}}))
    for a in state.analyses.values():
        done = a.complete_after
        if done is not None and appeared(a, now) and now >= done:
            kind = "analysis.succeeded" if a.success else "analysis.failed"
            refs = {"sample": {"$ref": build_uri("samples", a.sample)},
                    "analysis": {"$ref": build_uri("analyses", a.id)}}  # fmt: skip
            changes.append((done, kind, refs))
    for at, kind, refs in sorted(changes, key=lambda c: c[0]):
        subject = next(iter(refs.values()))["$ref"] if kind.startswith("sample") else refs["analysis"]["$ref"]
        ident = derived_id("event", subject, kind)
        payload = {"api_version": "v1", "event_type": kind, "created_at": state.timestamp(at), **refs}
        events.setdefault(ident, Event(id=ident, payload=payload, status="success"))
    return events


def router(state: SimulatorState) -> APIRouter:
    """``POST /_sim/samples``: add a sample now (no One Codex auth, never faulted)."""
    router = APIRouter(prefix="/_sim")

    @router.post("/samples", status_code=201)
    async def add_sample(request: Request) -> dict[str, Any]:
        body = await json_body(request)
        if not isinstance(body.get("filename"), str):
            raise ApiError(400, "The body must have a 'filename' string")
        unknown = set(body) - SAMPLE_FIELDS
        if unknown:
            raise ApiError(400, f"unknown keys {sorted(unknown)}")
        try:
            new_id = state.add_sample(body.pop("filename"), **body)
        except (ValueError, TypeError) as exc:
            raise ApiError(400, str(exc)) from None
        return state.get_json("samples", new_id)

    return router
