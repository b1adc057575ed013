"""The One Codex ``/api/v1`` record routes: lists (``where``/``sort``/paging), single records,
results and file details, metadata and sample PATCH, document download links."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_onecodex.testing.query import (
    Fields,
    FieldSpec,
    Kind,
    QueryError,
    link_header,
    page_slice,
    parse_list_query,
    sort_records,
)
from airflow_provider_onecodex.testing.routing import ApiError, answer, check_id, json_body, v1_router
from airflow_provider_onecodex.testing.scenario import ANALYSIS_ROUTES
from airflow_provider_onecodex.testing.state import SimulatorState

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
#: filterable/sortable fields per list route (the hyper-schema's ``where``/``sort`` properties)
RESOURCE_FIELDS: dict[str, Fields] = {
    "analyses": {**_ANALYSIS_FIELDS, "analysis_type": _f(_S)},
    "alignments": {**_ANALYSIS_FIELDS, "tax_id": _f(_S)},
    "classifications": _ANALYSIS_FIELDS,
    "panels": _ANALYSIS_FIELDS,
    "samples": {
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
    "metadata": {
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
    "tags": {"$uri": _f(_U), "name": _f(_S)},
    "jobs": {
        "$uri": _f(_U),
        "analysis_type": _f(_S),
        "created_at": _f(_D),
        "name": _f(_S),
        "public": _f(_B),
    },
    "users": {"$uri": _f(_U), "email": _f(_S), "username": _f(_S)},
    "documents": {
        "$uri": _f(_U),
        "created_at": _f(_D),
        "description": _f(_S),
        "downloaders": _f(Kind.REFLIST, "users"),
        "filename": _f(_S),
        "size": _f(_N),
        "uploader": _f(Kind.REF, "users"),
        "valid_until": _f(_D),
    },
    "events": {"$uri": _f(_U), "status": _f(_S)},
}


def router(state: SimulatorState) -> APIRouter:
    """The ``/api/v1`` record routes over ``state``."""
    router = v1_router(state)

    @router.get("/account")
    async def account() -> Response:
        """``GET /api/v1/account``: the connection-test route."""
        return JSONResponse(state.account_json())

    for resource, fields in RESOURCE_FIELDS.items():
        if resource == "samples":
            for scope in ("public", "organization"):
                router.add_api_route(f"/samples/{scope}", _lister(state, resource, fields, scope))
        elif resource in ANALYSIS_ROUTES or resource == "analyses":
            router.add_api_route(f"/{resource}/public", _lister(state, resource, fields, "public"))
        router.add_api_route(f"/{resource}", _lister(state, resource, fields, None))
        router.add_api_route(f"/{resource}/{{record_id}}", _getter(state, resource))

    for route in ("analyses", *ANALYSIS_ROUTES):
        router.add_api_route(f"/{route}/{{record_id}}/results", _results_route(state, route, "results"))
        router.add_api_route(f"/{route}/{{record_id}}/file_details", _file_details_route(state, route))
    router.add_api_route(
        "/classifications/{record_id}/raw_results", _results_route(state, "classifications", "raw_results")
    )

    @router.get("/classifications/{record_id}/readlevel")
    async def readlevel(record_id: str) -> Response:
        """``GET /api/v1/classifications/{id}/readlevel``: a pre-signed link to a gzipped TSV."""
        return answer("classifications", record_id, lambda: state.readlevel_json(record_id))

    @router.post("/documents/{record_id}/download_uri")
    async def document_download_uri(record_id: str) -> Response:
        """``POST /api/v1/documents/{id}/download_uri``: ``{download_uri, expires_in_hours}``."""
        return answer("documents", record_id, lambda: state.document_download_uri(record_id))

    @router.patch("/samples/{record_id}")
    async def patch_sample(record_id: str, request: Request) -> Response:
        """``PATCH /api/v1/samples/{id}``: ``tags`` (all refs or all names), ``visibility``, ``project``."""
        check_id(record_id, "samples")
        body = await json_body(request)
        return answer("samples", record_id, lambda: state.patch_sample(record_id, body))

    @router.patch("/metadata/{record_id}")
    async def patch_metadata(record_id: str, request: Request) -> Response:
        """``PATCH /api/v1/metadata/{id}``: only the given fields change; ``sample``, ``$uri``,
        ``updated_at`` and unknown fields are 400."""
        check_id(record_id, "metadata")
        body = await json_body(request)
        return answer("metadata", record_id, lambda: state.patch_metadata(record_id, body))

    return router


def _lister(
    state: SimulatorState, resource: str, fields: Fields, scope: str | None
) -> Callable[[Request], Awaitable[Response]]:
    async def list_records(request: Request) -> Response:
        """A list route: bare JSON array, ``X-Total-Count`` and ``Link`` headers."""
        try:
            query = parse_list_query(request.query_params, fields)
        except QueryError as exc:
            raise ApiError(400, str(exc)) from None
        # analyses of /x/public: those of public samples
        records = state.list_json(resource, scope if resource == "samples" else None)
        if scope == "public" and resource != "samples":
            public = {s["$uri"] for s in state.list_json("samples", "public")}
            records = [r for r in records if r["sample"]["$ref"] in public]
        if query.where is not None:
            records = [r for r in records if query.where(r)]
        if query.sort:
            records = sort_records(records, query.sort, fields)
        total = len(records)
        headers = {
            "X-Total-Count": str(total),
            "Link": link_header(request.url.path, query.page, query.per_page, total),
        }
        return JSONResponse(records[page_slice(query.page, query.per_page)], headers=headers)

    list_records.__name__ = f"list_{resource}_{scope or 'own'}"
    return list_records


def _getter(state: SimulatorState, resource: str) -> Callable[[str], Awaitable[Response]]:
    async def get_record(record_id: str) -> Response:
        """``GET /api/v1/<resource>/{id}``: 404 for unknown or malformed ids."""
        return answer(resource, record_id, lambda: state.get_json(resource, record_id))

    get_record.__name__ = f"get_{resource}"
    return get_record


def _results_route(state: SimulatorState, route: str, kind: str) -> Callable[[str], Awaitable[Response]]:
    async def results(record_id: str) -> Response:
        """``GET /api/v1/<route>/{id}/results|raw_results``: 404 unless the analysis succeeded."""
        return answer(route, record_id, lambda: state.analysis_results(route, record_id, kind))

    results.__name__ = f"{kind}_{route}"
    return results


def _file_details_route(state: SimulatorState, route: str) -> Callable[[str], Awaitable[Response]]:
    async def file_details(record_id: str) -> Response:
        """``GET /api/v1/<route>/{id}/file_details``: output files with pre-signed links."""
        return answer(route, record_id, lambda: state.file_details_json(route, record_id))

    file_details.__name__ = f"file_details_{route}"
    return file_details
