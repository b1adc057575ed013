"""``/_sim`` admin routes for tests and demos run out of process: no One Codex auth, never faulted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from airflow_provider_onecodex.testing.errors import NotFound
from airflow_provider_onecodex.testing.routing import ApiError, json_body, not_found
from airflow_provider_onecodex.testing.state import SimulatorState


def router(state: SimulatorState) -> APIRouter:
    """Admin routes for tests and demos run out of process; no One Codex auth, never faulted."""
    router = APIRouter(prefix="/_sim")

    @router.post("/faults")
    async def add_faults(request: Request) -> dict[str, Any]:
        """Add a rule. Script: ``{"mode": "script", "path_prefix": "/api/v1/alignments",
        "method": "GET", "path_regex": null, "faults": [{"kind": "status", "status": 503}, null]}``.
        Rate: ``{"mode": "rate", "rate": 0.2, "kinds": ["reset", 503], "seed": 1, ...}``."""
        body = await json_body(request)
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

    @router.post("/api_key")
    async def set_api_key(request: Request) -> dict[str, Any]:
        """``{"api_key": "<32 characters>"}``: the key every later request needs (a rotation: the
        old key gets 401 from now on); a reset brings back the key the simulator started with."""
        body = await json_body(request)
        key = body.pop("api_key", None)
        try:
            _no_extra(body)
            if not isinstance(key, str) or len(key) != 32:
                raise ValueError("'api_key' must be a 32-character string")
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        state.api_key = key
        return {"message": "API key replaced: requests with the old key now get 401"}

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
        body = await json_body(request)
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
        body = await json_body(request)
        try:
            if body.pop("pending", False):
                state.set_pending(analysis_id, **body)
            else:
                state.set_outcome(analysis_id, **body)
        except NotFound:
            raise not_found("analyses", analysis_id) from None
        except (ValueError, TypeError) as exc:
            raise ApiError(400, str(exc)) from None
        return state.get_json("analyses", analysis_id)

    return router


def _no_extra(body: dict[str, Any]) -> None:
    if body:
        raise ValueError(f"unknown keys {sorted(body)}")
