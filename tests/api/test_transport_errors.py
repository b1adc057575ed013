"""Network failures against real sockets name the target host:port and the cause, in both clients."""

from __future__ import annotations

import asyncio
import socket

import pytest

from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient
from airflow_provider_onecodex.api.client import OneCodexClient
from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.errors import OneCodexConnectionError
from airflow_provider_onecodex.api.http import target_of, transport_cause
from airflow_provider_onecodex.api.retry import RetryPolicy
from tests._values import KEY, SAMPLE

ACCOUNT = f"/api/v1/samples/{SAMPLE}"  # the route of every request below


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def failure(base_url: str) -> OneCodexConnectionError:
    """The error of one request in each client; both must raise the same text and cause."""
    config = ClientConfig(api_key=KEY, base_url=base_url, retry=RetryPolicy(max_attempts=1), conn_id="oc_lab")
    errors = []
    with pytest.raises(OneCodexConnectionError) as sync_info:
        OneCodexClient(config).get_record("samples", SAMPLE)
    errors.append(sync_info.value)

    async def run() -> None:
        client = AsyncOneCodexClient(config)
        try:
            await client.get_record("samples", SAMPLE)
        finally:
            await client.aclose()

    with pytest.raises(OneCodexConnectionError) as async_info:
        asyncio.run(run())
    errors.append(async_info.value)
    sync_exc, async_exc = errors
    assert str(sync_exc) == str(async_exc)
    assert sync_exc.cause == async_exc.cause
    assert KEY not in str(sync_exc)
    return sync_exc


def test_refused_connection_names_host_port_and_cause():
    port = closed_port()
    exc = failure(f"http://127.0.0.1:{port}")
    assert exc.cause == "refused"
    assert str(exc) == (
        f"One Codex API request failed on GET {ACCOUNT}: could not connect to 127.0.0.1:{port}: "
        "connection refused (nothing listens there: check the host and port of connection `oc_lab`)"
    )


def test_unknown_host_name_is_name_not_resolved():
    exc = failure("https://no-such-host.invalid")
    assert exc.cause == "name_not_resolved"
    assert str(exc) == (
        f"One Codex API request failed on GET {ACCOUNT}: could not connect to no-such-host.invalid:443: "
        "name not resolved (check the host of connection `oc_lab`)"
    )


def test_tls_against_a_plain_http_server_says_tls_and_how_to_fix(onecodex_simulator):
    target = onecodex_simulator.base_url.removeprefix("http://")
    exc = failure(f"https://{target}")
    assert exc.cause == "tls"
    assert str(exc) == (
        f"One Codex API request failed on GET {ACCOUNT}: could not connect to {target}: TLS error "
        "(is it a plain-http server? give http://HOST:PORT as the host of connection `oc_lab`)"
    )


def test_without_a_connection_id_the_message_says_the_connection():
    port = closed_port()
    config = ClientConfig(api_key=KEY, base_url=f"http://127.0.0.1:{port}", retry=RetryPolicy(max_attempts=1))
    with pytest.raises(OneCodexConnectionError) as info:
        OneCodexClient(config).get_record("samples", SAMPLE)
    assert str(info.value) == (
        f"One Codex API request failed on GET {ACCOUNT}: could not connect to 127.0.0.1:{port}: "
        "connection refused (nothing listens there: check the host and port of the connection)"
    )


def test_connect_timeout_says_timed_out_after_n_seconds():
    import requests

    config = ClientConfig(api_key=KEY, base_url="http://10.255.255.1:8000", connect_timeout=0.2)
    from airflow_provider_onecodex.api.http import describe_transport_error

    text = describe_transport_error(requests.exceptions.ConnectTimeout("x"), config)
    assert text == "could not connect to 10.255.255.1:8000: timed out after 0.2 s"


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("https://app.onecodex.com", "app.onecodex.com:443"),
        ("http://127.0.0.1", "127.0.0.1:80"),
        ("http://127.0.0.1:8000/prefix", "127.0.0.1:8000"),
        ("http://[::1]:9000", "[::1]:9000"),
    ],
)
def test_target_is_host_and_port(url, target):
    assert target_of(url) == target


def test_cause_is_read_from_the_wrapped_errors():
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise RuntimeError("wrapper") from inner
    except RuntimeError as outer:
        assert transport_cause(outer) == "refused"
    assert transport_cause(RuntimeError("strange")) == "other"


def test_an_untrusted_certificate_says_so():
    import ssl

    from airflow_provider_onecodex.api.http import describe_transport_error

    error = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error.reason = "CERTIFICATE_VERIFY_FAILED"
    try:
        raise ConnectionError("wrapped") from error
    except ConnectionError as exc:
        config = ClientConfig(api_key=KEY, base_url="https://onecodex.example", conn_id="oc_lab")
        assert describe_transport_error(exc, config) == (
            "could not connect to onecodex.example:443: TLS error (its certificate is not trusted "
            "here: check the host of connection `oc_lab`, or the CA bundle behind a proxy)"
        )
