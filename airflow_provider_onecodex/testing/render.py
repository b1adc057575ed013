"""How each record is shown over HTTP: :func:`record_json` (the record's own fields) and a renderer
for each resource One Codex shows otherwise (``View`` is the running state).

Shapes follow the recorded bodies and the fields the official client's models require: optional
timestamps that are unset are left out (``updated_at`` of samples and metadata), analyses carry
``cost``, ``dependencies`` and ``draft``, jobs ``draft`` and ``job_args_schema``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

from airflow_provider_onecodex.testing.ids import ref, uri
from airflow_provider_onecodex.testing.records import (
    Account,
    Analysis,
    Asset,
    Document,
    Metadata,
    Project,
    Record,
    Sample,
    Timestamp,
)


class View(Protocol):
    """What a renderer reads from the running state."""

    account: Account

    def elapsed(self) -> float: ...
    def timestamp(self, value: Timestamp) -> str: ...
    def presign(self, key: str) -> str: ...


Renderer = Callable[[View, Any], dict[str, Any]]


def account_json(view: View) -> dict[str, Any]:
    """``GET /api/v1/account``: one object, not a list."""
    a = view.account
    return {
        "confirmed_at": None if a.confirmed_at is None else view.timestamp(a.confirmed_at),
        "coupons": list(a.coupons),
        "created_at": view.timestamp(a.created_at),
        "credits": a.credits,
        "email": a.email,
        "user": ref("users", a.user),
        "username": a.username,
    }


def analysis_json(route: str, view: View, a: Analysis) -> dict[str, Any]:
    """An analysis as ``route`` shows it: ``analysis_type`` only on /analyses, ``tax_id`` on
    /alignments (when known), ``results_uri`` on /classifications (null when not available)."""
    complete = a.complete_after is not None and view.elapsed() >= a.complete_after
    out: dict[str, Any] = {"$uri": uri(route, a.id)}
    if route == "analyses":
        out["analysis_type"] = a.analysis_type
    out.update(
        complete=complete,
        created_at=view.timestamp(a.created_at),
        error_msg=a.error_msg if complete else None,
        job=ref("jobs", a.job or ""),
        job_args=a.job_args,
        sample=ref("samples", a.sample),
        success=complete and a.success,
        cost=None,
        dependencies=[],
        draft=False,
        updated_at=view.timestamp(a.complete_after) if complete else None,
    )
    if route == "alignments" and a.tax_id is not None:
        out["tax_id"] = a.tax_id
    if route == "classifications":
        link = None
        if complete and a.success and a.has_results_uri:
            link = a.results_uri or view.presign(f"classifications/{a.id}/results.json.zst")
        out["results_uri"] = link
    return out


def record_json(
    route: str, view: View, record: Record, hide: tuple[str, ...] = (), **shown: Any
) -> dict[str, Any]:
    """``record`` as ``/api/v1/<route>`` shows it: ``$uri`` first, then its fields in name order,
    ``created_at`` and ``updated_at`` as RFC 3339 text (``updated_at`` left out while unset).

    :param hide: fields One Codex does not show (the simulator's own settings).
    :param shown: fields One Codex shows otherwise than the record holds them (references,
        fallbacks, copies), by name.
    """
    out = {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name not in ("id", *hide)}
    if "created_at" in out:
        out["created_at"] = view.timestamp(out["created_at"])
    updated = out.pop("updated_at", None)
    if updated is not None:
        out["updated_at"] = view.timestamp(updated)
    out.update(shown)
    return {"$uri": uri(route, record.id), **dict(sorted(out.items()))}


def render_project(view: View, p: Project) -> dict[str, Any]:
    owner = ref("users", p.owner or view.account.user)
    return record_json("projects", view, p, owner=owner, permissions=list(p.permissions))


def render_sample(view: View, s: Sample) -> dict[str, Any]:
    ready = s.ready_after is None or view.elapsed() >= s.ready_after
    out = {
        "$uri": uri("samples", s.id),
        "created_at": view.timestamp(s.created_at),
        "error_msg": s.error_msg if ready else None,
        "filename": s.filename,
        "metadata": ref("metadata", s.metadata or ""),
        "owner": ref("users", s.owner or ""),
        "primary_classification": (
            ref("classifications", s.primary_classification) if s.primary_classification and ready else None
        ),
        "project": ref("projects", s.project) if s.project else None,
        "size": s.size,
        "status": s.status if ready else _pending_status(s, view.elapsed()),
        "tags": [ref("tags", t) for t in s.tags],
        "visibility": s.visibility,
    }
    if s.updated_at is not None:
        out["updated_at"] = view.timestamp(s.updated_at)
    return out


def _pending_status(s: Sample, now: float) -> str:
    shown = s.pending_status
    for at, status in s.pending_steps:
        if now >= at:
            shown = status
    return shown


def render_metadata(view: View, m: Metadata) -> dict[str, Any]:
    custom = None if m.custom is None else dict(m.custom)
    return record_json("metadata", view, m, custom=custom, sample=ref("samples", m.sample))


def render_document(view: View, d: Document) -> dict[str, Any]:
    downloaders = [ref("users", u) for u in d.downloaders]
    uploader = ref("users", d.uploader or view.account.user)
    return record_json("documents", view, d, downloaders=downloaders, uploader=uploader)


def render_asset(view: View, a: Asset) -> dict[str, Any]:
    uploader = ref("users", a.uploader or view.account.user)
    return record_json("assets", view, a, name=a.name or a.filename, uploader=uploader)
