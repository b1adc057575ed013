"""One entry per One Codex resource the simulator serves: its record type
(:mod:`~airflow_provider_onecodex.testing.records`), how a record is shown
(:mod:`~airflow_provider_onecodex.testing.render`) and which fields ``where``/``sort`` take.
Adding a resource is one entry here, its record type, its renderer (:func:`~.render.record_json`
when One Codex shows the record's fields as they are) and demo data; the routes,
the scenario loader and the state follow the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from airflow_provider_onecodex.testing import records as rec
from airflow_provider_onecodex.testing import render
from airflow_provider_onecodex.testing.query import Fields, FieldSpec, Kind
from airflow_provider_onecodex.testing.render import Renderer

#: typed routes listing a subset of /analyses (API reference §6 "One analysis id, many routes")
ANALYSIS_ROUTES: dict[str, str] = {
    "alignments": "alignment",
    "classifications": "classification",
    "panels": "panel",
    "functional_profiles": "functional",
    "mlsts": "mlst",
    "workflows": "workflow",
}


@dataclass(frozen=True)
class Resource:
    """A route ``/api/v1/<name>`` and the records behind it.

    :param collection: where the records live (the scenario key); typed analysis routes share
        ``analyses``. :param analysis_type: typed analysis routes: which analyses they show.
    :param scopes: list variants (``public``, ``organization``). :param cursor: answers
        ``X-Pagination-Style: cursor``.
    """

    name: str
    record: type[rec.Record]
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
        rec.Analysis,
        partial(render.analysis_json, name),
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
        rec.Sample,
        render.render_sample,
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
        rec.Metadata,
        render.render_metadata,
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
    Resource("tags", rec.Tag, partial(render.record_json, "tags"), {"$uri": _f(_U), "name": _f(_S)}),
    Resource(
        "jobs",
        rec.Job,
        partial(render.record_json, "jobs", hide=("run",)),
        {
            "$uri": _f(_U),
            "analysis_type": _f(_S),
            "created_at": _f(_D),
            "name": _f(_S),
            "public": _f(_B),
        },
    ),
    Resource(
        "users",
        rec.User,
        partial(render.record_json, "users"),
        {"$uri": _f(_U), "email": _f(_S), "username": _f(_S)},
    ),
    Resource(
        "projects",
        rec.Project,
        render.render_project,
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
        rec.Document,
        render.render_document,
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
        rec.Asset,
        render.render_asset,
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
        rec.Webhook,
        partial(render.record_json, "webhooks"),
        {"$uri": _f(_U), "created_at": _f(_D), "enabled": _f(_B), "event_type": _f(_S), "post_url": _f(_S)},
    ),
    Resource("events", rec.Event, partial(render.record_json, "events"), {"$uri": _f(_U), "status": _f(_S)}),
]

#: route name -> resource, in the order routes are registered
RESOURCES: dict[str, Resource] = {r.name: r for r in _RESOURCES}
#: collection (scenario key) -> record type
COLLECTIONS: dict[str, type[rec.Record]] = {r.store: r.record for r in _RESOURCES}
#: filterable/sortable fields per list route (the hyper-schema's ``where``/``sort`` properties)
RESOURCE_FIELDS: dict[str, Fields] = {r.name: r.fields for r in _RESOURCES}
