"""Run the One Codex API simulator over real HTTP on loopback, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from airflow_provider_onecodex.testing.app import create_app
from airflow_provider_onecodex.testing.scenario import Clock, Scenario
from airflow_provider_onecodex.testing.state import SimulatorState

_START_TIMEOUT = 10.0
_WILDCARDS = ("0.0.0.0", "::", "")


def _check_public_url(url: str) -> str:
    """``url`` without a trailing ``/``, if it is an http(s) URL with a host and no query/fragment."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            f"public_url must be an http:// or https:// URL with a host and no query, e.g. "
            f"http://sim.lab.example:8000, not {url!r}"
        )
    return url.rstrip("/")


class SimulatorServer:
    """A uvicorn server for the simulator; a context manager.

    :param scenario: path, dict, :class:`Scenario`, bundled name, or None for the demo scenario.
    :param api_key: overrides the scenario's API key.
    :param clock: monotonic-seconds callable driving analysis completion (tests inject one).
    :param host: address to bind; :param port: 0 picks a free port.
    :param public_url: the URL other machines reach this server at (``http[s]://name[:port]``, e.g.
        behind a reverse proxy or when binding ``0.0.0.0``); ``base_url`` and pre-signed download
        links use it. Default: ``http://<host>:<port>``, or ``http://<this machine's hostname>:<port>``
        when ``host`` is a wildcard address (``0.0.0.0``, ``::``), which no client can connect to.
    :raises ValueError: ``public_url`` is not an ``http``/``https`` URL with a host (and no query).

    ``base_url`` is ``http://127.0.0.1:<port>`` by default; the API lives under ``base_url + "/api/v1"``.
    """

    def __init__(
        self,
        scenario: str | Path | dict[str, Any] | Scenario | None = None,
        api_key: str | None = None,
        clock: Clock | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
    ) -> None:
        self.public_url = _check_public_url(public_url) if public_url is not None else None
        self.state = SimulatorState(scenario, api_key=api_key, clock=clock)
        self.host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def api_key(self) -> str:
        return self.state.api_key

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return self._url()

    def _url(self) -> str:
        if self.public_url is not None:
            return self.public_url
        name = socket.gethostname() if self.host in _WILDCARDS else self.host
        host = f"[{name}]" if ":" in name else name
        return f"http://{host}:{self._port}"

    def start(self) -> SimulatorServer:
        """Bind, serve in a daemon thread and return once the port accepts connections."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when the listening
        # socket says TCP; without it every keep-alive response stalls ~40 ms (Nagle + delayed ACK).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        self._port = sock.getsockname()[1]
        self.state.base_url = self._url()  # where pre-signed links point
        config = uvicorn.Config(
            create_app(self.state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
        )
        server = uvicorn.Server(config)
        self.state.faults.closing.clear()
        self.state.restart_clock()
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"onecodex-sim-{self._port}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server = self._thread = None
                sock.close()
                raise RuntimeError("the One Codex simulator failed to start")
            time.sleep(0.01)
        probe = ("::1" if ":" in self.host else "127.0.0.1") if self.host in _WILDCARDS else self.host
        with socket.create_connection((probe, self._port), timeout=_START_TIMEOUT):
            pass
        return self

    def stop(self) -> None:
        """Stop serving; hanging and slow requests are cut off so this takes well under 2 s."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.state.faults.closing.set()
        self.state.s3.stop()
        server.should_exit = True
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server else "stopped"
        return f"<SimulatorServer {self.state.name} {where}>"
