"""The One Codex ``/api/v1`` record routes, one set per entry of
:data:`~airflow_provider_onecodex.testing.registry.RESOURCES`: lists (``where``/``sort``, page or
cursor paging, ``expand=all``), single records, results and file details of analyses, metadata and
sample PATCH, document download links.

Cursor paging (samples and metadata, as the official client uses it): with the request header
``X-Pagination-Style: cursor`` the ``page`` parameter is ignored, ``cursor`` continues a listing,
and the response carries ``X-Next-Cursor`` unless it is the last page (no ``X-Total-Count`` nor
``Link`` then: One Codex's cursor answers are not documented to have them).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_onecodex.testing.query import (
    QueryError,
    link_header,
    page_slice,
    parse_list_query,
    sort_records,
)
from airflow_provider_onecodex.testing.registry import ANALYSIS_ROUTES, RESOURCES, Resource
from airflow_provider_onecodex.testing.routing import ApiError, answer, check_id, json_body, v1_router
from airflow_provider_onecodex.testing.state import SimulatorState

CURSOR_HEADER = "x-pagination-style"


def router(state: SimulatorState) -> APIRouter:
    """The ``/api/v1`` record routes over ``state``."""
    router = v1_router(state)

    @router.get("/account")
    async def account() -> Response:
        """``GET /api/v1/account``: the connection-test route."""
        return JSONResponse(state.account_json())

    for res in RESOURCES.values():
        for scope in res.scopes:
            router.add_api_route(f"/{res.name}/{scope}", _lister(state, res, scope))
        router.add_api_route(f"/{res.name}", _lister(state, res, None))
        router.add_api_route(f"/{res.name}/{{record_id}}", _getter(state, res))

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
        """``PATCH /api/v1/metadata/{id}``: only the given fields change; ``sample``, ``$uri`` and
        ``updated_at`` are 400, unknown fields are ignored."""
        check_id(record_id, "metadata")
        body = await json_body(request)
        return answer("metadata", record_id, lambda: state.patch_metadata(record_id, body))

    return router


def encode_cursor(offset: int) -> str:
    """An opaque cursor for the record at ``offset`` of a listing."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset in a cursor of :func:`encode_cursor`; :class:`QueryError` when it is not one."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, offset = text.partition(":")
        if kind == "o" and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise QueryError("invalid cursor")


def _lister(
    state: SimulatorState, res: Resource, scope: str | None
) -> Callable[[Request], Awaitable[Response]]:
    async def list_records(request: Request) -> Response:
        """A list route: bare JSON array; ``X-Total-Count`` and ``Link`` (page mode) or
        ``X-Next-Cursor`` (cursor mode)."""
        try:
            query = parse_list_query(request.query_params, res.fields)
            cursor_mode = (
                res.cursor
                and state.cursor_pagination
                and request.headers.get(CURSOR_HEADER, "").lower() == "cursor"
            )
            start = decode_cursor(query.cursor) if cursor_mode and query.cursor else 0
        except QueryError as exc:
            raise ApiError(400, str(exc)) from None
        if query.where is None and not query.sort:
            # nothing to filter or sort on: render only the page asked for
            held = state.select(res.name, scope, query.lookup)
            total = len(held)
            window = (
                slice(start, start + query.per_page)
                if cursor_mode
                else page_slice(query.page, query.per_page)
            )
            page = [state.render(res, r) for r in held[window]]
        else:
            records = state.list_json(res.name, scope, query.lookup)
            if query.where is not None:
                records = [r for r in records if query.where(r)]
            if query.sort:
                records = sort_records(records, query.sort, res.fields)
            total = len(records)
            window = (
                slice(start, start + query.per_page)
                if cursor_mode
                else page_slice(query.page, query.per_page)
            )
            page = records[window]
        if cursor_mode:
            end = start + query.per_page
            headers = {"X-Next-Cursor": encode_cursor(end)} if end < total else {}
        else:
            headers = {
                "X-Total-Count": str(total),
                "Link": link_header(request.url.path, query.page, query.per_page, total),
            }
        if request.query_params.get("expand") == "all":
            page = [state.expand(r) for r in page]
        return JSONResponse(page, headers=headers)

    list_records.__name__ = f"list_{res.name}_{scope or 'own'}"
    return list_records


def _getter(state: SimulatorState, res: Resource) -> Callable[[str, Request], Awaitable[Response]]:
    async def get_record(record_id: str, request: Request) -> Response:
        """``GET /api/v1/<resource>/{id}``: 404 for unknown or malformed ids; ``expand=all``."""
        expand = request.query_params.get("expand") == "all"

        def produce() -> dict[str, Any]:
            record = state.get_json(res.name, record_id)
            return state.expand(record) if expand else record

        return answer(res.name, record_id, produce)

    get_record.__name__ = f"get_{res.name}"
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
