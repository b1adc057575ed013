"""The simulator's HTTP app: One Codex ``/api/v1`` routes plus ``/_sim`` admin routes.

Reproduces the v1 API as the reference describes it: HTTP Basic (key as username, empty
password) or ``X-API-Key`` auth with Werkzeug's 401 body, bare JSON arrays for lists with
``X-Total-Count`` and Potion ``Link`` headers, ``where``/``sort`` JSON filters, ``{"message",
"status"}`` errors, ``PATCH /metadata/{id}``. Requests pass through the fault layer first.

Extending it: write a module with ``def router(state) -> APIRouter`` (build ``/api/v1`` routes on
:func:`~airflow_provider_onecodex.testing.routing.v1_router`) and add it to :data:`ROUTERS`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from airflow_provider_onecodex.testing import admin_routes, events, file_routes, jobs, record_routes, uploads
from airflow_provider_onecodex.testing.fault_layer import FaultLayer
from airflow_provider_onecodex.testing.faults import Receive, Scope, Send
from airflow_provider_onecodex.testing.routing import (
    MESSAGES,
    NOT_FOUND_MESSAGE,
    UNAUTHORIZED_MESSAGE,
    ApiError,
)
from airflow_provider_onecodex.testing.state import SimulatorState

RouterFactory = Callable[[SimulatorState], APIRouter]

#: every route module, in matching order: the one place a new route module is registered
ROUTERS: list[RouterFactory] = [
    record_routes.router,
    jobs.router,
    admin_routes.router,
    events.router,
    file_routes.web_router,
    file_routes.files_router,
    uploads.router,
    uploads.admin_router,
]


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
    for factory in ROUTERS:
        app.include_router(factory(state))
    return app


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    message = MESSAGES.get(exc.status_code, str(exc.detail))
    return ApiError(exc.status_code, message, headers=headers).response()


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names the first route's only)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(request.url.path):
            methods |= route.methods
    return sorted(methods)


async def _validation_error(request: Request, exc: Exception) -> Response:
    return ApiError(400).response()


__all__ = [
    "NOT_FOUND_MESSAGE",
    "ROUTERS",
    "UNAUTHORIZED_MESSAGE",
    "ApiError",
    "RouterFactory",
    "SimulatorApp",
    "create_app",
]
