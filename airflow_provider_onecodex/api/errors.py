"""Errors raised by the One Codex API layer, and which of them are worth retrying.

One Codex answers errors as ``{"message": "...", "status": <int>}``; some routes use ``msg``
(One Codex API reference, "Errors"). Messages never carry the API key, request headers or a
pre-signed URL: only the status, the method, the path (no query string) and the server's message.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Statuses retried with backoff: rate limiting and gateway/server trouble.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
MESSAGE_LIMIT = 300  # characters of a server message kept in an error (cut between words)


class OneCodexError(Exception):
    """Base class of everything this provider raises about One Codex."""


class OneCodexAPIError(OneCodexError):
    """A request to One Codex failed.

    :ivar status: the HTTP status, or ``None`` when no response arrived (connection error, timeout).
    :ivar method: the HTTP method, e.g. ``"GET"``.
    :ivar path: the route without its query string, e.g. ``"/api/v1/alignments/0123456789abcdef"``.
    :ivar message: the server's ``message``/``msg``, else the start of the body, else a description.
    :ivar retry_after: seconds the server asked us to wait (``Retry-After`` on 429/503), or ``None``.
    :ivar throttled: the ``Retry-After`` was longer than the client's retry policy waits, so the
        request was not retried: the server said "later", not "broken".
    """

    throttled = False

    def __init__(
        self,
        status: int | None,
        method: str,
        path: str,
        message: str,
        retry_after: float | None = None,
        *,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.message = message
        self.retry_after = retry_after
        self.hint = hint
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.method} {self.path}"
        if self.hint and self.status == 404:  # not One Codex at all (not_one_codex_hint)
            return f"{self.hint}: it answered 404 on {where}: {self.message}"
        if self.hint:  # what to fix first, then what the server said
            return f"{self.hint}. One Codex answered {self.status} on {where}: {self.message}"
        if self.status is None:
            return f"One Codex API request failed on {where}: {self.message}"
        return f"One Codex API error {self.status} on {where}: {self.message}"

    def add_note_to_message(self, note: str) -> None:
        """Append ``note`` to :attr:`message` and to the text the exception shows."""
        self.message = f"{self.message} ({note})"
        self.args = (self._text(),)

    @property
    def transient(self) -> bool:
        """Whether retrying the same request later may succeed."""
        return self.status in TRANSIENT_STATUSES

    def __reduce__(self) -> tuple[object, ...]:
        args = (self.status, self.method, self.path, self.message, self.retry_after)
        return (_rebuild, (type(self), args, self._keywords()))

    def _keywords(self) -> dict[str, object]:
        """The keyword arguments that rebuild this error (pickling)."""
        return {"hint": self.hint} if self.hint else {}


def _rebuild(
    cls: type[OneCodexAPIError], args: tuple[object, ...], kwargs: dict[str, object]
) -> OneCodexAPIError:
    return cls(*args, **kwargs)  # type: ignore[arg-type]


class OneCodexAuthError(OneCodexAPIError):
    """401, 402 or 403: the key is missing, wrong, revoked or lacks permission. Permanent."""


class OneCodexNotFoundError(OneCodexAPIError):
    """404: no such record, or a private one this key cannot see. Permanent."""


class OneCodexRateLimitError(OneCodexAPIError):
    """429 Too Many Requests. Transient; ``retry_after`` says how long the server wants us to wait."""


class OneCodexServerError(OneCodexAPIError):
    """5xx: One Codex or a gateway in front of it failed. 500/502/503/504 are transient."""


class OneCodexConnectionError(OneCodexAPIError):
    """No response (``status`` is ``None``): connection refused or reset, DNS failure, timeouts. Transient.

    :ivar cause: why, in one word: ``refused``, ``name_not_resolved``, ``tls``, ``connect_timeout``,
        ``read_timeout``, ``reset`` or ``other`` (see :func:`~airflow_provider_onecodex.api.http.transport_cause`).
    """

    def __init__(self, *args: Any, cause: str = "other", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # as OneCodexAPIError; ``cause`` by keyword only
        self.cause = cause

    @property
    def transient(self) -> bool:
        return True

    def _keywords(self) -> dict[str, object]:
        return {**super()._keywords(), "cause": self.cause}


class OneCodexResponseError(OneCodexAPIError):
    """A 2xx answer that is not JSON of the expected shape (an HTML page, a truncated body...).

    Treated as transient: proxies and half-written responses cause it, and a later try usually works.
    """

    @property
    def transient(self) -> bool:
        return True


class MalformedRecordError(OneCodexError):
    """A record lacks a field the completion rule needs, or has it with the wrong type.

    Never treated as success. Permanent: the same record will be malformed on the next poll too.
    """


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a One Codex failure that a later attempt may not repeat."""
    return isinstance(exc, OneCodexAPIError) and exc.transient


def message_from_body(body: bytes | str, content_type: str | None = None) -> str:
    """The error text of a response body: JSON ``message`` or ``msg``, else the body; at most MESSAGE_LIMIT characters, cut between words.

    HTML and empty bodies are described, never parsed as JSON.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.strip()
    if not stripped:
        return "empty response body"
    if stripped[:1] in "{[":
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("message", "msg", "error"):
                value = data.get(key)
                if isinstance(value, str) and value.strip():
                    return shorten(value)
    if "html" in (content_type or "").lower() or stripped[:1] == "<":
        return "non-JSON (HTML) response body"
    return shorten(stripped)


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` on one line, at most about ``limit`` characters, cut between words (``...`` marks a cut)."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    head = words[: limit + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else ""
    if len(cut) < limit // 2:  # one very long token (a hash, a path): cutting inside it is the only way
        cut = words[:limit]
    return cut.rstrip(" ,;:.") + " ..."


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date); ``None`` if absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import email.utils
        import time

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


_AUTH_HINTS = {
    401: ("authentication failed{conn}: check {its} API key"),
    402: ("payment required{conn}: check the One Codex plan of {its} account"),
    403: ("permission denied{conn}: {its} API key lacks permission for this"),
}


def auth_hint(status: int, conn_id: str | None) -> str | None:
    """What to fix for a 401/402/403, naming the Airflow connection (``None`` for other statuses)."""
    template = _AUTH_HINTS.get(status)
    if template is None:
        return None
    if conn_id:
        return template.format(conn=f" for connection `{conn_id}`", its="its")
    return template.format(conn="", its="the")


# A route every One Codex API answers for any key: a listing (/api/v1/<resource>) or /api/v1/account.
_ALWAYS_THERE = re.compile(r"/api/v1/[a-z_]+/?")


def not_one_codex_hint(status: int, path: str, host: str | None, conn_id: str | None) -> str | None:
    """What to fix when a route every One Codex API has answered 404: the host is probably not a
    One Codex API. Names ``host`` (``host:port``, never a key) and the connection; ``None`` otherwise."""
    if status != 404 or _ALWAYS_THERE.fullmatch(path) is None:
        return None
    conn = f"connection `{conn_id}`" if conn_id else "the connection"
    return f"{host or 'the host'} is probably not a One Codex API (check the host of {conn})"


def error_for_status(
    status: int,
    method: str,
    path: str,
    body: bytes | str,
    content_type: str | None = None,
    retry_after: str | None = None,
    conn_id: str | None = None,
    host: str | None = None,
) -> OneCodexAPIError:
    """Build the typed error for a non-2xx response. Only ``path`` (no query) is kept.

    A 401/402/403 message starts with what to fix, naming ``conn_id`` (the Airflow connection),
    then gives the server's own text: ``authentication failed for connection `onecodex_prod`:
    check its API key. One Codex answered 401 on GET <path>: <text>``. A 404 on a listing route or
    on ``/api/v1/account`` says the host (``host:port``) is probably not a One Codex API.
    """
    message = message_from_body(body, content_type)
    hint = auth_hint(status, conn_id) or not_one_codex_hint(status, path, host, conn_id)
    wait = parse_retry_after(retry_after)
    cls: type[OneCodexAPIError] = OneCodexAPIError
    if status in (401, 402, 403):
        cls = OneCodexAuthError
    elif status == 404:
        cls = OneCodexNotFoundError
    elif status == 429:
        cls = OneCodexRateLimitError
    elif status >= 500:
        cls = OneCodexServerError
    return cls(status, method, path, message, wait, hint=hint)


#: HTTP statuses that the same request will meet again: bad request, auth, not found, conflict,
#: unprocessable. Retrying a task over them only delays the failure.
PERMANENT_STATUSES = frozenset({400, 401, 402, 403, 404, 409, 422})


def retry_cannot_help(exc: BaseException) -> bool:
    """Whether a task retry would meet ``exc`` again: a bad argument (``TypeError``/``ValueError``,
    configuration errors included), a malformed record, or a 400/401/402/403/404/409/422 answer.

    Transient failures (429, 5xx, timeouts, connection errors) are not: a retry may succeed.
    """
    if isinstance(exc, OneCodexAPIError):
        return exc.status in PERMANENT_STATUSES
    return isinstance(exc, (MalformedRecordError, TypeError, ValueError))
