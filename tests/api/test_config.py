"""Client settings from a connection's fields: base URL, extras, and a key that never leaks."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from airflow_provider_onecodex import __version__
from airflow_provider_onecodex.api.config import (
    DEFAULT_BASE_URL,
    KNOWN_EXTRAS,
    ClientConfig,
    OneCodexConfigError,
    config_from_connection,
    normalize_base_url,
)
from airflow_provider_onecodex.api.retry import RetryPolicy
from tests._values import KEY


# -- normalize_base_url ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "port", "schema", "expected"),
    [
        (None, None, None, DEFAULT_BASE_URL),
        ("", None, None, DEFAULT_BASE_URL),
        ("   ", 8000, "http", DEFAULT_BASE_URL),
        ("app.onecodex.com", None, None, "https://app.onecodex.com"),
        (" app.onecodex.com ", None, None, "https://app.onecodex.com"),
        ("localhost", 8000, None, "https://localhost:8000"),
        ("localhost", 8000, "http", "http://localhost:8000"),
        ("localhost", None, "ftp", "https://localhost"),  # a non-http schema field is ignored
        ("localhost:9000", 8000, "http", "http://localhost:9000"),  # the port in host wins
        ("127.0.0.1:8000", None, None, "https://127.0.0.1:8000"),
        ("http://127.0.0.1:8000", None, None, "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/", None, None, "http://127.0.0.1:8000"),
        ("https://app.onecodex.com/api/v1", None, None, "https://app.onecodex.com"),
        ("https://app.onecodex.com/api/v1/", None, None, "https://app.onecodex.com"),
        ("http://127.0.0.1:8000/proxy/api/v1", None, None, "http://127.0.0.1:8000/proxy"),
        ("HTTPS://app.onecodex.com", None, None, "https://app.onecodex.com"),
    ],
)
def test_normalize_base_url(host, port, schema, expected):
    assert normalize_base_url(host, port, schema) == expected


@pytest.mark.parametrize("host", ["ftp://files.example.org", "file:///etc/passwd", "ws://x.example.org"])
def test_non_http_scheme_is_refused(host):
    with pytest.raises(OneCodexConfigError, match="http"):
        normalize_base_url(host)


def test_host_without_name_is_refused():
    with pytest.raises(OneCodexConfigError, match="host name"):
        normalize_base_url("http://:8000")


@pytest.mark.parametrize(
    "host",
    [
        "https://user:s3cretpw@app.onecodex.com",
        "https://s3cretpw@app.onecodex.com",
        "user:s3cretpw@app.onecodex.com",
        # Credentials but no host name: the message must not repeat them either.
        "https://user:s3cretpw@",
    ],
)
def test_credentials_in_url_are_refused_without_echoing_them(host):
    with pytest.raises(OneCodexConfigError) as info:
        normalize_base_url(host)
    assert "s3cretpw" not in str(info.value)


@pytest.mark.parametrize(
    ("host", "port"),
    [
        ("http://127.0.0.1:notaport", None),
        ("localhost:notaport", 8000),
    ],
)
def test_bad_port_is_a_config_error(host, port):
    # A bad port must be reported as a connection setting error, not surface later as a
    # retried "connection failed" on every request (or as a bare ValueError from urllib).
    with pytest.raises(OneCodexConfigError, match="notaport"):
        normalize_base_url(host, port)


# -- config_from_connection ------------------------------------------------------------------------
def test_defaults():
    config = config_from_connection(host=None, password=KEY)
    assert config.api_key == KEY
    assert config.base_url == DEFAULT_BASE_URL
    assert config.auth_style == "basic"
    assert config.timeout == (10.0, 60.0)
    assert config.page_size == 100
    assert config.retry == RetryPolicy(max_attempts=5, max_retry_after=60.0)
    assert config.user_agent == f"airflow-provider-onecodex/{__version__}"


def test_extras_as_strings():
    config = config_from_connection(
        host="http://127.0.0.1:8000",
        password=KEY,
        extra={
            "auth_style": "header",
            "connect_timeout": "2.5",
            "read_timeout": "30",
            "max_retries": "2",
            "max_retry_after": "15",
            "page_size": "250",
        },
    )
    assert config.base_url == "http://127.0.0.1:8000"
    assert config.auth_style == "header"
    assert config.timeout == (2.5, 30.0)
    assert config.page_size == 250
    assert config.retry.max_attempts == 3
    assert config.retry.max_retry_after == 15.0


def test_extras_as_numbers_and_blank_strings():
    config = config_from_connection(
        host="localhost",
        port=8443,
        password=KEY,
        extra={
            "connect_timeout": 1,
            "read_timeout": 7.5,
            "max_retries": 0,
            "max_retry_after": 0,
            "page_size": 1000,
            "auth_style": "",
        },
    )
    assert config.base_url == "https://localhost:8443"
    assert config.timeout == (1.0, 7.5)
    assert config.retry.max_attempts == 1
    assert config.retry.max_retry_after == 0.0
    assert config.page_size == 1000
    assert config.auth_style == "basic"
    blank = config_from_connection(host=None, password=KEY, extra={"read_timeout": "", "page_size": None})
    assert blank.timeout == (10.0, 60.0)
    assert blank.page_size == 100


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"connect_timeout": "fast"}, "connect_timeout"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"read_timeout": "-1"}, "read_timeout"),
        ({"read_timeout": True}, "read_timeout"),
        ({"read_timeout": [60]}, "read_timeout"),
        ({"max_retries": "2.5"}, "max_retries"),
        ({"max_retries": 2.0}, "max_retries"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": "lots"}, "max_retries"),
        ({"max_retry_after": "-3"}, "max_retry_after"),
        ({"max_retry_after": "later"}, "max_retry_after"),
        # "nan" parses as a float; with max_retry_after=NaN no Retry-After is ever honoured.
        pytest.param({"max_retry_after": "nan"}, "max_retry_after", id="max_retry_after-nan"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": 5000}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"auth_style": "bearer"}, "auth_style"),
        ({"auth_style": "Header"}, "auth_style"),
    ],
)
def test_bad_extras_are_named_and_never_show_the_key(extra, named):
    with pytest.raises(OneCodexConfigError) as info:
        config_from_connection(host=None, password=KEY, extra=extra)
    message = str(info.value)
    assert named in message
    assert KEY not in message
    assert KEY not in repr(info.value)


@pytest.mark.parametrize("password", [None, "", "   "])
def test_empty_key_is_refused(password):
    with pytest.raises(OneCodexConfigError, match="empty"):
        config_from_connection(host=None, password=password)


@pytest.mark.parametrize("password", ["***", " *** "])
def test_masked_placeholder_is_refused(password):
    with pytest.raises(OneCodexConfigError, match="placeholder"):
        config_from_connection(host=None, password=password)


def test_bad_host_message_never_shows_the_key():
    with pytest.raises(OneCodexConfigError) as info:
        config_from_connection(host="ftp://files.example.org", password=KEY)
    assert KEY not in str(info.value)


def test_config_error_is_a_value_error():
    assert issubclass(OneCodexConfigError, ValueError)


# -- ClientConfig ----------------------------------------------------------------------------------
def test_repr_hides_the_key():
    config = ClientConfig(api_key=KEY, base_url="http://onecodex.test", auth_style="header")
    assert KEY not in repr(config)
    assert KEY not in str(config)
    assert "http://onecodex.test" in repr(config)


def test_config_is_frozen():
    config = ClientConfig(api_key=KEY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.api_key = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api_key": 123},
        {"api_key": KEY, "connect_timeout": float("nan")},
        {"api_key": KEY, "read_timeout": -1},
        {"api_key": KEY, "page_size": 0},
    ],
)
def test_client_config_validates(kwargs):
    with pytest.raises(OneCodexConfigError) as info:
        ClientConfig(**kwargs)
    assert KEY not in str(info.value)


# -- extras this provider does not read ------------------------------------------------------------
def test_an_unknown_extra_is_named_once_with_the_known_ones_and_never_a_value(caplog):
    extra = {"read_timout": 5, "auth_style": "header", "region": "eu-1", "__extra__": "{}", "extra__x": 1}
    with caplog.at_level(logging.WARNING, logger="airflow_provider_onecodex.api.config"):
        for _ in range(3):  # a trigger reads its connection before every poll: one line, not three
            config = config_from_connection(host=None, password=KEY, extra=extra, conn_id="oc_typo")
    assert config.read_timeout == 60.0  # ignored, not refused
    (record,) = [r for r in caplog.records if r.name == "airflow_provider_onecodex.api.config"]
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert "`oc_typo`" in message
    assert "'read_timout' (did you mean 'read_timeout'?)" in message and "'region'" in message
    assert all(name in message.split("Known extras:")[1] for name in KNOWN_EXTRAS)
    assert "__extra__" not in message and "extra__x" not in message  # Airflow's own form keys
    assert "eu-1" not in message and KEY not in message and "header" not in message


def test_known_extras_log_nothing(caplog):
    with caplog.at_level(logging.WARNING, logger="airflow_provider_onecodex.api.config"):
        config_from_connection(
            host=None, password=KEY, extra=dict.fromkeys(KNOWN_EXTRAS, None), conn_id="oc_clean"
        )
    assert not [r for r in caplog.records if r.name == "airflow_provider_onecodex.api.config"]


def test_a_misspelt_extra_through_the_hook_warns_and_the_call_works(onecodex_connection, caplog):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    onecodex_connection(conn_id="oc_misspelt", read_timout=5)
    with caplog.at_level(logging.WARNING, logger="airflow_provider_onecodex.api.config"):
        account = OneCodexHook("oc_misspelt").get_account()
    assert account["email"]
    assert "connection `oc_misspelt`" in caplog.text and "'read_timout'" in caplog.text
