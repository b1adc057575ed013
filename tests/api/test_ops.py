"""Operations run unchanged under the sync and the async executor (api/ops.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient
from airflow_provider_onecodex.api.client import OneCodexClient
from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.errors import OneCodexNotFoundError, OneCodexServerError
from airflow_provider_onecodex.api.ops import ApiCall, Listing, Op, arun_op, run_op
from tests._scripted import scripted

BASE = "http://onecodex.test"
KEY = "0ddba11c0ffee5ecre7deadbeef12345"
ID = "0123456789abcdef"


def fallback_op(ident: str) -> Op[dict]:
    """Try one route, fall back to another on 404: the shape of a multi-step operation."""
    if len(ident) != 16:
        raise ValueError(f"bad id {ident!r}")
    try:
        return (yield ApiCall("GET", f"/api/v1/first/{ident}"))
    except OneCodexNotFoundError:
        listed = yield Listing("alignments", where={"sample": ident})
        return {"fallback": True, "n": len(listed)}


def test_validation_runs_before_any_effect():
    perform, seen = scripted([])
    with pytest.raises(ValueError, match="bad id"):
        run_op(fallback_op("x"), perform)
    assert seen == []


def test_failures_are_thrown_into_the_operation_sync_and_async():
    not_found = OneCodexNotFoundError(404, "GET", "/api/v1/first", "gone")
    perform, seen = scripted([not_found, [{"a": 1}, {"a": 2}]])
    assert run_op(fallback_op(ID), perform) == {"fallback": True, "n": 2}
    assert [type(e).__name__ for e in seen] == ["ApiCall", "Listing"]

    sync_perform, _ = scripted([not_found, [{"a": 1}]])

    async def aperform(effect):
        return sync_perform(effect)

    assert asyncio.run(arun_op(fallback_op(ID), aperform)) == {"fallback": True, "n": 1}


def test_unhandled_failures_propagate():
    boom = OneCodexServerError(503, "GET", "/api/v1/first", "down")
    perform, _ = scripted([boom])
    with pytest.raises(OneCodexServerError):
        run_op(fallback_op(ID), perform)


def test_clients_perform_effects_over_http(requests_mock):
    requests_mock.get(f"{BASE}/api/v1/first/{ID}", status_code=404, json={"message": "no"})
    requests_mock.get(f"{BASE}/api/v1/alignments", json=[{"$uri": "/api/v1/alignments/x"}])
    requests_mock.post(f"{BASE}/api/v1/things", status_code=503)
    config = ClientConfig(api_key=KEY, base_url=BASE)  # default policy: several attempts for GETs
    with OneCodexClient(config, sleep=lambda s: None) as client:
        assert client.run(fallback_op(ID)) == {"fallback": True, "n": 1}
        with pytest.raises(OneCodexServerError):
            client.run(iter_once(ApiCall("POST", "/api/v1/things", json_body={})))
    posts = [r for r in requests_mock.request_history if r.method == "POST"]
    assert len(posts) == 1  # a POST is never resent by the retry policy


def iter_once(effect):
    return (yield effect)


def test_async_client_runs_the_same_operation(monkeypatch):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/v1/first/"):
            return httpx.Response(404, json={"message": "no"})
        return httpx.Response(200, json=[{"$uri": "/api/v1/alignments/a"}, {"$uri": "/api/v1/alignments/b"}])

    real = httpx.AsyncClient
    monkeypatch.setattr(httpx, "AsyncClient", lambda **kw: real(transport=httpx.MockTransport(handler), **kw))

    async def main():
        async with AsyncOneCodexClient(ClientConfig(api_key=KEY, base_url=BASE)) as client:
            return await client.run(fallback_op(ID))

    assert asyncio.run(main()) == {"fallback": True, "n": 2}


def test_text_bodies_for_expect_str(requests_mock):
    requests_mock.get(f"{BASE}/api/v1/analyses/{ID}/logs", text="line 1\nline 2\n")
    with OneCodexClient(ClientConfig(api_key=KEY, base_url=BASE)) as client:
        assert client.run(iter_once(ApiCall("GET", f"/api/v1/analyses/{ID}/logs", expect=str))) == (
            "line 1\nline 2\n"
        )
