"""Fetching One Codex pre-signed URLs: ``file_details[].url``, ``readlevel.url``, ``download_uri``,
``results_uri`` (API reference §9).

One implementation on ``requests`` (the async executor runs it in a worker thread). Rules:

- a separate plain HTTP client: no One Codex auth (no ``Authorization``, no ``X-API-Key``), none of
  our headers, no ``~/.netrc`` or proxy settings from the environment; S3 refuses requests that
  carry a second auth mechanism;
- bodies are streamed to the target in chunks (``CHUNK_SIZE``), hashed (SHA-256) and counted; a size
  different from the one the API announced, or from ``Content-Length``, is an error and the partial
  file is removed;
- the connection's timeouts and the one retry policy apply (transient: connection errors, 404 on a
  fresh link, 429, 5xx); ``download_uri`` links are fetched, never requested again by retries;
- URLs are never logged or put in exceptions in full: they carry signatures. :func:`redact_url` keeps
  scheme, host and path;
- classification ``results_uri`` bodies may be gzip (magic ``1f 8b``), zstd (``28 b5 2f fd``, as One Codex
  serves them; ``zstandard`` is a dependency) or plain JSON.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from airflow_provider_onecodex.api.errors import TRANSIENT_STATUSES, OneCodexAPIError, OneCodexResponseError
from airflow_provider_onecodex.api.records import DownloadedFile, redact_url
from airflow_provider_onecodex.api.retry import RetryPolicy

if TYPE_CHECKING:
    from airflow_provider_onecodex.api.files import FileToFetch

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024  # bytes per streamed chunk
MAX_IN_MEMORY = 256 * 1024 * 1024  # bytes: cap of fetch_bytes (results_uri bodies)
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Only these are sent to a pre-signed URL: bodies must arrive as stored, byte for byte.
PLAIN_HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity"}
_S3_CODE = re.compile(rb"<Code>([A-Za-z]{1,64})</Code>")


def url_secrets(url: str) -> list[str]:
    """What log masking must hide of a pre-signed URL: the URL and its query string."""
    try:
        query = urlsplit(url).query
    except ValueError:
        query = ""
    return [s for s in (url, query) if len(s) >= 5]


def validate_url(url: object, name: str = "url") -> str:
    """An ``http(s)`` URL, else ``TypeError``/``ValueError`` naming the redacted value."""
    if not isinstance(url, str):
        raise TypeError(f"{name} must be a URL string, got {type(url).__name__}")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError(f"{name} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http(s) URL, got {redact_url(url)!r}")
    return url


def validate_expected_size(value: object, name: str = "expected_size") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a number of bytes >= 0 or None, got {value!r}")
    return value


class OneCodexDownloadError(OneCodexAPIError):
    """A pre-signed URL could not be fetched. ``path`` is the redacted URL; the body is never kept
    (storage error pages can echo request details), only S3's ``<Code>`` when there is one.

    Transient (retried): no response, 404 (a fresh file may still be uploading), 429 and 5xx.
    """

    @property
    def transient(self) -> bool:
        return self.status is None or self.status == 404 or self.status in TRANSIENT_STATUSES


class OneCodexDownloadSizeError(OneCodexDownloadError):
    """The bytes received differ from the size the API or ``Content-Length`` announced. Permanent."""

    @property
    def transient(self) -> bool:
        return False


_STATUS_HINTS = {
    400: "the storage service refused the request (a pre-signed URL takes no other auth)",
    401: "not authorized",
    402: "a premium platform account is needed to download this",
    403: "the link expired or is not valid; request a fresh one",
    404: "no such file (yet)",
}


def status_error(status: int, url: str, body: bytes) -> OneCodexDownloadError:
    """The error for a non-2xx answer from a pre-signed URL (redacted, no body)."""
    match = _S3_CODE.search(body[:4096])
    code = f" ({match.group(1).decode()})" if match else ""
    hint = _STATUS_HINTS.get(status, "server error" if status >= 500 else "refused")
    return OneCodexDownloadError(status, "GET", redact_url(url), f"pre-signed download failed{code}: {hint}")


def transport_error(exc: BaseException, url: str) -> OneCodexDownloadError:
    return OneCodexDownloadError(None, "GET", redact_url(url), f"download interrupted ({type(exc).__name__})")


def sniff_compression(data: bytes) -> str | None:
    """``"gzip"``, ``"zstd"`` or ``None`` from a body's first bytes."""
    if data.startswith(GZIP_MAGIC):
        return "gzip"
    if data.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


def decompress(data: bytes, *, max_bytes: int = MAX_IN_MEMORY, what: str = "body") -> bytes:
    """``data`` decoded when gzip or zstd (by magic bytes), else as is.

    :raises OneCodexResponseError: corrupt or truncated data, or output over ``max_bytes``.
    """
    kind = sniff_compression(data)
    if kind == "gzip":
        try:
            decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            out = decoder.decompress(data, max_bytes + 1)
        except zlib.error as exc:
            raise OneCodexResponseError(200, "GET", what, f"corrupt gzip data: {exc}") from None
        if len(out) > max_bytes:
            raise OneCodexResponseError(200, "GET", what, f"decompresses to more than {max_bytes} bytes")
        return out
    if kind == "zstd":
        import zstandard  # a dependency; imported here to keep DAG-parse imports light

        try:
            out = zstandard.ZstdDecompressor().stream_reader(data).read(max_bytes + 1)
            if len(out) <= max_bytes:
                # the streaming reader stops quietly on a cut frame: check the frame is whole
                check = zstandard.ZstdDecompressor().decompressobj()
                check.decompress(data)
                if not check.eof:
                    raise zstandard.ZstdError("truncated frame")
        except zstandard.ZstdError as exc:
            raise OneCodexResponseError(200, "GET", what, f"corrupt zstd data: {exc}") from None
        if len(out) > max_bytes:
            raise OneCodexResponseError(200, "GET", what, f"decompresses to more than {max_bytes} bytes")
        return bytes(out)
    return data


class Target(Protocol):
    """Where a download goes: a ``pathlib.Path``, an ``ObjectStoragePath``, any ``UPath``."""

    def open(self, mode: str) -> IO[bytes]: ...

    def unlink(self) -> None: ...


@dataclass(frozen=True)
class Received:
    """A finished download: ``size`` in bytes and the SHA-256 hex digest of those bytes."""

    size: int
    sha256: str


class _Tally:
    """Counts and hashes chunks; checks the total against the announced sizes."""

    def __init__(self, url: str, expected: int | None, content_length: str | None, limit: int | None) -> None:
        self.url = url
        self.expected = expected
        self.content_length = int(content_length) if content_length and content_length.isdigit() else None
        self.limit = limit
        self.size = 0
        self.digest = hashlib.sha256()
        if expected is not None and self.content_length is not None and expected != self.content_length:
            raise self._mismatch(
                f"the API announced {expected} bytes but Content-Length is {self.content_length}"
            )

    def _mismatch(self, message: str) -> OneCodexDownloadSizeError:
        return OneCodexDownloadSizeError(200, "GET", redact_url(self.url), message)

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.digest.update(chunk)
        ceiling = self.expected if self.expected is not None else self.content_length
        if ceiling is not None and self.size > ceiling:
            raise self._mismatch(f"received more than the {ceiling} bytes announced")
        if self.limit is not None and self.size > self.limit:
            raise self._mismatch(f"larger than the in-memory limit of {self.limit} bytes")

    def finish(self) -> Received:
        for announced, by in ((self.expected, "the API"), (self.content_length, "Content-Length")):
            if announced is not None and self.size != announced:
                raise self._mismatch(f"received {self.size} bytes but {by} announced {announced}")
        return Received(self.size, self.digest.hexdigest())


def _remove(target: Target) -> None:
    try:
        target.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:  # best effort: the original error matters more
        log.warning("Could not remove the partial download %s: %s", target, exc)


def plain_session() -> requests.Session:
    """A ``requests.Session`` for pre-signed URLs: only :data:`PLAIN_HEADERS`, no environment settings."""
    session = requests.Session()
    session.headers.clear()
    session.headers.update(PLAIN_HEADERS)
    session.trust_env = False  # no ~/.netrc credentials (they would add Authorization), no proxies
    return session


class Downloader:
    """Synchronous pre-signed downloads over one plain ``requests.Session``.

    :param timeout: ``(connect, read)`` seconds, the connection's.
    :param retry: the retry policy (the connection's); transient failures restart the download.
    :param sleep: how retries wait (injectable for tests).
    """

    def __init__(
        self,
        timeout: tuple[float, float],
        retry: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep or time.sleep
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = plain_session()
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> Downloader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stream(
        self, url: str, write: Callable[[bytes], object], expected: int | None, limit: int | None
    ) -> Received:
        try:
            response = self.session.get(url, stream=True, timeout=self.timeout)
        except requests.RequestException as exc:
            raise transport_error(exc, url) from None
        with response:
            if not 200 <= response.status_code < 300:
                raise status_error(
                    response.status_code, url, response.raw.read(4096, decode_content=False) or b""
                )
            tally = _Tally(url, expected, response.headers.get("content-length"), limit)
            try:
                for chunk in response.raw.stream(CHUNK_SIZE, decode_content=False):
                    tally.add(chunk)
                    write(chunk)
            except (requests.RequestException, Urllib3Error, ConnectionError, TimeoutError) as exc:
                # raw streaming raises urllib3's errors (ProtocolError, ReadTimeoutError) as they are
                raise transport_error(exc, url) from None
            return tally.finish()

    def fetch_bytes(
        self, url: str, *, expected_size: int | None = None, max_bytes: int = MAX_IN_MEMORY
    ) -> bytes:
        """The body of ``url`` in memory (at most ``max_bytes``), as stored (no decoding).

        :raises OneCodexDownloadError: HTTP error or transport failure after the retries.
        :raises OneCodexDownloadSizeError: size differs from ``expected_size``/``Content-Length``.
        """
        validate_url(url)
        expected = validate_expected_size(expected_size)

        def attempt() -> bytes:
            parts: list[bytes] = []
            self._stream(url, parts.append, expected, max_bytes)
            return b"".join(parts)

        result: bytes = self.retry.retrying(sleep=self._sleep)(attempt)
        return result

    def download(self, url: str, target: Target, *, expected_size: int | None = None) -> Received:
        """Stream ``url`` into ``target`` (opened ``"wb"``; any partial file is removed on failure).

        :param expected_size: bytes the API announced (``file_details[].size``, ``documents.size``).
        :returns: bytes written and their SHA-256.
        :raises OneCodexDownloadError, OneCodexDownloadSizeError: as :meth:`fetch_bytes`.
        :raises OSError: writing the target failed (partial file removed).
        """
        validate_url(url)
        expected = validate_expected_size(expected_size)

        def attempt() -> Received:
            try:
                with target.open("wb") as handle:
                    return self._stream(url, handle.write, expected, None)
            except BaseException:
                _remove(target)
                raise

        result: Received = self.retry.retrying(sleep=self._sleep)(attempt)
        return result

    def download_files(self, files: list[FileToFetch], folder: Any) -> list[DownloadedFile]:
        """Each of ``files`` into ``folder / filename`` (:meth:`download`), in order.

        :param folder: a ``pathlib.Path``, an ``ObjectStoragePath``, any ``UPath`` (it exists).
        :returns: ``[{filename, uri, size (bytes), sha256}]``; ``uri``: where the file was written.
        """
        out: list[DownloadedFile] = []
        for f in files:
            target = folder / f.filename
            log.info("Downloading %s (%s bytes) from %s", f.filename, f.size, redact_url(f.url))
            got = self.download(f.url, target, expected_size=f.size)
            out.append({"filename": f.filename, "uri": str(target), "size": got.size, "sha256": got.sha256})
        return out
