"""The simulator's HTTP surface: One Codex ``/api/v1`` routes plus ``/_sim`` admin routes.

Reproduces the v1 API as the reference describes it: HTTP Basic (key as username, empty
password) or ``X-API-Key`` auth with Werkzeug's 401 body, bare JSON arrays for lists with
``X-Total-Count`` and Potion ``Link`` headers, ``where``/``sort`` JSON filters, ``{"message",
"status"}`` errors, ``PATCH /metadata/{id}``. Requests pass through the fault layer first.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_onecodex.api.ids import is_valid_id
from airflow_provider_onecodex.testing.faults import FaultLayer, Receive, Scope, Send
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
from airflow_provider_onecodex.testing.scenario import ANALYSIS_ROUTES
from airflow_provider_onecodex.testing.state import (
    InvalidChange,
    NotAvailable,
    NotFound,
    PresignRefused,
    SimulatorState,
)

UNAUTHORIZED_MESSAGE = (
    "The server could not verify that you are authorized to access the URL requested.  You either "
    "supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how "
    "to supply the credentials required."
)
NOT_FOUND_MESSAGE = (
    "The requested URL was not found on the server. If you entered the URL manually please check "
    "your spelling and try again."
)
_MESSAGES = {
    400: "The browser (or proxy) sent a request that this server could not understand.",
    404: NOT_FOUND_MESSAGE,
    405: "The method is not allowed for the requested URL.",
}

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


class ApiError(Exception):
    """An error answered as One Codex does: ``{"message": ..., "status": ...}``."""

    def __init__(self, status: int, message: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or _MESSAGES.get(status, "Error")
        self.extra = extra

    def response(self) -> JSONResponse:
        return JSONResponse({"message": self.message, "status": self.status, **self.extra}, self.status)


class SimulatorApp(FastAPI):
    """A FastAPI app whose outermost layer is the fault injector.

    The fault layer must see uvicorn's own ``send`` (to reset connections), so it runs before
    Starlette's middleware stack rather than inside it.
    """

    simulator_state: SimulatorState
    fault_layer: FaultLayer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.fault_layer(scope, receive, send, super().__call__)


def create_app(state: SimulatorState) -> FastAPI:
    """Build the simulator app over ``state`` (records, clock, faults and request log)."""
    app = SimulatorApp(title="One Codex API simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.simulator_state = state
    app.fault_layer = FaultLayer(state.faults, state.log)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(_api_router(state))
    app.include_router(_admin_router(state))
    app.include_router(_web_router(state))
    app.include_router(_files_router(state))
    return app


# Requests to pre-signed links must carry no other credentials: S3 answers 400 to a second auth
# mechanism, and One Codex's own client header "causes an error when fetching from S3".
_FORBIDDEN_ON_FILES = ("authorization", "x-api-key", "x-onecodex-client-user-agent")


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{html.escape(message)}</Message></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def _files_router(state: SimulatorState) -> APIRouter:
    """``GET /_files/<key>?expires=<epoch>&signature=<hmac>``: the simulator's pre-signed links."""
    router = APIRouter()

    @router.get("/_files/{key:path}")
    async def download(key: str, request: Request) -> Response:
        present = [h for h in _FORBIDDEN_ON_FILES if h in request.headers]
        if present:
            return _s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the signature query parameters should be specified",
            )
        try:
            content, content_type = state.open_presigned(
                key, request.query_params.get("expires"), request.query_params.get("signature")
            )
        except PresignRefused as exc:
            return _s3_error(exc.status, exc.code, exc.message)
        return Response(content, media_type=content_type)

    return router


def _web_router(state: SimulatorState) -> APIRouter:
    """Stand-ins for the web app's analysis pages, so extra links in a demo lead somewhere."""
    router = APIRouter()

    def page(kind: str) -> Any:
        async def show(record_id: str) -> HTMLResponse:
            try:
                record = state.get_json("analyses", record_id)
            except NotFound:
                return HTMLResponse("<h1>Not found</h1>", status_code=404)
            body = html.escape(json.dumps(record, indent=2))
            return HTMLResponse(
                f"<!doctype html><title>One Codex simulator: {kind} {record_id}</title>"
                f"<h1>{kind.title()} {record_id}</h1><pre>{body}</pre>"
            )

        return show

    router.add_api_route("/analysis/{record_id}", page("analysis"))
    router.add_api_route("/classification/{record_id}", page("classification"))
    return router


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return ApiError(exc.status_code, _MESSAGES.get(exc.status_code, str(exc.detail))).response()


async def _validation_error(request: Request, exc: Exception) -> Response:
    return ApiError(400).response()


# --- /api/v1 -----------------------------------------------------------------------------------


def _authorized(request: Request, api_key: str) -> bool:
    """``X-API-Key: <key>`` or HTTP Basic with the key as username and an empty password."""
    header = request.headers.get("x-api-key")
    if header is not None and hmac.compare_digest(header.encode(), api_key.encode()):
        return True
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return bool(sep) and password == "" and hmac.compare_digest(username.encode(), api_key.encode())


def _api_router(state: SimulatorState) -> APIRouter:
    async def require_auth(request: Request) -> None:  # async: no thread-pool hop per request
        if not _authorized(request, state.api_key):
            raise ApiError(401, UNAUTHORIZED_MESSAGE)

    router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_auth)])

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
        return _answer("classifications", record_id, lambda: state.readlevel_json(record_id))

    @router.post("/documents/{record_id}/download_uri")
    async def document_download_uri(record_id: str) -> Response:
        """``POST /api/v1/documents/{id}/download_uri``: ``{download_uri, expires_in_hours}``."""
        return _answer("documents", record_id, lambda: state.document_download_uri(record_id))

    @router.patch("/samples/{record_id}")
    async def patch_sample(record_id: str, request: Request) -> Response:
        """``PATCH /api/v1/samples/{id}``: ``tags`` (all refs or all names), ``visibility``, ``project``."""
        _check_id(record_id, "samples")
        body = await _json_body(request)
        return _answer("samples", record_id, lambda: state.patch_sample(record_id, body))

    @router.patch("/metadata/{record_id}")
    async def patch_metadata(record_id: str, request: Request) -> Response:
        """``PATCH /api/v1/metadata/{id}``: only the given fields change; ``sample``, ``$uri``,
        ``updated_at`` and unknown fields are 400."""
        _check_id(record_id, "metadata")
        body = await _json_body(request)
        return _answer("metadata", record_id, lambda: state.patch_metadata(record_id, body))

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
        return _answer(resource, record_id, lambda: state.get_json(resource, record_id))

    get_record.__name__ = f"get_{resource}"
    return get_record


def _not_available(record_id: str) -> ApiError:
    return ApiError(
        404, f"Results of analysis {record_id} are not available: it has not completed successfully"
    )


def _results_route(state: SimulatorState, route: str, kind: str) -> Callable[[str], Awaitable[Response]]:
    async def results(record_id: str) -> Response:
        """``GET /api/v1/<route>/{id}/results|raw_results``: 404 unless the analysis succeeded."""
        return _answer(route, record_id, lambda: state.analysis_results(route, record_id, kind))

    results.__name__ = f"{kind}_{route}"
    return results


def _file_details_route(state: SimulatorState, route: str) -> Callable[[str], Awaitable[Response]]:
    async def file_details(record_id: str) -> Response:
        """``GET /api/v1/<route>/{id}/file_details``: output files with pre-signed links."""
        return _answer(route, record_id, lambda: state.file_details_json(route, record_id))

    file_details.__name__ = f"file_details_{route}"
    return file_details


def _answer(resource: str, record_id: str, produce: Callable[[], Any]) -> Response:
    """One record route's answer: 404 for a malformed or unknown id, 404 for results that are not
    available (the analysis has not succeeded), 400 for a change the API refuses."""
    _check_id(record_id, resource)
    try:
        return JSONResponse(produce())
    except NotFound:
        raise _not_found(resource, record_id) from None
    except NotAvailable:
        raise _not_available(record_id) from None
    except InvalidChange as exc:
        raise ApiError(400, str(exc)) from None


def _check_id(record_id: str, resource: str) -> None:
    if not is_valid_id(record_id):
        raise _not_found(resource, record_id)


def _not_found(resource: str, record_id: str) -> ApiError:
    # Potion adds the missing item to its 404 body
    return ApiError(404, item={"$type": resource, "$id": record_id})


# --- /_sim admin -------------------------------------------------------------------------------


def _admin_router(state: SimulatorState) -> APIRouter:
    """Admin routes for tests and demos run out of process; no One Codex auth, never faulted."""
    router = APIRouter(prefix="/_sim")

    @router.post("/faults")
    async def add_faults(request: Request) -> dict[str, Any]:
        """Add a rule. Script: ``{"mode": "script", "path_prefix": "/api/v1/alignments",
        "method": "GET", "path_regex": null, "faults": [{"kind": "status", "status": 503}, null]}``.
        Rate: ``{"mode": "rate", "rate": 0.2, "kinds": ["reset", 503], "seed": 1, ...}``."""
        body = await _json_body(request)
        mode = body.pop("mode", "script")
        matcher = {k: body.pop(k, None) for k in ("path_prefix", "method", "path_regex")}
        try:
            if mode == "script":
                faults = body.pop("faults", None)
                if not isinstance(faults, list):
                    raise ValueError("'faults' must be a list")
                _no_extra(body)
                state.faults.script(matcher.pop("path_prefix"), faults, **matcher)
            elif mode == "rate":
                rate, kinds = body.pop("rate", None), body.pop("kinds", ["status"])
                seed = body.pop("seed", None)
                _no_extra(body)
                if not isinstance(rate, (int, float)) or not isinstance(kinds, list):
                    raise ValueError("'rate' must be a number and 'kinds' a list")
                state.faults.set_rate(float(rate), kinds, seed=seed, **matcher)
            else:
                raise ValueError("'mode' must be 'script' or 'rate'")
        except (ValueError, TypeError) as exc:
            raise ApiError(400, str(exc)) from None
        return {"rules": state.faults.rules()}

    @router.delete("/faults")
    async def clear_faults() -> dict[str, Any]:
        state.faults.clear()
        return {"rules": []}

    @router.get("/stats")
    async def stats() -> dict[str, Any]:
        return state.stats()

    @router.delete("/stats")
    async def reset_stats() -> dict[str, Any]:
        state.reset_counters()
        return state.stats()

    @router.post("/analyses", status_code=201)
    async def add_analysis(request: Request) -> dict[str, Any]:
        """``{"analysis_type": "alignment", "sample": id, "tax_id": ..., "complete_after": s,
        "success": bool, "error_msg": ..., "id": ...}`` -> the record as ``/analyses`` shows it."""
        body = await _json_body(request)
        try:
            new_id = state.add_analysis(
                body.pop("analysis_type", "alignment"), body.pop("sample", ""), **body
            )
        except (ValueError, TypeError) as exc:
            raise ApiError(400, str(exc)) from None
        return state.get_json("analyses", new_id)

    @router.post("/analyses/{analysis_id}/outcome")
    async def set_outcome(analysis_id: str, request: Request) -> dict[str, Any]:
        """``{"success": bool, "error_msg": str|null, "after": s}`` or ``{"pending": true,
        "complete_after": s|null}``."""
        body = await _json_body(request)
        try:
            if body.pop("pending", False):
                state.set_pending(analysis_id, **body)
            else:
                state.set_outcome(analysis_id, **body)
        except NotFound:
            raise _not_found("analyses", analysis_id) from None
        except (ValueError, TypeError) as exc:
            raise ApiError(400, str(exc)) from None
        return state.get_json("analyses", analysis_id)

    return router


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body


def _no_extra(body: dict[str, Any]) -> None:
    if body:
        raise ValueError(f"unknown keys {sorted(body)}")


__all__ = ["RESOURCE_FIELDS", "UNAUTHORIZED_MESSAGE", "ApiError", "SimulatorApp", "create_app"]
