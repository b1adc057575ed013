"""One entry per One Codex resource the simulator serves: its record type, how a record is shown
(the renderer) and which fields ``where``/``sort`` take. Adding a resource is one entry here (plus
its record type in :mod:`~airflow_provider_onecodex.testing.records` and demo data).

Shapes follow the recorded bodies and the fields the official client's models require: optional
timestamps that are unset are left out (``updated_at`` of samples and metadata), analyses carry
``cost``, ``dependencies`` and ``draft``, jobs ``draft`` and ``job_args_schema``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from airflow_provider_onecodex.testing.ids import ref, uri
from airflow_provider_onecodex.testing.query import Fields, FieldSpec, Kind
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

#: typed routes listing a subset of /analyses (API reference §6 "One analysis id, many routes")
ANALYSIS_ROUTES: dict[str, str] = {
    "alignments": "alignment",
    "classifications": "classification",
    "panels": "panel",
    "functional_profiles": "functional",
    "mlsts": "mlst",
    "workflows": "workflow",
}


class View(Protocol):
    """What a renderer reads from the running state."""

    account: Account

    def elapsed(self) -> float: ...
    def timestamp(self, value: Timestamp) -> str: ...
    def presign(self, key: str) -> str: ...


Renderer = Callable[[View, Any], dict[str, Any]]


@dataclass(frozen=True)
class Resource:
    """A route ``/api/v1/<name>`` and the records behind it.

    :param collection: where the records live (the scenario key); typed analysis routes share
        ``analyses``. :param analysis_type: typed analysis routes: which analyses they show.
    :param scopes: list variants (``public``, ``organization``). :param cursor: answers
        ``X-Pagination-Style: cursor``.
    """

    name: str
    record: type[Any]
    render: Renderer
    fields: Fields
    collection: str = ""
    scopes: tuple[str, ...] = ()
    analysis_type: str | None = None
    cursor: bool = False

    @property
    def store(self) -> str:
        return self.collection or self.name

    def shows(self, record: Any) -> bool:
        """Whether this route shows ``record`` of its collection (typed analysis routes filter)."""
        return self.analysis_type is None or record.analysis_type == self.analysis_type


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


def _user(view: View, u: User) -> dict[str, Any]:
    return {"$uri": uri("users", u.id), "email": u.email, "username": u.username}


def _tag(view: View, t: Tag) -> dict[str, Any]:
    return {"$uri": uri("tags", t.id), "name": t.name}


def _job(view: View, j: Job) -> dict[str, Any]:
    return {
        "$uri": uri("jobs", j.id),
        "analysis_type": j.analysis_type,
        "created_at": view.timestamp(j.created_at),
        "draft": j.draft,
        "job_args_schema": j.job_args_schema,
        "name": j.name,
        "public": j.public,
    }


def _project(view: View, p: Project) -> dict[str, Any]:
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


def _sample(view: View, s: Sample) -> dict[str, Any]:
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
        "status": s.status if ready else s.pending_status,
        "tags": [ref("tags", t) for t in s.tags],
        "visibility": s.visibility,
    }
    _opt(out, "updated_at", view, s.updated_at)
    return out


def _metadata(view: View, m: Metadata) -> dict[str, Any]:
    out = {f.name: getattr(m, f.name) for f in dataclasses.fields(m) if f.name not in ("id", "updated_at")}
    out["custom"] = None if m.custom is None else dict(m.custom)
    out["sample"] = ref("samples", m.sample)
    _opt(out, "updated_at", view, m.updated_at)
    return {"$uri": uri("metadata", m.id), **dict(sorted(out.items()))}


def _document(view: View, d: Document) -> dict[str, Any]:
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


def _asset(view: View, a: Asset) -> dict[str, Any]:
    return {
        "$uri": uri("assets", a.id),
        "created_at": view.timestamp(a.created_at),
        "filename": a.filename,
        "name": a.name or a.filename,
        "size": a.size,
        "status": a.status,
        "uploader": ref("users", a.uploader or view.account.user),
    }


def _webhook(view: View, w: Webhook) -> dict[str, Any]:
    return {
        "$uri": uri("webhooks", w.id),
        "api_version": w.api_version,
        "created_at": view.timestamp(w.created_at),
        "enabled": w.enabled,
        "event_type": w.event_type,
        "post_url": w.post_url,
    }


def _event(view: View, e: Event) -> dict[str, Any]:
    return {"$uri": uri("events", e.id), "payload": e.payload, "status": e.status}


_U, _S, _N, _D, _B = Kind.URI, Kind.STRING, Kind.NUMBER, Kind.DATETIME, Kind.BOOL


def _f(kind: Kind, target: str | None = None) -> FieldSpec:
    return FieldSpec(kind, target)


_ANALYSIS_FIELDS: dict[str, FieldSpec] = {
    "$uri": _f(_U),
    "complete": _f(_B),
    "created_at": _f(_D),
    "updated_at": _f(_D),
    "error_msg": _f(_S),
    "job": _f(Kind.REF, "jobs"),
    "sample": _f(Kind.REF, "samples"),
    "success": _f(_B),
    "draft": _f(_B),
}


def _analysis_route(name: str, analysis_type: str | None, fields: Fields) -> Resource:
    return Resource(
        name,
        Analysis,
        partial(analysis_json, name),
        fields,
        collection="analyses",
        scopes=("public",),
        analysis_type=analysis_type,
    )


_RESOURCES = [
    _analysis_route("analyses", None, {**_ANALYSIS_FIELDS, "analysis_type": _f(_S)}),
    *(
        _analysis_route(
            route, kind, {**_ANALYSIS_FIELDS, "tax_id": _f(_S)} if kind == "alignment" else _ANALYSIS_FIELDS
        )
        for route, kind in ANALYSIS_ROUTES.items()
    ),
    Resource(
        "samples",
        Sample,
        _sample,
        {
            "$uri": _f(_U),
            "created_at": _f(_D),
            "updated_at": _f(_D),
            "filename": _f(_S),
            "metadata": _f(Kind.REF, "metadata"),
            "owner": _f(Kind.REF, "users"),
            "primary_classification": _f(Kind.REF, "classifications"),
            "project": _f(Kind.REF, "projects"),
            "size": _f(_N),
            "status": _f(_S),
            "tags": _f(Kind.REFLIST, "tags"),
            "visibility": _f(_S),
        },
        scopes=("public", "organization"),
        cursor=True,
    ),
    Resource(
        "metadata",
        Metadata,
        _metadata,
        {
            "$uri": _f(_U),
            "date_collected": _f(_D),
            "date_sequenced": _f(_D),
            "updated_at": _f(_D),
            "description": _f(_S),
            "external_sample_id": _f(_S),
            "library_type": _f(_S),
            "location_lat": _f(_N),
            "location_lon": _f(_N),
            "location_string": _f(_S),
            "name": _f(_S),
            "platform": _f(_S),
            "sample": _f(Kind.REF, "samples"),
            "sample_type": _f(_S),
            "starred": _f(_B),
        },
        cursor=True,
    ),
    Resource("tags", Tag, _tag, {"$uri": _f(_U), "name": _f(_S)}),
    Resource(
        "jobs",
        Job,
        _job,
        {
            "$uri": _f(_U),
            "analysis_type": _f(_S),
            "created_at": _f(_D),
            "name": _f(_S),
            "public": _f(_B),
        },
    ),
    Resource("users", User, _user, {"$uri": _f(_U), "email": _f(_S), "username": _f(_S)}),
    Resource(
        "projects",
        Project,
        _project,
        {
            "$uri": _f(_U),
            "name": _f(_S),
            "project_name": _f(_S),
            "external_id": _f(_S),
            "owner": _f(Kind.REF, "users"),
            "public": _f(_B),
        },
        scopes=("public",),
    ),
    Resource(
        "documents",
        Document,
        _document,
        {
            "$uri": _f(_U),
            "created_at": _f(_D),
            "description": _f(_S),
            "downloaders": _f(Kind.REFLIST, "users"),
            "filename": _f(_S),
            "size": _f(_N),
            "uploader": _f(Kind.REF, "users"),
            "valid_until": _f(_D),
        },
    ),
    Resource(
        "assets",
        Asset,
        _asset,
        {
            "$uri": _f(_U),
            "created_at": _f(_D),
            "filename": _f(_S),
            "name": _f(_S),
            "size": _f(_N),
            "status": _f(_S),
            "uploader": _f(Kind.REF, "users"),
        },
    ),
    Resource(
        "webhooks",
        Webhook,
        _webhook,
        {"$uri": _f(_U), "created_at": _f(_D), "enabled": _f(_B), "event_type": _f(_S), "post_url": _f(_S)},
    ),
    Resource("events", Event, _event, {"$uri": _f(_U), "status": _f(_S)}),
]

#: route name -> resource, in the order routes are registered
RESOURCES: dict[str, Resource] = {r.name: r for r in _RESOURCES}
#: collection (scenario key) -> record type
COLLECTIONS: dict[str, type[Any]] = {r.store: r.record for r in _RESOURCES}
#: filterable/sortable fields per list route (the hyper-schema's ``where``/``sort`` properties)
RESOURCE_FIELDS: dict[str, Fields] = {r.name: r.fields for r in _RESOURCES}
