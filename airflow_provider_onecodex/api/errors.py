"""Errors raised by the One Codex API layer, and which of them are worth retrying.

One Codex answers errors as ``{"message": "...", "status": <int>}``; some routes use ``msg``
(One Codex API reference, "Errors"). Messages never carry the API key, request headers or a
pre-signed URL: only the status, the method, the path (no query string) and the server's message.
"""

from __future__ import annotations

import json

# Statuses retried with backoff: rate limiting and gateway/server trouble.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
MESSAGE_LIMIT = 200


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
        self, status: int | None, method: str, path: str, message: str, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.message = message
        self.retry_after = retry_after
        where = f"{method} {path}"
        head = f"One Codex API error {status}" if status is not None else "One Codex API request failed"
        super().__init__(f"{head} on {where}: {message}")

    def add_note_to_message(self, note: str) -> None:
        """Append ``note`` to :attr:`message` and to the text the exception shows."""
        self.message = f"{self.message} ({note})"
        head = (
            f"One Codex API error {self.status}"
            if self.status is not None
            else "One Codex API request failed"
        )
        self.args = (f"{head} on {self.method} {self.path}: {self.message}",)

    @property
    def transient(self) -> bool:
        """Whether retrying the same request later may succeed."""
        return self.status in TRANSIENT_STATUSES

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.status, self.method, self.path, self.message, self.retry_after))


class OneCodexAuthError(OneCodexAPIError):
    """401, 402 or 403: the key is missing, wrong, revoked or lacks permission. Permanent."""


class OneCodexNotFoundError(OneCodexAPIError):
    """404: no such record, or a private one this key cannot see. Permanent."""


class OneCodexRateLimitError(OneCodexAPIError):
    """429 Too Many Requests. Transient; ``retry_after`` says how long the server wants us to wait."""


class OneCodexServerError(OneCodexAPIError):
    """5xx: One Codex or a gateway in front of it failed. 500/502/503/504 are transient."""


class OneCodexConnectionError(OneCodexAPIError):
    """No response (``status`` is ``None``): connection refused or reset, DNS failure, timeouts. Transient."""

    @property
    def transient(self) -> bool:
        return True


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
    """The error text of a response body: JSON ``message`` or ``msg``, else its first 200 characters.

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
                    return value.strip()[:MESSAGE_LIMIT]
    if "html" in (content_type or "").lower() or stripped[:1] == "<":
        return "non-JSON (HTML) response body"
    return " ".join(stripped[:MESSAGE_LIMIT].split())


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


def error_for_status(
    status: int,
    method: str,
    path: str,
    body: bytes | str,
    content_type: str | None = None,
    retry_after: str | None = None,
) -> OneCodexAPIError:
    """Build the typed error for a non-2xx response. Only ``path`` (no query) is kept."""
    message = message_from_body(body, content_type)
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
    return cls(status, method, path, message, wait)
