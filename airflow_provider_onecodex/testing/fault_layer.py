"""The ASGI layer in front of the simulator's app: logs each request and applies the fault
:class:`~airflow_provider_onecodex.testing.faults.FaultInjector` picked for it."""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import socket
import struct
from collections import deque
from collections.abc import Iterable
from typing import Any

from airflow_provider_onecodex.testing.faults import (
    ADMIN_PREFIX,
    ASGIApp,
    Fault,
    FaultInjector,
    Message,
    Receive,
    Scope,
    Send,
)
from airflow_provider_onecodex.testing.requestlog import RequestLog

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
        if fault.after:  # the app acts, its response is lost

            async def discard(message: Message) -> None:
                return None

            await app(scope, receive, discard)
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
