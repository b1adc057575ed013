"""Client settings, built from a connection's fields without importing Airflow.

Connection mapping: password = API key; host = base URL (default ``https://app.onecodex.com``; a
full URL with scheme and port such as ``http://127.0.0.1:8000`` points at the local simulator);
extras tune auth and HTTP behaviour (see :data:`EXTRA_FIELDS`).
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_onecodex import __version__
from airflow_provider_onecodex.api.errors import OneCodexError
from airflow_provider_onecodex.api.paging import DEFAULT_PER_PAGE, validate_per_page
from airflow_provider_onecodex.api.retry import RetryPolicy

DEFAULT_BASE_URL = "https://app.onecodex.com"
AUTH_STYLES = ("basic", "header")
MASKED_PLACEHOLDER = "***"
USER_AGENT = f"airflow-provider-onecodex/{__version__}"

# extra name -> (default, description); read by get_provider_info's form too.
EXTRA_FIELDS: dict[str, tuple[Any, str]] = {
    "auth_style": ("basic", "basic: HTTP Basic with the key as username; header: X-API-Key header."),
    "connect_timeout": (10.0, "Seconds to wait for a TCP/TLS connection."),
    "read_timeout": (60.0, "Seconds to wait for a response once connected."),
    "max_retries": (4, "Retries of a transient failure (429, 5xx, timeouts) after the first attempt."),
    "max_retry_after": (60.0, "Longest Retry-After honoured, seconds; a longer one raises at once."),
    "retry_initial_wait": (
        1.0,
        "Seconds of the first retry backoff; doubles per attempt (full jitter, cap 30 s).",
    ),
    "page_size": (DEFAULT_PER_PAGE, "Records per page when listing (1-1000)."),
}


#: extras this provider reads: the form's fields, and one for tests and S3-compatible stores
KNOWN_EXTRAS = (*EXTRA_FIELDS, "upload_s3_endpoint_url")

log = logging.getLogger(__name__)
_WARNED: set[tuple[str | None, tuple[str, ...]]] = set()  # (connection, unknown extras) logged once


def validate_conn_id(value: object) -> str:
    """An Airflow connection id as hooks and triggers take it (``onecodex_conn_id``).

    :raises TypeError: not a string. :raises ValueError: empty or blank.
    """
    if not isinstance(value, str):
        raise TypeError(f"onecodex_conn_id must be a connection id (a string), got {value!r}")
    if not value.strip():
        raise ValueError(f"onecodex_conn_id must be a non-empty string, got {value!r}")
    return value


def warn_unknown_extras(conn_id: str | None, extra: Mapping[str, Any]) -> list[str]:
    """Log one warning (once per connection and set of names) naming extras this provider does not
    read, e.g. a misspelt ``read_timout``; they are ignored, not refused (an Airflow UI may store
    other keys). Airflow's own form keys (``__...``, ``extra__...``) are skipped. Only key names are
    logged, never values. Returns the unknown names, sorted."""
    unknown = sorted(
        name for name in extra if name not in KNOWN_EXTRAS and not str(name).startswith(("__", "extra__"))
    )
    if unknown and (conn_id, tuple(unknown)) not in _WARNED:
        _WARNED.add((conn_id, tuple(unknown)))
        named = []
        for name in unknown:
            guess = difflib.get_close_matches(str(name), KNOWN_EXTRAS, n=1)
            named.append(f"{name!r} (did you mean {guess[0]!r}?)" if guess else repr(name))
        log.warning(
            "%s has extras this provider does not read, ignored: %s. Known extras: %s",
            f"One Codex connection `{conn_id}`" if conn_id else "The One Codex connection",
            ", ".join(named),
            ", ".join(KNOWN_EXTRAS),
        )
    return unknown


class OneCodexConfigError(OneCodexError, ValueError):
    """A connection field or extra is unusable. The message names it, never the API key."""


def config_problems(conn_id: str | None, problems: list[str]) -> str:
    """Every problem of a connection in one message, naming it: ``connection `oc_prod` extra
    'page_size' must be ...; extra 'read_timeout' must be ...``."""
    return f"connection {'`' + conn_id + '` ' if conn_id else ''}{'; '.join(problems)}"


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs. ``api_key`` is excluded from ``repr``.

    :param api_key: the One Codex API key (32 characters for real keys).
    :param base_url: scheme, host and optional port, without ``/api/v1``.
    :param auth_style: ``"basic"`` (key as username, empty password) or ``"header"`` (``X-API-Key``).
    :param connect_timeout: seconds (default 10).
    :param read_timeout: seconds (default 60).
    :param page_size: records per listing page (default 100, max 1000).
    :param retry: the retry policy.
    :param conn_id: the Airflow connection these settings came from, named in error messages
        (``None`` outside Airflow).
    :param upload_s3_endpoint_url: for testing and S3-compatible stores only (the simulator's
        connection sets it; never needed against One Codex): where upload bytes go instead of AWS S3.
    """

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    auth_style: str = "basic"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    page_size: int = DEFAULT_PER_PAGE
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    user_agent: str = USER_AGENT
    conn_id: str | None = None
    upload_s3_endpoint_url: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.api_key, str) or not self.api_key.strip():
            problems.append("has an empty password: it must hold the One Codex API key")
        elif self.api_key.strip() == MASKED_PLACEHOLDER:
            problems.append(
                "password is Airflow's masked placeholder '***', not a One Codex API key: set the real key"
            )
        if self.auth_style not in AUTH_STYLES:
            problems.append(f"extra 'auth_style' must be one of {AUTH_STYLES}, got {self.auth_style!r}")
        for name in ("connect_timeout", "read_timeout"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not value > 0
                or not math.isfinite(value)
            ):
                problems.append(f"extra {name!r} must be a finite number of seconds > 0, got {value!r}")
        endpoint = self.upload_s3_endpoint_url
        if endpoint is not None and (
            not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("http", "https")
        ):
            problems.append(f"extra 'upload_s3_endpoint_url' must be an http(s) URL, got {endpoint!r}")
        try:
            validate_per_page(self.page_size, "extra 'page_size'")
        except (TypeError, ValueError) as exc:
            problems.append(str(exc))
        if problems:
            raise OneCodexConfigError(config_problems(self.conn_id, problems))

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds, as requests takes it."""
        return (float(self.connect_timeout), float(self.read_timeout))


def normalize_base_url(host: str | None, port: int | None = None, schema: str | None = None) -> str:
    """The base URL from a connection's host (and port/schema when the host has no scheme).

    ``None``/empty -> ``https://app.onecodex.com``; ``app.onecodex.com`` -> ``https://app.onecodex.com``;
    ``http://127.0.0.1:8000/`` or ``.../api/v1`` -> ``http://127.0.0.1:8000``.

    :raises OneCodexConfigError: a scheme other than http/https, or no host name.
    """
    if host is None or not str(host).strip():
        return DEFAULT_BASE_URL
    text = str(host).strip()
    if "://" not in text:
        scheme = schema if schema in ("http", "https") else "https"
        text = f"{scheme}://{text}"
        if port and ":" not in urlsplit(text).netloc:
            text = f"{text}:{int(port)}"
    parts = urlsplit(text)
    if parts.username or parts.password:
        raise OneCodexConfigError("host must not carry credentials: put the API key in the password")
    if parts.scheme not in ("http", "https"):
        raise OneCodexConfigError(f"host must be an http(s) URL, got scheme {parts.scheme!r}")
    if not parts.hostname:
        raise OneCodexConfigError(f"host has no host name: {host!r}")
    try:
        parts.port  # noqa: B018  (raises on a non-numeric or out-of-range port)
    except ValueError:
        raise OneCodexConfigError(f"host has an invalid port: {host!r}") from None
    path = parts.path.rstrip("/")
    if path.endswith("/api/v1"):
        path = path[: -len("/api/v1")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _number(extra: Mapping[str, Any], name: str, problems: list[str], *, integer: bool = False) -> Any:
    """Extra ``name`` as a number (its default when absent); a bad one is added to ``problems``."""
    value = extra.get(name)
    if value is None or value == "":
        return EXTRA_FIELDS[name][0]
    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            value = None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (integer and not isinstance(value, int))
    ):
        problems.append(
            f"extra {name!r} must be {'an integer' if integer else 'a number'}, got {extra.get(name)!r}"
        )
        return EXTRA_FIELDS[name][0]
    return value


def config_from_connection(
    *,
    host: str | None,
    password: str | None,
    extra: Mapping[str, Any] | None = None,
    port: int | None = None,
    schema: str | None = None,
    conn_id: str | None = None,
) -> ClientConfig:
    """Build a :class:`ClientConfig` from an Airflow connection's fields; an extra it does not read
    is logged once (:func:`warn_unknown_extras`) and ignored.

    :raises OneCodexConfigError: empty or placeholder key, bad host, or an extra of the wrong type
        or range (the message names the extra and its value; the key is never included).
    """
    extra = dict(extra or {})
    warn_unknown_extras(conn_id, extra)
    problems: list[str] = []  # every bad extra is reported at once
    max_retries = _number(extra, "max_retries", problems, integer=True)
    if max_retries < 0:
        problems.append(f"extra 'max_retries' must be >= 0, got {max_retries!r}")
    max_retry_after = _number(extra, "max_retry_after", problems)
    if not max_retry_after >= 0:  # NaN too
        problems.append(f"extra 'max_retry_after' must be >= 0, got {max_retry_after!r}")
    initial_wait = _number(extra, "retry_initial_wait", problems)
    if not 0 <= initial_wait < math.inf:  # NaN and infinity too
        problems.append(f"extra 'retry_initial_wait' must be a finite number >= 0, got {initial_wait!r}")
    numbers = {
        "connect_timeout": _number(extra, "connect_timeout", problems),
        "read_timeout": _number(extra, "read_timeout", problems),
        "page_size": _number(extra, "page_size", problems, integer=True),
    }
    try:
        base_url = normalize_base_url(host, port, schema)
    except OneCodexConfigError as exc:
        problems.append(str(exc))
        base_url = DEFAULT_BASE_URL
    auth_style = extra.get("auth_style") or EXTRA_FIELDS["auth_style"][0]
    try:
        config = ClientConfig(
            api_key=(password or "").strip(),  # a pasted key often ends in a newline
            base_url=base_url,
            auth_style=str(auth_style),
            **numbers,
            upload_s3_endpoint_url=extra.get("upload_s3_endpoint_url") or None,
            conn_id=conn_id,
        )
    except OneCodexConfigError as exc:
        problems.append(str(exc).removeprefix(config_problems(conn_id, [])))
    if problems:
        raise OneCodexConfigError(config_problems(conn_id, problems))
    return dataclasses.replace(
        config,
        retry=RetryPolicy(
            max_attempts=max_retries + 1,
            initial_wait=float(initial_wait),
            max_retry_after=float(max_retry_after),
        ),
    )
