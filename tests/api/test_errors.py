"""Error messages, Retry-After parsing, status -> error class mapping and picklability."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from airflow_provider_onecodex.api.errors import (
    MESSAGE_LIMIT,
    MalformedRecordError,
    OneCodexAPIError,
    OneCodexAuthError,
    OneCodexConnectionError,
    OneCodexError,
    OneCodexNotFoundError,
    OneCodexRateLimitError,
    OneCodexResponseError,
    OneCodexServerError,
    error_for_status,
    is_transient,
    message_from_body,
    parse_retry_after,
)

PATH = "/api/v1/alignments/0123456789abcdef"


# -- message_from_body -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"message": "bad arg foo", "status": 400}', "bad arg foo"),
        ('{"msg": "add a payment method"}', "add a payment method"),
        (b'{"message": "  padded  "}', "padded"),
        (b'{"message": "", "msg": "from msg"}', "from msg"),
        (b'{"error": "from error"}', "from error"),
        ('{"message": "caf\u00e9 \u2713"}'.encode(), "caf\u00e9 \u2713"),
    ],
)
def test_message_from_json_object(body, expected):
    assert message_from_body(body, "application/json") == expected


def test_message_field_wins_over_msg():
    assert message_from_body(b'{"msg": "second", "message": "first"}') == "first"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (b"<!DOCTYPE html><html></html>", None),
        (b"Bad Gateway", "text/html; charset=utf-8"),
        (b"  <html>", "application/octet-stream"),
    ],
)
def test_html_is_described_not_echoed(body, content_type):
    message = message_from_body(body, content_type)
    assert message == "non-JSON (HTML) response body"


@pytest.mark.parametrize("body", [b"", "", b"   \n\t", "\r\n"])
def test_empty_body(body):
    assert message_from_body(body, "application/json") == "empty response body"


def test_long_json_message_is_cut_to_limit():
    body = json.dumps({"message": "x" * 1000})
    assert message_from_body(body) == "x" * MESSAGE_LIMIT + " ..."
    assert MESSAGE_LIMIT == 300


def test_long_plain_text_is_cut_and_whitespace_collapsed():
    text = "upstream   failed\n\n" + "y" * 1000
    message = message_from_body(text.encode(), "text/plain")
    assert message == "upstream failed " + "y" * (MESSAGE_LIMIT - len("upstream failed ")) + " ..."


def test_long_message_is_cut_between_words_never_inside_one():
    words = " ".join(f"word{n:03d}" for n in range(100))  # 799 characters
    message = message_from_body(json.dumps({"message": words}))
    kept = message.removesuffix(" ...")
    assert message.endswith(" ...")
    assert len(kept) <= MESSAGE_LIMIT
    assert words.startswith(kept + " ")  # whole words only
    assert message == " ".join(f"word{n:03d}" for n in range(37)) + " ..."


@pytest.mark.parametrize(
    "body", ['["a", "b"]', '"just a string"', "42", "null", '{"status": 500}', '{"message": 7}']
)
def test_json_that_is_not_an_object_with_a_message_falls_back_to_text(body):
    assert message_from_body(body.encode(), "application/json") == body


def test_invalid_json_and_bad_utf8_do_not_raise():
    assert message_from_body(b"{not json", "application/json") == "{not json"
    assert "\ufffd" in message_from_body(b"\xff\xfe oops", None)


# -- Retry-After -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), ("0", 0.0), (" 120 ", 120.0), ("1.5", 1.5), ("-5", 0.0)],
)
def test_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_retry_after_http_date_uses_now():
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    header = format_datetime(when, usegmt=True)
    assert header == "Wed, 04 Mar 2026 05:06:07 GMT"
    assert parse_retry_after(header, now=when.timestamp() - 42) == pytest.approx(42.0)
    # A date in the past means "now", never a negative wait.
    assert parse_retry_after(header, now=when.timestamp() + 10) == 0.0


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "Wed, 99 Foo 2026", "nan", "12s"])
def test_retry_after_garbage_is_none(value):
    assert parse_retry_after(value, now=0.0) is None


# -- error_for_status ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "cls", "transient"),
    [
        (400, OneCodexAPIError, False),
        (401, OneCodexAuthError, False),
        (402, OneCodexAuthError, False),
        (403, OneCodexAuthError, False),
        (404, OneCodexNotFoundError, False),
        (405, OneCodexAPIError, False),
        (409, OneCodexAPIError, False),
        (412, OneCodexAPIError, False),
        (422, OneCodexAPIError, False),
        (429, OneCodexRateLimitError, True),
        (500, OneCodexServerError, True),
        (502, OneCodexServerError, True),
        (503, OneCodexServerError, True),
        (504, OneCodexServerError, True),
    ],
)
def test_status_mapping(status, cls, transient):
    exc = error_for_status(status, "GET", PATH, b'{"message": "nope"}', "application/json")
    assert type(exc) is cls
    assert isinstance(exc, OneCodexError)
    assert exc.status == status
    assert exc.method == "GET"
    assert exc.path == PATH
    assert exc.message == "nope"
    assert exc.transient is transient
    assert is_transient(exc) is transient
    if status in (401, 402, 403):
        assert exc.hint is not None
        assert str(exc) == f"{exc.hint}. One Codex answered {status} on GET {PATH}: nope"
    else:
        assert str(exc) == f"One Codex API error {status} on GET {PATH}: nope"


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (401, "authentication failed for connection `onecodex_prod`: check its API key"),
        (402, "payment required for connection `onecodex_prod`: check the One Codex plan of its account"),
        (403, "permission denied for connection `onecodex_prod`: its API key lacks permission for this"),
    ],
)
def test_auth_errors_lead_with_what_to_fix_on_which_connection(status, text):
    exc = error_for_status(status, "GET", PATH, b'{"message": "Invalid API key"}', conn_id="onecodex_prod")
    assert str(exc) == f"{text}. One Codex answered {status} on GET {PATH}: Invalid API key"
    assert exc.message == "Invalid API key"
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is type(exc) and str(again) == str(exc)


def test_auth_error_without_a_connection_names_the_key():
    exc = error_for_status(401, "GET", PATH, b'{"message": "nope"}')
    assert str(exc) == f"authentication failed: check the API key. One Codex answered 401 on GET {PATH}: nope"


def test_connection_error_keeps_its_cause_through_pickling():
    exc = OneCodexConnectionError(
        None, "GET", PATH, "could not connect to h:1: connection refused", cause="refused"
    )
    again = pickle.loads(pickle.dumps(exc))
    assert again.cause == "refused" and str(again) == str(exc)


def test_rate_limit_carries_retry_after():
    exc = error_for_status(429, "GET", PATH, b"", None, retry_after="12")
    assert isinstance(exc, OneCodexRateLimitError)
    assert exc.retry_after == 12.0
    assert exc.message == "empty response body"
    assert error_for_status(429, "GET", PATH, b"", None).retry_after is None
    assert error_for_status(503, "GET", PATH, b"", None, retry_after="3").retry_after == 3.0


def test_connection_and_response_errors_are_transient():
    conn = OneCodexConnectionError(None, "GET", PATH, "connection failed (ConnectionError)")
    assert conn.transient and is_transient(conn)
    assert str(conn) == f"One Codex API request failed on GET {PATH}: connection failed (ConnectionError)"
    resp = OneCodexResponseError(200, "GET", PATH, "expected JSON")
    assert resp.transient and is_transient(resp)


def test_non_api_errors_are_not_transient():
    assert not is_transient(MalformedRecordError("analysis x: field 'complete' is missing"))
    assert not is_transient(ValueError("x"))
    assert not is_transient(ConnectionError("socket"))


@pytest.mark.parametrize(
    "exc",
    [
        OneCodexAPIError(409, "POST", PATH, "conflict"),
        OneCodexAuthError(401, "GET", PATH, "bad key"),
        OneCodexNotFoundError(404, "GET", PATH, "not found"),
        OneCodexRateLimitError(429, "GET", PATH, "slow down", 9.5),
        OneCodexServerError(503, "GET", PATH, "down", 2.0),
        OneCodexConnectionError(None, "GET", PATH, "no response"),
        OneCodexResponseError(200, "GET", PATH, "html"),
    ],
)
def test_pickle_round_trip(exc):
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc)
    assert (copy.status, copy.method, copy.path, copy.message, copy.retry_after) == (
        exc.status,
        exc.method,
        exc.path,
        exc.message,
        exc.retry_after,
    )
    assert str(copy) == str(exc)
    assert copy.transient == exc.transient


def test_pickle_malformed_record_error():
    exc = MalformedRecordError("analysis 0123456789abcdef: field 'success' is missing")
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is MalformedRecordError
    assert str(copy) == str(exc)
