"""Building blocks every simulator route module uses: One Codex's error bodies, the ``/api/v1``
router with its authentication, and the answer of a record route.

A new route module (``testing/<concept>.py``) defines ``def router(state) -> APIRouter`` built on
:func:`v1_router` and adds it to :data:`airflow_provider_onecodex.testing.app.ROUTERS`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_onecodex.testing.errors import InvalidChange, NotAvailable, NotFound
from airflow_provider_onecodex.testing.ids import is_id

if TYPE_CHECKING:
    from airflow_provider_onecodex.testing.state import SimulatorState

UNAUTHORIZED_MESSAGE = (
    "The server could not verify that you are authorized to access the URL requested.  You either "
    "supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how "
    "to supply the credentials required."
)
NOT_FOUND_MESSAGE = (
    "The requested URL was not found on the server. If you entered the URL manually please check "
    "your spelling and try again."
)
MESSAGES = {
    400: "The browser (or proxy) sent a request that this server could not understand.",
    404: NOT_FOUND_MESSAGE,
    405: "The method is not allowed for the requested URL.",
}


class ApiError(Exception):
    """An error answered as One Codex does: ``{"message": ..., "status": ...}``."""

    def __init__(
        self, status: int, message: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or MESSAGES.get(status, "Error")
        self.headers = headers
        self.extra = extra

    def response(self) -> JSONResponse:
        body = {"message": self.message, "status": self.status, **self.extra}
        return JSONResponse(body, self.status, headers=self.headers)


def authorized(request: Request, api_key: str) -> bool:
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


def v1_router(state: SimulatorState) -> APIRouter:
    """An ``APIRouter`` under ``/api/v1`` that answers 401 (Werkzeug's body) without the key."""

    async def require_auth(request: Request) -> None:  # async: no thread-pool hop per request
        if not authorized(request, state.api_key):
            raise ApiError(401, UNAUTHORIZED_MESSAGE)

    return APIRouter(prefix="/api/v1", dependencies=[Depends(require_auth)])


def answer(resource: str, record_id: str, produce: Callable[[], Any], status: int = 200) -> Response:
    """One record route's answer: 404 for a malformed or unknown id, 404 for results that are not
    available (the analysis has not succeeded), 400 for a change the API refuses."""
    check_id(record_id, resource)
    try:
        return JSONResponse(produce(), status)
    except NotFound:
        raise not_found(resource, record_id) from None
    except NotAvailable:
        raise ApiError(
            404, f"Results of analysis {record_id} are not available: it has not completed successfully"
        ) from None
    except InvalidChange as exc:
        raise ApiError(400, str(exc)) from None


def check_id(record_id: str, resource: str) -> None:
    """404 (as One Codex answers) for a malformed id."""
    if not is_id(record_id):
        raise not_found(resource, record_id)


def not_found(resource: str, record_id: str) -> ApiError:
    # Potion adds the missing item to its 404 body
    return ApiError(404, item={"$type": resource, "$id": record_id})


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 400 otherwise."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body
