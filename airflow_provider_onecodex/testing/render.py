"""How each record is shown over HTTP: one renderer per resource (``View`` is the running state).

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
    Event,
    Job,
    Metadata,
    Project,
    Sample,
    Tag,
    Timestamp,
    User,
    Webhook,
)


class View(Protocol):
    """What a renderer reads from the running state."""

    account: Account

    def elapsed(self) -> float: ...
    def timestamp(self, value: Timestamp) -> str: ...
    def presign(self, key: str) -> str: ...


Renderer = Callable[[View, Any], dict[str, Any]]


def _opt(out: dict[str, Any], name: str, view: View, value: Timestamp) -> None:
    if value is not None:
        out[name] = view.timestamp(value)


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


def render_user(view: View, u: User) -> dict[str, Any]:
    return {"$uri": uri("users", u.id), "email": u.email, "username": u.username}


def render_tag(view: View, t: Tag) -> dict[str, Any]:
    return {"$uri": uri("tags", t.id), "name": t.name}


def render_job(view: View, j: Job) -> dict[str, Any]:
    return {
        "$uri": uri("jobs", j.id),
        "analysis_type": j.analysis_type,
        "created_at": view.timestamp(j.created_at),
        "draft": j.draft,
        "job_args_schema": j.job_args_schema,
        "name": j.name,
        "public": j.public,
    }


def render_project(view: View, p: Project) -> dict[str, Any]:
    return {
        "$uri": uri("projects", p.id),
        "description": p.description,
        "external_id": p.external_id,
        "name": p.name,
        "owner": ref("users", p.owner or view.account.user),
        "permissions": list(p.permissions),
        "project_name": p.project_name,
        "public": p.public,
    }


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
    _opt(out, "updated_at", view, s.updated_at)
    return out


def _pending_status(s: Sample, now: float) -> str:
    shown = s.pending_status
    for at, status in s.pending_steps:
        if now >= at:
            shown = status
    return shown


def render_metadata(view: View, m: Metadata) -> dict[str, Any]:
    out = {f.name: getattr(m, f.name) for f in dataclasses.fields(m) if f.name not in ("id", "updated_at")}
    out["custom"] = None if m.custom is None else dict(m.custom)
    out["sample"] = ref("samples", m.sample)
    _opt(out, "updated_at", view, m.updated_at)
    return {"$uri": uri("metadata", m.id), **dict(sorted(out.items()))}


def render_document(view: View, d: Document) -> dict[str, Any]:
    return {
        "$uri": uri("documents", d.id),
        "created_at": view.timestamp(d.created_at),
        "description": d.description,
        "downloaders": [ref("users", u) for u in d.downloaders],
        "downloads_remaining": d.downloads_remaining,
        "filename": d.filename,
        "size": d.size,
        "uploader": ref("users", d.uploader or view.account.user),
        "valid_until": d.valid_until,
    }


def render_asset(view: View, a: Asset) -> dict[str, Any]:
    return {
        "$uri": uri("assets", a.id),
        "created_at": view.timestamp(a.created_at),
        "filename": a.filename,
        "name": a.name or a.filename,
        "size": a.size,
        "status": a.status,
        "uploader": ref("users", a.uploader or view.account.user),
    }


def render_webhook(view: View, w: Webhook) -> dict[str, Any]:
    return {
        "$uri": uri("webhooks", w.id),
        "api_version": w.api_version,
        "created_at": view.timestamp(w.created_at),
        "enabled": w.enabled,
        "event_type": w.event_type,
        "post_url": w.post_url,
    }


def render_event(view: View, e: Event) -> dict[str, Any]:
    return {"$uri": uri("events", e.id), "payload": e.payload, "status": e.status}
