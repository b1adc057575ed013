"""The async client against an in-process httpx.MockTransport: the same behaviour as the sync one."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from airflow_provider_onecodex import __version__
from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient
from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.errors import (
    OneCodexAuthError,
    OneCodexConnectionError,
    OneCodexResponseError,
    OneCodexServerError,
)
from airflow_provider_onecodex.api.ops import ApiCall, call
from tests._values import ATTEMPTS, BASE, BASIC_TOKEN, ID, KEY, LIST_PATH, RECORD_PATH


class Server:
    """Records every request and answers with ``handler``; patched in as the client's transport."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.handler = lambda request: httpx.Response(404)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


@pytest.fixture
def server(monkeypatch):
    """Every httpx.AsyncClient built by the client talks to ``server`` instead of the network.

    The client still builds its own AsyncClient (base URL, headers, timeouts), so those are tested.
    """
    server = Server()
    real = httpx.AsyncClient

    def with_mock_transport(*args, **kwargs):
        return real(*args, transport=httpx.MockTransport(server), **kwargs)

    monkeypatch.setattr(httpx, "AsyncClient", with_mock_transport)
    return server


@pytest.fixture
def sleeps():
    return []


def make_client(sleeps, **config):
    async def fake_sleep(seconds):
        sleeps.append(seconds)

    return AsyncOneCodexClient(ClientConfig(api_key=KEY, base_url=BASE, **config), sleep=fake_sleep)


@pytest.fixture
async def client(sleeps, server):
    async with make_client(sleeps) as c:
        yield c


def record(i):
    return {"$uri": f"{LIST_PATH}/{i:016x}", "complete": False}


def assert_no_secret(exc):
    for text in (str(exc), repr(exc)):
        assert KEY not in text
        assert BASIC_TOKEN not in text


async def test_basic_auth_user_agent_and_timeouts(client, server):
    server.handler = lambda request: httpx.Response(200, json={"email": "lab@example.org"})
    assert await client.run(call(ApiCall("GET", "/api/v1/account"))) == {"email": "lab@example.org"}
    (request,) = server.requests
    assert str(request.url) == f"{BASE}/api/v1/account"
    scheme, token = request.headers["Authorization"].split(" ", 1)
    assert scheme == "Basic"
    assert base64.b64decode(token).decode() == f"{KEY}:"
    assert "X-API-Key" not in request.headers
    assert request.headers["User-Agent"] == f"airflow-provider-onecodex/{__version__}"
    timeout = request.extensions["timeout"]
    assert timeout["connect"] == 10.0
    assert timeout["read"] == 60.0


async def test_header_auth_style(sleeps, server):
    server.handler = lambda request: httpx.Response(200, json={"email": "lab@example.org"})
    async with make_client(sleeps, auth_style="header", connect_timeout=2, read_timeout=5) as client:
        await client.run(call(ApiCall("GET", "/api/v1/account")))
    (request,) = server.requests
    assert request.headers["X-API-Key"] == KEY
    assert "Authorization" not in request.headers
    assert request.extensions["timeout"]["connect"] == 2.0
    assert request.extensions["timeout"]["read"] == 5.0


async def test_get_record(client, server):
    server.handler = lambda request: httpx.Response(200, json={"$uri": RECORD_PATH, "complete": True})
    assert await client.get_record("alignments", {"$ref": RECORD_PATH}) == {
        "$uri": RECORD_PATH,
        "complete": True,
    }
    assert server.requests[0].url.path == RECORD_PATH
    assert server.requests[0].url.query == b""


@pytest.mark.parametrize(
    ("record_id", "error"),
    [
        ("", ValueError),
        (ID.upper(), ValueError),
        (ID + "0", ValueError),
        (None, TypeError),
        (f"/api/v1/samples/{ID}", ValueError),
    ],
)
async def test_invalid_id_before_any_request(client, server, record_id, error):
    with pytest.raises(error, match="alignment_id"):
        await client.get_record("alignments", record_id)
    assert server.requests == []


async def test_pagination_over_two_pages(client, server):
    pages = {1: [record(1), record(2)], 2: [record(3)]}

    def handler(request):
        page = int(request.url.params["page"])
        return httpx.Response(200, json=pages.get(page, []), headers={"X-Total-Count": "3"})

    server.handler = handler
    where = {"complete": False, "created_at": {"$gte": "2026-01-01T00:00:00+00:00"}}
    result = await client.list_records("alignments", where=where, sort={"created_at": False}, per_page=2)
    assert result == [record(1), record(2), record(3)]
    assert len(server.requests) == 2
    for page, request in enumerate(server.requests, start=1):
        params = request.url.params
        assert request.url.path == LIST_PATH
        assert params["page"] == str(page)
        assert params["per_page"] == "2"
        assert json.loads(params["where"]) == where
        assert json.loads(params["sort"]) == {"created_at": False}
        assert "expand" not in params


async def test_listing_is_checked_before_any_request(client, server):
    server.handler = lambda request: httpx.Response(200, json=[record(1)])
    with pytest.raises(ValueError, match="per_page"):
        await client.list_records("alignments", per_page=0)
    assert server.requests == []


async def test_short_page_stops_without_count(client, server):
    server.handler = lambda request: httpx.Response(200, json=[record(1)])
    assert await client.list_records("alignments", per_page=5) == [record(1)]
    assert len(server.requests) == 1


async def test_429_retry_after_then_200(client, server, sleeps):
    answers = [
        httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": "4"}),
        httpx.Response(200, json={"$uri": RECORD_PATH, "complete": False}),
    ]
    server.handler = lambda request: answers.pop(0)
    assert (await client.get_record("alignments", ID))["complete"] is False
    assert len(server.requests) == 2
    assert sleeps == [4.0]


async def test_401_is_not_retried(client, server, sleeps):
    server.handler = lambda request: httpx.Response(401, json={"message": "bad key", "status": 401})
    with pytest.raises(OneCodexAuthError) as info:
        await client.get_record("alignments", ID)
    assert len(server.requests) == 1
    assert sleeps == []
    assert info.value.message == "bad key"
    assert str(info.value) == (
        f"authentication failed: check the API key. One Codex answered 401 on GET {RECORD_PATH}: bad key"
    )
    assert_no_secret(info.value)


async def test_503_exhausts_retries(client, server, sleeps):
    server.handler = lambda request: httpx.Response(
        503, text="<html>down</html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(OneCodexServerError) as info:
        await client.get_record("alignments", ID)
    assert len(server.requests) == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1
    assert info.value.message == "non-JSON (HTML) response body"
    assert "503" in str(info.value) and RECORD_PATH in str(info.value)
    assert_no_secret(info.value)


async def test_200_html_is_a_response_error(client, server):
    server.handler = lambda request: httpx.Response(
        200, text="<html/>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(OneCodexResponseError, match="text/html"):
        await client.get_record("alignments", ID)
    assert len(server.requests) == ATTEMPTS


@pytest.mark.parametrize(
    ("exc_class", "words"),
    [
        (httpx.ConnectError, "could not connect to onecodex.test:80 (ConnectError)"),
        (httpx.ConnectTimeout, "could not connect to onecodex.test:80: timed out after 10 s"),
        (
            httpx.ReadTimeout,
            "no response from onecodex.test:80: timed out after 60 s "
            "(raise the connection's read_timeout if One Codex is slow)",
        ),
    ],
)
async def test_transport_errors_are_connection_errors_and_retried(client, server, sleeps, exc_class, words):
    def handler(request):
        raise exc_class(f"boom on {request.url} with {KEY}", request=request)

    server.handler = handler
    with pytest.raises(OneCodexConnectionError) as info:
        await client.get_record("alignments", ID)
    exc = info.value
    assert exc.status is None
    assert str(exc) == f"One Codex API request failed on GET {RECORD_PATH}: {words}"
    assert KEY not in str(exc) and "boom" not in str(exc)
    assert len(server.requests) == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1
    assert_no_secret(exc)


async def test_post_is_not_retried(client, server, sleeps):
    server.handler = lambda request: httpx.Response(502, text="")
    with pytest.raises(OneCodexServerError):
        await client.run(call(ApiCall("POST", f"{RECORD_PATH}/download_uri", json_body={"x": 1})))
    assert len(server.requests) == 1
    assert json.loads(server.requests[0].content) == {"x": 1}
    assert sleeps == []


async def test_aclose_releases_the_client(sleeps, server):
    client = make_client(sleeps)
    first = client.client
    assert client.client is first  # reused
    await client.aclose()
    assert first.is_closed
    assert "client" not in vars(client)  # the next call opens a new pool
