"""Pre-signed file links (``/_files``) and stand-ins for the web app's analysis pages."""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from airflow_provider_onecodex.testing.errors import NotFound, PresignRefused
from airflow_provider_onecodex.testing.state import SimulatorState

# Requests to pre-signed links must carry no other credentials: S3 answers 400 to a second auth
# mechanism, and One Codex's own client header "causes an error when fetching from S3".
_FORBIDDEN_ON_FILES = ("authorization", "x-api-key", "x-onecodex-client-user-agent")


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{html.escape(message)}</Message></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def files_router(state: SimulatorState) -> APIRouter:
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


def web_router(state: SimulatorState) -> APIRouter:
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
