"""What the sync and the async client share: headers, response decoding, transport-error text.

Only the transport differs between :mod:`.client` (requests) and :mod:`.async_client` (httpx);
every decision about a response is made here, once.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.errors import (
    OneCodexConnectionError,
    OneCodexResponseError,
    error_for_status,
)
from airflow_provider_onecodex.api.ops import RETRIED_METHODS as RETRIED_METHODS
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


def decode_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    method: str,
    path: str,
    expect: type | None,
) -> Any:
    """Turn one HTTP response into JSON data or a typed error.

    :param expect: ``dict`` or ``list`` to require that JSON type, ``None`` for any JSON (or no body
        on 204), ``str`` for a text body (decoded as UTF-8, undecodable bytes replaced).
    :raises OneCodexAPIError: (a subclass per status class) for any non-2xx status.
    :raises OneCodexResponseError: a 2xx whose body is not JSON of the expected type; the message
        names the route and the content type, never the body.
    """
    content_type = headers.get("content-type") or headers.get("Content-Type") or ""
    if not 200 <= status < 300:
        raise error_for_status(status, method, path, body, content_type, headers.get("retry-after"))
    if expect is str:
        return body.decode("utf-8", errors="replace")
    if status == 204 or (not body and expect is None):
        return None
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
    return data


def decode(response: Any, method: str, path: str, expect: type | None) -> tuple[Any, Any]:
    """``(data, headers)`` of a ``requests`` or ``httpx`` response, by :func:`decode_response`."""
    headers = response.headers
    return decode_response(response.status_code, headers, response.content, method, path, expect), headers


def connection_error(
    exc: BaseException, config: ClientConfig, method: str, path: str
) -> OneCodexConnectionError:
    """The error for a request that got no response (URL-free: see :func:`describe_transport_error`)."""
    return OneCodexConnectionError(None, method, path, describe_transport_error(exc, config))


def describe_transport_error(exc: BaseException, config: ClientConfig) -> str:
    """A short, URL-free description of a connection failure or timeout."""
    name = type(exc).__name__
    lowered = name.lower()
    if "readtimeout" in lowered or lowered == "timeout" or "pooltimeout" in lowered:
        return f"no response within the read timeout of {config.read_timeout:g} s ({name})"
    if "connecttimeout" in lowered:
        return f"could not connect within {config.connect_timeout:g} s ({name})"
    return f"connection failed ({name})"


def policy_for(config: ClientConfig, method: str, retry: bool | None) -> RetryPolicy:
    """The retry policy of one request: the connection's when retried (by method when ``retry`` is
    ``None``: never a POST), else none."""
    retried = method in RETRIED_METHODS if retry is None else retry
    return config.retry if retried else NO_RETRY
