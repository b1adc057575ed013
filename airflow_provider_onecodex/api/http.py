"""What the sync and the async client share: headers, response decoding, transport-error text.

Only the transport differs between :mod:`.client` (requests) and :mod:`.async_client` (httpx);
every decision about a response is made here, once.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_onecodex.api.config import ClientConfig, config_from_connection
from airflow_provider_onecodex.api.errors import (
    OneCodexConnectionError,
    OneCodexResponseError,
    error_for_status,
)
from airflow_provider_onecodex.api.ops import ApiCall
from airflow_provider_onecodex.api.retry import NO_RETRY, RetryPolicy


def request_headers(config: ClientConfig) -> dict[str, str]:
    """Headers sent on every One Codex API request (never on pre-signed URLs)."""
    headers = {"Accept": "application/json", "User-Agent": config.user_agent}
    if config.auth_style == "header":
        headers["X-API-Key"] = config.api_key
    else:
        token = base64.b64encode(f"{config.api_key}:".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    return headers


def secret_forms(api_key: str) -> list[str]:
    """The key and the Basic-auth token derived from it: what log masking must hide."""
    return [api_key, base64.b64encode(f"{api_key}:".encode()).decode("ascii")]


def config_of(conn: Any, extra: dict[str, Any]) -> tuple[ClientConfig, list[str]]:
    """Client settings of an Airflow connection (any object with its ``host``, ``password``, ``port``,
    ``schema`` and ``conn_id``; ``extra`` parsed), and the secrets to mask in logs."""
    config = config_from_connection(
        host=conn.host,
        password=conn.password,
        extra=extra,
        port=conn.port,
        schema=conn.schema,
        conn_id=conn.conn_id,  # named in 401/402/403 messages
    )
    return config, secret_forms(conn.password) if conn.password else []


def decode(response: Any, call: ApiCall, config: ClientConfig) -> tuple[Any, Any]:
    """``(data, headers)`` of the ``requests`` or ``httpx`` response to ``call``: JSON data or a
    typed error.

    ``call.expect``: ``dict`` or ``list`` to require that JSON type, ``None`` for any JSON (or no
    body on 204), ``str`` for a text body (decoded as UTF-8, undecodable bytes replaced).

    :raises OneCodexAPIError: (a subclass per status class) for any non-2xx status; 401/402/403
        messages name the connection (``config.conn_id``), and so does a 404 on a route every One
        Codex API has, with the host (``host:port``).
    :raises OneCodexResponseError: a 2xx whose body is not JSON of the expected type; the message
        names the route and the content type, never the body.
    """
    status, headers, body = response.status_code, response.headers, response.content
    method, path, expect = call.method, call.path, call.expect
    content_type = headers.get("content-type") or headers.get("Content-Type") or ""
    if not 200 <= status < 300:
        raise error_for_status(
            status,
            method,
            path,
            body,
            content_type,
            retry_after=headers.get("retry-after"),
            conn_id=config.conn_id,
            host=target_of(config.base_url),
        )
    if expect is str:
        return body.decode("utf-8", errors="replace"), headers
    if status == 204 or (not body and expect is None):
        return None, headers
    try:
        data = json.loads(body)
    except ValueError:
        raise OneCodexResponseError(
            status,
            method,
            path,
            f"expected JSON but got {len(body)} bytes of {content_type or 'unknown content type'} "
            "that do not parse as JSON",
        ) from None
    if expect is not None and not isinstance(data, expect):
        raise OneCodexResponseError(
            status,
            method,
            path,
            f"expected a JSON {'object' if expect is dict else 'array'} ({content_type}), "
            f"got {type(data).__name__}",
        )
    if isinstance(data, list) and expect is list and any(not isinstance(item, dict) for item in data):
        raise OneCodexResponseError(status, method, path, "expected an array of JSON objects")
    return data, headers


# Words for the causes of a failed connection, as OneCodexConnectionError.cause values.
TRANSPORT_CAUSES = (
    "refused",
    "name_not_resolved",
    "tls",
    "connect_timeout",
    "read_timeout",
    "reset",
    "other",
)
# Causes that say the connection's host is wrong (not that One Codex is down right now).
CONFIGURATION_CAUSES = frozenset({"refused", "name_not_resolved", "tls"})

_DNS_WORDS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo failed",
    "failed to resolve",
    "name resolution",
)


def target_of(base_url: str) -> str:
    """``host:port`` of a base URL (the default port of its scheme when none is given)."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "?"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: ``__cause__``/``__context__``, urllib3's ``reason``, exception args."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 20:
        current = todo.pop(0)
        if any(current is s for s in seen):
            continue
        seen.append(current)
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        wrapped += [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        todo += [w for w in wrapped if isinstance(w, BaseException)]
    return seen


def transport_cause(exc: BaseException) -> str:
    """Why a request got no response, one of :data:`TRANSPORT_CAUSES`.

    Reads the exception chain of requests/urllib3 and httpx/httpcore: their class names, the
    ``OSError`` errno and the system's resolver text (never the URL).
    """
    chain = _chain(exc)
    names = " ".join(type(e).__name__.lower() for e in chain)
    texts = " ".join(str(e).lower() for e in chain)
    if "readtimeout" in names or "pooltimeout" in names or "writetimeout" in names:
        return "read_timeout"
    if "connecttimeout" in names:
        return "connect_timeout"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "sslerror" in names or "[ssl" in texts:
        return "tls"
    if any(isinstance(e, socket.gaierror) for e in chain) or "nameresolution" in names:
        return "name_not_resolved"
    if any(w in texts for w in _DNS_WORDS):
        return "name_not_resolved"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in texts:
        return "refused"
    if any(isinstance(e, ConnectionResetError) for e in chain) or "reset by peer" in texts:
        return "reset"
    if "remoteprotocolerror" in names or "remotedisconnected" in names:
        return "reset"
    if "timeout" in names or "timed out" in texts:
        return "read_timeout"
    return "other"


def describe_transport_error(exc: BaseException, config: ClientConfig) -> str:
    """Why a request to the connection's host got no response, in words, with that ``host:port``.

    Never the URL's path or query, never the key. E.g. ``could not connect to 127.0.0.1:9:
    connection refused (nothing listens there: check the host and port of connection `oc_prod`)``.
    """
    return _describe(transport_cause(exc), exc, config)


def _describe(cause: str, exc: BaseException, config: ClientConfig) -> str:
    target = target_of(config.base_url)
    # Name the Airflow connection to fix; outside Airflow (no conn_id), just "the connection".
    conn = f"connection `{config.conn_id}`" if config.conn_id else "the connection"
    if cause == "read_timeout":
        return (
            f"no response from {target}: timed out after {config.read_timeout:g} s "
            "(raise the connection's read_timeout if One Codex is slow)"
        )
    if cause == "connect_timeout":
        return f"could not connect to {target}: timed out after {config.connect_timeout:g} s"
    if cause == "tls":
        reasons = [getattr(e, "reason", None) for e in _chain(exc) if isinstance(e, ssl.SSLError)]
        reason = next((str(r) for r in reasons if r), "")
        if "CERTIFICATE" in reason.upper():
            hint = f"its certificate is not trusted here: check the host of {conn}, or the CA bundle behind a proxy"
        elif config.base_url.startswith("https:"):
            hint = f"is it a plain-http server? give http://HOST:PORT as the host of {conn}"
        else:
            hint = f"check the host of {conn}"
        return f"could not connect to {target}: TLS error ({hint})"
    if cause == "name_not_resolved":
        return f"could not connect to {target}: name not resolved (check the host of {conn})"
    if cause == "refused":
        return (
            f"could not connect to {target}: connection refused "
            f"(nothing listens there: check the host and port of {conn})"
        )
    if cause == "reset":
        return f"connection to {target} was closed before a response arrived"
    return f"could not connect to {target} ({type(exc).__name__})"


def connection_error(
    exc: BaseException, config: ClientConfig, method: str, path: str
) -> OneCodexConnectionError:
    """The typed error for a request that got no response: its cause and a message naming the target."""
    cause = transport_cause(exc)
    return OneCodexConnectionError(None, method, path, _describe(cause, exc, config), cause=cause)


def policy_for(config: ClientConfig, call: ApiCall) -> tuple[ApiCall, RetryPolicy]:
    """One request as both clients send it (method upper case, ``retry`` settled by the method when
    ``None``: never a POST) and its retry policy: the connection's when retried, else none."""
    call = dataclasses.replace(call, method=call.method.upper())
    call = dataclasses.replace(call, retry=call.retried)
    return call, config.retry if call.retry else NO_RETRY
