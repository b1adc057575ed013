"""The synchronous client against a mocked One Codex (requests-mock): auth, timeouts, paging, errors."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from airflow_provider_onecodex import __version__
from airflow_provider_onecodex.api.client import OneCodexClient
from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.errors import (
    OneCodexAPIError,
    OneCodexAuthError,
    OneCodexConnectionError,
    OneCodexNotFoundError,
    OneCodexRateLimitError,
    OneCodexResponseError,
    OneCodexServerError,
)
from airflow_provider_onecodex.api.retry import RetryPolicy
from tests._values import ATTEMPTS, BASE, BASIC_TOKEN, ID, KEY, LIST_PATH, RECORD_PATH, SAMPLE

JSON = {"Content-Type": "application/json"}


def make_client(sleeps, **config):
    return OneCodexClient(ClientConfig(api_key=KEY, base_url=BASE, **config), sleep=sleeps.append)


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    with make_client(sleeps) as c:
        yield c


def query(request):
    """The query string of a recorded request, decoded but not lower-cased."""
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query, keep_blank_values=True).items()}


def assert_no_secret(exc):
    for text in (str(exc), repr(exc), str(exc.args)):
        assert KEY not in text
        assert BASIC_TOKEN not in text


def record(i):
    return {"$uri": f"{LIST_PATH}/{i:016x}", "complete": True, "success": True}


def serve_pages(requests_mock, pages, total=None, path=LIST_PATH):
    """Answer GET ``path`` with ``pages[page - 1]``, and ``X-Total-Count: total`` when given."""

    def answer(request, context):
        page = int(query(request).get("page", 1))  # no page (cursor mode asked): page 1
        context.headers["Content-Type"] = "application/json"
        if total is not None:
            context.headers["X-Total-Count"] = str(total)
        return pages[page - 1] if page <= len(pages) else []

    return requests_mock.get(BASE + path, json=answer)


# -- headers and timeouts --------------------------------------------------------------------------
def test_basic_auth_is_key_with_empty_password(client, requests_mock):
    requests_mock.get(f"{BASE}/api/v1/account", json={"email": "lab@example.org"}, headers=JSON)
    assert client.get_account() == {"email": "lab@example.org"}
    headers = requests_mock.last_request.headers
    scheme, token = headers["Authorization"].split(" ", 1)
    assert scheme == "Basic"
    assert base64.b64decode(token).decode() == f"{KEY}:"
    assert "X-API-Key" not in headers
    assert headers["User-Agent"] == f"airflow-provider-onecodex/{__version__}"
    assert headers["Accept"] == "application/json"


def test_header_auth_style_sends_x_api_key_and_no_authorization(sleeps, requests_mock):
    requests_mock.get(f"{BASE}/api/v1/account", json={"email": "lab@example.org"}, headers=JSON)
    with make_client(sleeps, auth_style="header") as client:
        client.get_account()
    headers = requests_mock.last_request.headers
    assert headers["X-API-Key"] == KEY
    assert "Authorization" not in headers
    assert headers["User-Agent"] == f"airflow-provider-onecodex/{__version__}"


def test_every_request_has_connect_and_read_timeouts(sleeps, requests_mock):
    requests_mock.get(BASE + RECORD_PATH, json=record(1), headers=JSON)
    serve_pages(requests_mock, [[record(1), record(2)], [record(3)]])
    requests_mock.get(f"{BASE}/api/v1/account", [{"status_code": 503, "text": ""}, {"json": {}}])
    with make_client(sleeps, connect_timeout=3, read_timeout=7.5) as client:
        client.get_record("alignments", ID)
        client.list_records("alignments", per_page=2)
        client.get_account()
    assert requests_mock.call_count == 5
    assert [r.timeout for r in requests_mock.request_history] == [(3.0, 7.5)] * 5


def test_redirects_are_not_followed(client, requests_mock):
    requests_mock.get(BASE + RECORD_PATH, status_code=302, headers={"Location": "http://elsewhere.test/x"})
    with pytest.raises(OneCodexAPIError) as info:
        client.get_record("alignments", ID)
    assert info.value.status == 302
    assert requests_mock.call_count == 1


# -- records ---------------------------------------------------------------------------------------
def test_get_record(client, requests_mock):
    body = {"$uri": RECORD_PATH, "complete": False, "success": False}
    requests_mock.get(BASE + RECORD_PATH, json=body, headers=JSON)
    assert client.get_record("alignments", ID) == body
    assert client.get_record("alignments", RECORD_PATH) == body  # a $uri of the same resource
    assert requests_mock.call_count == 2
    assert requests_mock.last_request.method == "GET"
    assert query(requests_mock.last_request) == {}  # no expand=all


@pytest.mark.parametrize(
    ("resource", "record_id", "error"),
    [
        ("alignments", "", ValueError),
        ("alignments", "0123456789ABCDEF", ValueError),
        ("alignments", ID[:15], ValueError),
        ("alignments", f"{ID}/../../account", ValueError),
        ("alignments", f"/api/v1/samples/{ID}", ValueError),
        ("alignments", None, TypeError),
        ("alignments", 12, TypeError),
        ("nonsense", ID, ValueError),
    ],
)
def test_get_record_validates_before_any_request(client, requests_mock, resource, record_id, error):
    with pytest.raises(error) as info:
        client.get_record(resource, record_id)
    assert requests_mock.request_history == []
    # The message names the argument as users know it, or the bad resource.
    assert ("alignment_id" if resource == "alignments" else repr(resource)) in str(info.value)


# -- pagination ------------------------------------------------------------------------------------
def test_three_pages_with_total_count_and_where_sort(client, requests_mock):
    where = {"sample": {"$ref": f"/api/v1/samples/{SAMPLE}"}, "complete": True}
    sort = {"created_at": True}
    serve_pages(requests_mock, [[record(1), record(2)], [record(3), record(4)], [record(5)]], total=5)
    result = client.list_records("alignments", where=where, sort=sort, per_page=2)
    assert result == [record(i) for i in range(1, 6)]
    assert requests_mock.call_count == 3
    for page, request in enumerate(requests_mock.request_history, start=1):
        params = query(request)
        assert set(params) == {"where", "sort", "page", "per_page"}
        assert params["page"] == str(page)
        assert params["per_page"] == "2"
        assert json.loads(params["where"]) == where
        assert json.loads(params["sort"]) == sort
        # compact JSON: no spaces after separators
        assert ", " not in params["where"] and ": " not in params["where"]
        assert params["sort"] == '{"created_at":true}'
        assert urlsplit(request.url).path == LIST_PATH


def test_where_as_json_text_and_default_page_size(client, requests_mock):
    serve_pages(requests_mock, [[record(1)]])
    client.list_records("alignments", where='{"complete": false}')
    params = query(requests_mock.last_request)
    assert json.loads(params["where"]) == {"complete": False}
    assert params["per_page"] == "100"
    assert "sort" not in params


def test_variant_listing(client, requests_mock):
    serve_pages(requests_mock, [[record(1)]], path="/api/v1/samples/public")
    assert client.list_records("samples", variant="public") == [record(1)]


def test_short_page_stops_without_count_header(client, requests_mock):
    serve_pages(requests_mock, [[record(1), record(2), record(3)], [record(4)], [record(5)]])
    assert len(client.list_records("alignments", per_page=3)) == 4
    assert requests_mock.call_count == 2


def test_short_page_continues_when_count_promises_more(client, requests_mock):
    serve_pages(requests_mock, [[record(1), record(2), record(3)], [record(4)], [record(5)]], total=5)
    assert len(client.list_records("alignments", per_page=3)) == 5
    assert requests_mock.call_count == 3


def test_max_records_stops_early(client, requests_mock):
    pages = [[record(3 * p + i) for i in range(3)] for p in range(10)]
    serve_pages(requests_mock, pages, total=30)
    result = client.list_records("alignments", per_page=3, max_records=4)
    assert result == [record(i) for i in range(4)]
    assert requests_mock.call_count == 2


def test_iteration_is_lazy(client, requests_mock):
    pages = [[record(2 * p), record(2 * p + 1)] for p in range(5)]
    serve_pages(requests_mock, pages, total=10)
    records = client.iter_records("alignments", per_page=2)
    assert requests_mock.call_count == 0
    target = next(r for r in records if r["$uri"].endswith(f"{5:016x}"))  # on page 3
    assert target == record(5)
    assert requests_mock.call_count == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"per_page": 0},
        {"per_page": 1001},
        {"max_records": 0},
        {"max_pages": 0},
        {"where": "not json"},
        {"sort": {"created_at": "desc"}},
        {"variant": "private"},
    ],
)
def test_listing_arguments_are_checked_at_the_call(client, requests_mock, kwargs):
    with pytest.raises((TypeError, ValueError)):
        client.iter_records("alignments", **kwargs)
    assert requests_mock.call_count == 0


def test_error_on_page_two_raises_instead_of_returning_page_one(client, requests_mock, sleeps):
    def answer(request, context):
        if query(request)["page"] == "1":
            context.headers.update({**JSON, "X-Total-Count": "4"})
            return json.dumps([record(1), record(2)])
        context.status_code = 500
        context.headers.update(JSON)
        return json.dumps({"message": "internal error"})

    requests_mock.get(BASE + LIST_PATH, text=answer)
    with pytest.raises(OneCodexServerError) as info:
        client.list_records("alignments", per_page=2)
    assert info.value.status == 500
    assert requests_mock.call_count == 1 + ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1
    assert "?" not in str(info.value) and "where" not in str(info.value)
    assert_no_secret(info.value)


def test_empty_pages_while_count_promises_more_raise(client, requests_mock):
    serve_pages(requests_mock, [[record(1), record(2)]], total=10)  # later pages are []
    with pytest.raises(OneCodexResponseError, match="X-Total-Count") as info:
        client.list_records("alignments", per_page=2)
    assert requests_mock.call_count == 4  # 1 full page + MAX_EMPTY_PAGES empty ones
    assert_no_secret(info.value)


def test_max_pages_raises(client, requests_mock):
    serve_pages(requests_mock, [[record(i)] for i in range(10)], total=10)
    with pytest.raises(ValueError, match="max_pages=3"):  # a limit the caller set: permanent
        client.list_records("alignments", per_page=1, max_pages=3)
    assert requests_mock.call_count == 3


# -- status classes --------------------------------------------------------------------------------
def test_401_is_not_retried_and_carries_the_server_message(client, requests_mock, sleeps):
    requests_mock.get(
        BASE + RECORD_PATH,
        status_code=401,
        json={"message": "The server could not verify that you are authorized", "status": 401},
        headers=JSON,
    )
    with pytest.raises(OneCodexAuthError) as info:
        client.get_record("alignments", ID)
    exc = info.value
    assert requests_mock.call_count == 1
    assert sleeps == []
    assert exc.status == 401
    assert exc.message == "The server could not verify that you are authorized"
    assert str(exc) == (
        f"authentication failed: check the API key. One Codex answered 401 on GET {RECORD_PATH}: {exc.message}"
    )
    assert_no_secret(exc)


def test_404_is_not_retried(client, requests_mock, sleeps):
    requests_mock.get(BASE + RECORD_PATH, status_code=404, json={"message": "Not Found"}, headers=JSON)
    with pytest.raises(OneCodexNotFoundError) as info:
        client.get_record("alignments", ID)
    assert requests_mock.call_count == 1
    assert sleeps == []
    assert info.value.path == RECORD_PATH
    assert_no_secret(info.value)


def test_429_with_retry_after_then_200(client, requests_mock, sleeps):
    requests_mock.get(
        BASE + RECORD_PATH,
        [
            {"status_code": 429, "headers": {**JSON, "Retry-After": "7"}, "json": {"message": "slow down"}},
            {"status_code": 200, "headers": JSON, "json": record(0)},
        ],
    )
    assert client.get_record("alignments", ID) == record(0)
    assert requests_mock.call_count == 2
    assert sleeps == [7.0]


def test_429_with_retry_after_beyond_max_raises_at_once(client, requests_mock, sleeps):
    requests_mock.get(BASE + RECORD_PATH, status_code=429, headers={"Retry-After": "3600"}, text="")
    with pytest.raises(OneCodexRateLimitError) as info:
        client.get_record("alignments", ID)
    assert info.value.retry_after == 3600.0
    assert requests_mock.call_count == 1
    assert sleeps == []
    assert_no_secret(info.value)


def test_503_is_retried_until_max_attempts(client, requests_mock, sleeps):
    requests_mock.get(BASE + RECORD_PATH, status_code=503, json={"message": "maintenance"}, headers=JSON)
    with pytest.raises(OneCodexServerError) as info:
        client.get_record("alignments", ID)
    exc = info.value
    assert requests_mock.call_count == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1
    for attempt, wait in enumerate(sleeps, start=1):
        assert 0.0 <= wait <= min(30.0, 2.0 ** (attempt - 1))
    message = str(exc)
    assert "503" in message and "GET" in message and RECORD_PATH in message and "maintenance" in message
    assert_no_secret(exc)


def test_max_retries_from_config(sleeps, requests_mock):
    requests_mock.get(BASE + RECORD_PATH, status_code=502, text="")
    with make_client(sleeps, retry=RetryPolicy(max_attempts=2)) as client, pytest.raises(OneCodexServerError):
        client.get_record("alignments", ID)
    assert requests_mock.call_count == 2


@pytest.mark.parametrize(
    ("status", "body", "headers", "message"),
    [
        (
            502,
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            {"Content-Type": "text/html"},
            "non-JSON (HTML) response body",
        ),
        (500, "", {}, "empty response body"),
        (500, "", JSON, "empty response body"),
        (504, "{truncated", JSON, "{truncated"),
    ],
)
def test_non_json_error_bodies_never_raise_a_decode_error(
    client, requests_mock, status, body, headers, message
):
    requests_mock.get(BASE + RECORD_PATH, status_code=status, text=body, headers=headers)
    with pytest.raises(OneCodexServerError) as info:
        client.get_record("alignments", ID)
    exc = info.value
    assert type(exc) is OneCodexServerError
    assert not isinstance(exc, ValueError)
    assert exc.__cause__ is None
    assert exc.status == status
    assert exc.message == message
    assert requests_mock.call_count == ATTEMPTS
    assert_no_secret(exc)


def test_200_with_html_body_is_a_transient_response_error(client, requests_mock, sleeps):
    requests_mock.get(
        BASE + RECORD_PATH, status_code=200, text="<html>login</html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(OneCodexResponseError) as info:
        client.get_record("alignments", ID)
    exc = info.value
    assert exc.status == 200
    assert RECORD_PATH in str(exc)
    assert "text/html" in str(exc)
    assert "login" not in str(exc)  # the body is not echoed
    assert requests_mock.call_count == ATTEMPTS
    assert_no_secret(exc)


@pytest.mark.parametrize(
    ("body", "call", "expected"),
    [
        ([record(1)], lambda c: c.get_record("alignments", ID), "object"),
        ({"items": []}, lambda c: c.list_records("alignments"), "array"),
        (["not an object"], lambda c: c.list_records("alignments"), "array of JSON objects"),
    ],
)
def test_2xx_json_of_the_wrong_shape(client, requests_mock, body, call, expected):
    requests_mock.get(BASE + RECORD_PATH, json=body, headers=JSON)
    requests_mock.get(BASE + LIST_PATH, json=body, headers=JSON)
    with pytest.raises(OneCodexResponseError, match=expected) as info:
        call(client)
    assert_no_secret(info.value)


@pytest.mark.parametrize(
    ("exc_class", "words"),
    [
        (requests.exceptions.ConnectionError, "could not connect to onecodex.test:80 (ConnectionError)"),
        (requests.exceptions.ConnectTimeout, "could not connect to onecodex.test:80: timed out after 10 s"),
        (
            requests.exceptions.ReadTimeout,
            "no response from onecodex.test:80: timed out after 60 s "
            "(raise the connection's read_timeout if One Codex is slow)",
        ),
    ],
)
def test_transport_errors_are_connection_errors_and_retried(client, requests_mock, sleeps, exc_class, words):
    requests_mock.get(BASE + RECORD_PATH, exc=exc_class(f"boom at {BASE}{RECORD_PATH} with {KEY}"))
    with pytest.raises(OneCodexConnectionError) as info:
        client.get_record("alignments", ID)
    exc = info.value
    assert exc.status is None
    assert exc.path == RECORD_PATH
    assert str(exc) == f"One Codex API request failed on GET {RECORD_PATH}: {words}"
    assert KEY not in str(exc) and "boom" not in str(exc)
    assert requests_mock.call_count == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1
    assert_no_secret(exc)


def test_transport_error_then_success(client, requests_mock, sleeps):
    requests_mock.get(
        BASE + RECORD_PATH, [{"exc": requests.exceptions.ReadTimeout}, {"json": record(0), "headers": JSON}]
    )
    assert client.get_record("alignments", ID) == record(0)
    assert requests_mock.call_count == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("auth_style", ["basic", "header"])
def test_key_absent_from_error_messages_in_both_auth_styles(sleeps, requests_mock, auth_style):
    requests_mock.get(
        BASE + RECORD_PATH, status_code=403, text="Forbidden", headers={"Content-Type": "text/plain"}
    )
    with make_client(sleeps, auth_style=auth_style) as client, pytest.raises(OneCodexAuthError) as info:
        client.get_record("alignments", ID)
    assert info.value.message == "Forbidden"
    assert_no_secret(info.value)
    assert KEY not in repr(client.config)


def test_post_is_not_retried(client, requests_mock, sleeps):
    requests_mock.post(f"{BASE}{RECORD_PATH}/download_uri", status_code=503, text="")
    with pytest.raises(OneCodexServerError):
        client.request("POST", f"{RECORD_PATH}/download_uri", json_body={"x": 1})
    assert requests_mock.call_count == 1
    assert requests_mock.last_request.json() == {"x": 1}
    assert sleeps == []


def test_post_success_and_204(client, requests_mock):
    requests_mock.post(f"{BASE}{RECORD_PATH}/run", status_code=204)
    data, _ = client.request("post", f"{RECORD_PATH}/run", expect=None)
    assert data is None
    assert requests_mock.last_request.method == "POST"
