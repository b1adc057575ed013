"""Fault injection and request accounting for the One Codex API simulator.

The real service sits behind load balancers and proxies: clients see 429 rate limits, 5xx pages
from nginx (HTML, not JSON), reset connections, hung requests, truncated bodies and list pages
whose items moved. :class:`FaultInjector` decides per request whether to inject one of these
(scripted, one fault per matching request, or at a seeded random rate); :class:`FaultLayer` is the
ASGI layer that applies the decision in front of the FastAPI app and records every request in a
:class:`RequestLog`. Admin routes (``/_sim/...``) are never faulted nor logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast, get_args

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FaultKind = Literal["status", "reset", "hang", "slow", "html200", "truncated", "vanish", "no_total"]
BodyStyle = Literal["json", "html", "empty"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
ADMIN_PREFIX = "/_sim/"


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour.

    :param kind: ``status`` (error response), ``reset`` (connection aborted, no response), ``hang``
        (never answers), ``slow`` (answers after ``delay`` s), ``html200`` (200 with an HTML page),
        ``truncated`` (200 JSON cut in half), ``vanish`` (list page minus ``drop`` items),
        ``no_total`` (list page without ``X-Total-Count`` and ``Link``).
    :param status: HTTP status for ``status`` faults.
    :param body: ``json`` (``{"message", "status"}``), ``html`` (nginx-like page) or ``empty``.
    :param retry_after: ``Retry-After`` header: seconds (int) or an HTTP date string.
    """

    kind: FaultKind
    status: int = 503
    body: BodyStyle = "json"
    retry_after: int | str | None = None
    delay: float = 1.0
    hang_for: float = 3600.0
    drop: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.body not in get_args(BodyStyle):
            raise ValueError(f"unknown body style {self.body!r}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"invalid HTTP status {self.status}")

    @classmethod
    def http_error(
        cls, status: int = 503, body: BodyStyle = "json", retry_after: int | str | None = None
    ) -> Fault:
        """An error response, e.g. ``Fault.http_error(429, retry_after=2)``."""
        return cls("status", status=status, body=body, retry_after=retry_after)

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")

    @classmethod
    def hang(cls, hang_for: float = 3600.0) -> Fault:
        return cls("hang", hang_for=hang_for)

    @classmethod
    def slow(cls, delay: float = 1.0) -> Fault:
        return cls("slow", delay=delay)

    @classmethod
    def html200(cls) -> Fault:
        return cls("html200")

    @classmethod
    def truncated(cls) -> Fault:
        return cls("truncated")

    @classmethod
    def vanish(cls, drop: int = 1) -> Fault:
        return cls("vanish", drop=drop)

    @classmethod
    def no_total(cls) -> Fault:
        return cls("no_total")

    @classmethod
    def parse(cls, spec: Fault | str | int | Mapping[str, Any]) -> Fault:
        """Build a fault from a :class:`Fault`, a kind name, a status code (``503``, ``"429"``) or
        a dict such as ``{"kind": "status", "status": 429, "retry_after": 2}`` (``code`` is an
        alias of ``status``; a dict with only ``status`` is a ``status`` fault)."""
        if isinstance(spec, Fault):
            return spec
        if isinstance(spec, bool):
            raise ValueError(f"invalid fault {spec!r}")
        if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
            return cls.http_error(int(spec))
        if isinstance(spec, str):
            return cls(cast(FaultKind, spec))
        if isinstance(spec, Mapping):
            data = dict(spec)
            if "code" in data:
                data["status"] = data.pop("code")
            data.setdefault("kind", "status")
            unknown = set(data) - {f for f in cls.__dataclass_fields__}
            if unknown:
                raise ValueError(f"unknown fault keys {sorted(unknown)}")
            return cls(**data)
        raise ValueError(f"invalid fault {spec!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FaultSpec = Fault | str | int | Mapping[str, Any]


@dataclass
class _Rule:
    """Which requests a rule applies to, and either a script or a rate."""

    path_prefix: str | None
    path_regex: re.Pattern[str] | None
    method: str | None
    script: deque[Fault | None] | None = None
    rate: float = 0.0
    kinds: list[Fault] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path_prefix is not None and not path.startswith(self.path_prefix):
            return False
        return self.path_regex is None or self.path_regex.search(path) is not None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path_prefix": self.path_prefix,
            "path_regex": self.path_regex.pattern if self.path_regex else None,
            "method": self.method,
        }
        if self.script is not None:
            out["mode"] = "script"
            out["remaining"] = [f.to_dict() if f else None for f in self.script]
        else:
            out["mode"] = "rate"
            out["rate"] = self.rate
            out["kinds"] = [f.to_dict() for f in self.kinds]
        return out


class FaultInjector:
    """Decides, per request, which fault (if any) to inject. Thread-safe.

    Scripted rules are consulted before rate rules, each group in the order added; the first
    matching rule decides. A script entry of ``None`` lets that request through; a script is
    dropped once consumed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[_Rule] = []
        self._rates: list[_Rule] = []
        self._counts: Counter[str] = Counter()
        #: set when the server stops, so hanging/slow requests end at once
        self.closing = threading.Event()

    def script(
        self,
        path_prefix: str | None = None,
        faults: Iterable[FaultSpec | None] = (),
        *,
        method: str | None = None,
        path_regex: str | None = None,
    ) -> None:
        """Inject ``faults`` one per matching request, in order (``None`` = pass through)."""
        rule = _Rule(path_prefix, _compile(path_regex), _method(method))
        rule.script = deque(None if f is None else Fault.parse(f) for f in faults)
        with self._lock:
            self._scripts.append(rule)

    def set_rate(
        self,
        rate: float,
        kinds: Iterable[FaultSpec] = ("status",),
        *,
        seed: int | None = None,
        path_prefix: str | None = None,
        method: str | None = None,
        path_regex: str | None = None,
    ) -> None:
        """Inject one of ``kinds`` (uniformly) into a ``rate`` fraction of matching requests.

        Replaces any rate rule with the same matcher; ``rate=0`` just removes it.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        rule = _Rule(path_prefix, _compile(path_regex), _method(method), rate=rate)
        rule.kinds = [Fault.parse(k) for k in kinds]
        if rate > 0 and not rule.kinds:
            raise ValueError("kinds must not be empty")
        rule.rng = random.Random(seed)
        key = (rule.path_prefix, rule.path_regex, rule.method)
        with self._lock:
            self._rates = [r for r in self._rates if (r.path_prefix, r.path_regex, r.method) != key]
            if rate > 0:
                self._rates.append(rule)

    def clear(self) -> None:
        """Remove every rule (counters are kept; see :meth:`reset_counts`)."""
        with self._lock:
            self._scripts.clear()
            self._rates.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault for this request, counted by kind; ``None`` to serve it normally."""
        with self._lock:
            fault = self._pick_locked(method, path)
            if fault is not None:
                self._counts[fault.kind] += 1
            return fault

    def _pick_locked(self, method: str, path: str) -> Fault | None:
        for rule in self._scripts:
            if rule.matches(method, path) and rule.script:
                fault = rule.script.popleft()
                if not rule.script:
                    self._scripts.remove(rule)
                return fault
        for rule in self._rates:
            if rule.matches(method, path):
                if rule.rng.random() < rule.rate:
                    return rule.rng.choice(rule.kinds)
                return None
        return None

    @property
    def counts(self) -> dict[str, int]:
        """Injected faults by kind."""
        with self._lock:
            return dict(self._counts)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in (*self._scripts, *self._rates)]


def _compile(regex: str | None) -> re.Pattern[str] | None:
    return re.compile(regex) if regex is not None else None


def _method(method: str | None) -> str | None:
    return method.upper() if method else None


@dataclass
class RequestRecord:
    """One request as the simulator saw it. The API key itself is never stored."""

    method: str
    path: str
    query: str
    auth: bool
    at: float
    status: int | None = None
    fault: str | None = None


class RequestLog:
    """Every One Codex API request served (admin routes excluded), in arrival order."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._clock = clock

    def start(self, method: str, path: str, query: str, auth: bool) -> RequestRecord:
        record = RequestRecord(method, path, query, auth, self._clock())
        with self._lock:
            self._records.append(record)
        return record

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def count(
        self, path_prefix: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        method = _method(method)
        return sum(
            1
            for r in self.records
            if (path_prefix is None or r.path.startswith(path_prefix))
            and (method is None or r.method == method)
            and (status is None or r.status == status)
        )

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def stats(self) -> dict[str, Any]:
        records = self.records
        return {
            "total": len(records),
            "by_status": dict(Counter(str(r.status) for r in records)),
            "by_method": dict(Counter(r.method for r in records)),
        }


_NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def _phrase(code: int) -> str:
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def html_page(code: int) -> bytes:
    """An nginx-style error page, as a proxy in front of the API would send it."""
    return _NGINX_PAGE.format(code=code, phrase=_phrase(code)).encode()


def _headers(content_type: str | None, body: bytes, extra: Iterable[tuple[str, str]] = ()) -> list[Any]:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    headers.extend((k.encode(), v.encode()) for k, v in extra)
    return headers


async def _respond(send: Send, status: int, headers: list[Any], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _abort_connection(send: Send) -> bool:
    """Reset the TCP connection under this request (RST, no response).

    Under uvicorn ``send`` is a bound method of the protocol's ``RequestResponseCycle``, which
    holds the transport (h11 and httptools alike). ``SO_LINGER`` 0 makes close() send a RST.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return True


class FaultLayer:
    """ASGI layer in front of the simulator's FastAPI app: logs requests and injects faults."""

    def __init__(self, injector: FaultInjector, log: RequestLog) -> None:
        self.injector = injector
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await app(scope, receive, send)
            return
        headers = {k.lower() for k, _ in scope.get("headers", [])}
        record = self.log.start(
            scope["method"],
            path,
            scope.get("query_string", b"").decode("latin-1"),
            auth=b"authorization" in headers or b"x-api-key" in headers,
        )

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        fault = self.injector.pick(scope["method"], path)
        if fault is None:
            await app(scope, receive, recording_send)
            return
        record.fault = fault.kind
        await self._apply(fault, scope, receive, recording_send, app, raw_send=send)

    async def _apply(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, app: ASGIApp, raw_send: Send
    ) -> None:
        # raw_send is uvicorn's own bound method: _reset needs it to reach the transport
        if fault.kind == "status":
            await self._error(fault, send)
        elif fault.kind == "reset":
            await self._reset(raw_send)
        elif fault.kind == "hang":
            await self._wait(fault.hang_for, _Receiver(receive))
            await self._reset(raw_send)
        elif fault.kind == "slow":
            receiver = _Receiver(receive)
            if await self._wait(fault.delay, receiver):
                await app(scope, receiver, send)
            else:
                await self._reset(raw_send)
        elif fault.kind == "html200":
            body = b"<!DOCTYPE html>\n<html><head><title>One Codex</title></head><body>Loading...</body></html>\n"
            await _respond(send, 200, _headers("text/html; charset=utf-8", body), body)
        else:
            await self._rewrite(fault, scope, receive, send, app)

    async def _error(self, fault: Fault, send: Send) -> None:
        code = fault.status
        extra = [("retry-after", str(fault.retry_after))] if fault.retry_after is not None else []
        if fault.body == "json":
            body = json.dumps({"message": _phrase(code), "status": code}).encode()
            headers = _headers("application/json", body, extra)
        elif fault.body == "html":
            body = html_page(code)
            headers = _headers("text/html", body, [("server", "nginx"), *extra])
        else:
            body = b""
            headers = _headers(None, body, extra)
        await _respond(send, code, headers, body)

    async def _reset(self, send: Send) -> None:
        if _abort_connection(send):
            # let the protocol see connection_lost, so uvicorn does not try to send a 500
            for _ in range(3):
                await asyncio.sleep(0)
        else:  # not under uvicorn (e.g. an in-process test client): closest equivalent
            body = b""
            await _respond(send, 502, _headers(None, body), body)

    async def _wait(self, seconds: float, receive: _Receiver) -> bool:
        """Sleep ``seconds``; False if the client went away or the server is stopping first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        watcher = asyncio.ensure_future(receive.watch())
        try:
            while not watcher.done() and not self.injector.closing.is_set():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return True
                await asyncio.wait({watcher}, timeout=min(remaining, 0.05))
            return False
        finally:
            watcher.cancel()

    async def _rewrite(self, fault: Fault, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        """Run the app, then damage its response (``truncated``, ``vanish``, ``no_total``)."""
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        status = start.get("status", 500)
        if fault.kind == "truncated" and status == 200:
            body = body[: len(body) // 2]
        elif fault.kind == "vanish" and status == 200:
            body = _drop_items(body, fault.drop)
        elif fault.kind == "no_total":
            headers = [(k, v) for k, v in headers if k.lower() not in (b"x-total-count", b"link")]
        headers.append((b"content-length", str(len(body)).encode()))
        await _respond(send, status, headers, body)


def _drop_items(body: bytes, drop: int) -> bytes:
    try:
        items = json.loads(body)
    except ValueError:
        return body
    if not isinstance(items, list):
        return body
    return json.dumps(items[drop:], separators=(",", ":")).encode()


class _Receiver:
    """Wraps ASGI ``receive`` to notice a client disconnect while waiting, without losing the
    request body messages read meanwhile (they are replayed to the app)."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._buffer: deque[Message] = deque()
        self._disconnected = False

    async def watch(self) -> None:
        """Read messages until the client disconnects."""
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._disconnected = True
                return
            self._buffer.append(message)

    async def __call__(self) -> Message:
        if self._buffer:
            return self._buffer.popleft()
        if self._disconnected:
            return {"type": "http.disconnect"}
        return await self._receive()
