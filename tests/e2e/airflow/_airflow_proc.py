"""Start, watch and stop real Airflow components for the slow end-to-end tests.

Every component runs in its own session (``start_new_session=True``), so its process group and
session id are its pid. Stopping sends SIGTERM to the group, waits, then SIGKILLs whatever is still
in the *session*: Airflow puts each task process in a process group of its own (the supervisor calls
``setpgid``), but never in a new session, so the session catches everything a component started.

Nothing here depends on this machine: the Airflow home is a temporary folder, ports are free
loopback ports, and ``airflow`` is the one next to the running interpreter.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import requests

REPO = Path(__file__).resolve().parents[3]
DAGS_FOLDER = REPO / "dags_examples"
BIN = Path(sys.executable).parent
AIRFLOW = str(BIN / "airflow") if (BIN / "airflow").exists() else "airflow"

T = TypeVar("T")


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def airflow_env(home: Path, api_port: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for every Airflow process of one test: fresh home, SQLite, LocalExecutor, loopback.

    The parent's ``AIRFLOW__*``/``AIRFLOW_CONN_*``/``AIRFLOW_VAR_*`` variables (e.g. the unit-test
    settings of ``tests/conftest.py``) are dropped, so the components see only what is set here.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) and k != "AIRFLOW_HOME"
    }
    env.pop("ONE_CODEX_API_KEY", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # Shared secrets, so no component generates its own (tokens must verify everywhere).
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            # The Execution API is reached through this URL: the api-server's own loopback port.
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            # Log servers are skipped (--skip-serve-logs); keep their ports off the defaults anyway.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


# -- processes ----------------------------------------------------------------------------------
def _session_members(sid: int) -> list[int]:
    """Live (non-zombie) pids whose session id is ``sid``, from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...; comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 4 and fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(entry))
    return pids


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


class Component:
    """One long-running process (an Airflow component) with its output in a log file."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopped_in: float | None = None  # seconds stop() took
        self.killed = False  # True when SIGTERM was not enough
        self._term_at: float | None = None

    def start(self) -> Component:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.env.get("AIRFLOW_HOME"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 40) -> str:
        """The last lines of the output, without the api-server's per-request access lines."""
        text = [line for line in self.output().splitlines() if "[http.access]" not in line][-lines:]
        return f"----- last {len(text)} lines of {self.name} ({self.log_path.name}) -----\n" + "\n".join(text)

    def leftovers(self) -> list[int]:
        """Processes still alive in this component's session."""
        if self.proc is None:
            return []
        if os.path.isdir("/proc"):
            return _session_members(self.pid)
        try:
            os.killpg(self.pid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [self.pid]

    def terminate(self) -> None:
        """Send SIGTERM to the component's process group (the first half of :meth:`stop`)."""
        if self.proc is not None and self._term_at is None:
            self._term_at = time.monotonic()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> list[int]:
        """SIGTERM the process group (unless :meth:`terminate` did), wait up to ``timeout`` seconds
        from then, then SIGKILL everything left in the session.

        :returns: pids that survived even SIGKILL (should be empty).
        """
        if self.proc is None:
            return []
        self.terminate()
        assert self._term_at is not None
        try:
            return self._finish_stop(self._term_at + timeout)
        finally:
            self.stopped_in = round(time.monotonic() - self._term_at, 1)

    def _finish_stop(self, deadline: float) -> list[int]:
        assert self.proc is not None
        pid = self.pid
        while time.monotonic() < deadline:
            self.proc.poll()
            if self.proc.returncode is not None and not self.leftovers():
                return []
            time.sleep(0.2)
        self.killed = True
        for _ in range(3):  # children may fork while we kill: a few rounds
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            for member in self.leftovers():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(os.getpgid(member), signal.SIGKILL)
                _kill(member, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
            time.sleep(0.3)
            if not self.leftovers():
                return []
        return self.leftovers()


class Components:
    """The components of one test: started together, stopped together, tails on demand.

    Use as a context manager; the exit stops everything, whether the test passed or not.
    """

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.items: list[Component] = []
        self.survivors: dict[str, list[int]] = {}

    def start(self, name: str, *args: str, env: Mapping[str, str] | None = None) -> Component:
        comp = Component(name, [AIRFLOW, *args], {**self.env, **(env or {})}, self.log_dir)
        self.items.append(comp)
        return comp.start()

    def check_alive(self) -> None:
        dead = [c for c in self.items if not c.alive()]
        if dead:
            names = ", ".join(f"{c.name} (exit {c.proc.returncode if c.proc else None})" for c in dead)
            raise AssertionError(f"Airflow component(s) exited: {names}\n{self.tails()}")

    def tails(self, lines: int = 40) -> str:
        return "\n".join(c.tail(lines) for c in self.items)

    def stop_all(self, timeout: float = 15.0) -> None:
        """SIGTERM every component at once, then wait for (or SIGKILL) each one."""
        for comp in reversed(self.items):
            comp.terminate()
        for comp in reversed(self.items):
            survivors = comp.stop(timeout)
            if survivors:
                self.survivors[comp.name] = survivors

    def stop_report(self) -> str:
        return ", ".join(f"{c.name} {c.stopped_in} s{' (SIGKILL)' if c.killed else ''}" for c in self.items)

    def __enter__(self) -> Components:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def run_airflow(
    args: Sequence[str], env: Mapping[str, str], log_path: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run one ``airflow ...`` command to completion in its own session; killed (whole session) on timeout."""
    comp = Component(log_path.stem, [AIRFLOW, *args], env, log_path.parent)
    comp.start()
    assert comp.proc is not None
    try:
        comp.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"`airflow {' '.join(args)}` did not finish in {timeout:.0f} s\n{comp.tail(60)}"
        ) from None
    finally:
        comp.stop(timeout=5)
    return subprocess.CompletedProcess(comp.argv, comp.proc.returncode, comp.output(), "")


# -- waiting and HTTP ---------------------------------------------------------------------------
def wait_for(
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    interval: float = 0.5,
    on_fail: Callable[[], str] = lambda: "",
    check: Callable[[], None] = lambda: None,
) -> T:
    """Call ``probe`` until it returns something truthy; ``check`` may raise early (e.g. a dead process)."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        check()
        try:
            value = probe()
        except (requests.RequestException, ValueError, KeyError) as exc:
            value, last_error = None, exc
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}\n{on_fail()}")
        time.sleep(interval)


class Api:
    """Tiny client for the api-server's REST API (``/api/v2``) and UI API (``/ui``); no auth needed
    with ``SIMPLE_AUTH_MANAGER_ALL_ADMINS``."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only: never through a proxy from the environment

    def request(self, method: str, path: str, expect: int | tuple[int, ...] = 200, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        response = self.session.request(method, f"{self.base_url}{path}", **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in expected:
            raise AssertionError(
                f"{method} {path} answered {response.status_code}, expected {expect}: {response.text[:2000]}"
            )
        return response.json() if response.content else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=body, **kwargs)

    def close(self) -> None:
        self.session.close()


def start_api_server(comps: Components, port: int) -> Component:
    return comps.start(
        "api-server", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"
    )


def wait_healthy(api: Api, comps: Components, timeout: float, need: Sequence[str] = ()) -> dict[str, Any]:
    """Wait until ``/api/v2/monitor/health`` answers with the metadatabase and every ``need``ed
    component (``scheduler``, ``triggerer``, ``dag_processor``) healthy."""

    def probe() -> dict[str, Any] | None:
        health = api.get("/api/v2/monitor/health", timeout=5, expect=(200, 500, 502, 503))
        if not isinstance(health, dict):  # still starting up
            return None
        parts = ["metadatabase", *need]
        ok = all((health.get(p) or {}).get("status") == "healthy" for p in parts)
        return health if ok else None

    return wait_for(
        f"the api-server and {', '.join(need) or 'its database'} to be healthy",
        probe,
        timeout,
        interval=1.0,
        on_fail=comps.tails,
        check=comps.check_alive,
    )


@contextlib.contextmanager
def timed(label: str, sink: dict[str, float]) -> Iterator[None]:
    """Record the wall time of a block in ``sink[label]`` (printed by the tests, shown with -s/-rA)."""
    start = time.monotonic()
    try:
        yield
    finally:
        sink[label] = round(time.monotonic() - start, 1)


@contextlib.contextmanager
def migrated_home(
    tmp_path: Path, env_extra: Mapping[str, str], times: dict[str, float], label: str
) -> Iterator[tuple[Components, Api, int]]:
    """A fresh, migrated Airflow home under ``tmp_path``: yields ``(comps, api, api_port)`` for the
    test to start its components in; on exit stops them all, prints the wall times, and checks
    that no process survived."""
    home = tmp_path / "airflow-home"
    home.mkdir()
    api_port = free_port()
    env = airflow_env(home, api_port, env_extra)
    comps = Components(env, tmp_path)
    api = Api(f"http://127.0.0.1:{api_port}")
    try:
        with timed("db migrate", times):
            done = run_airflow(["db", "migrate"], env, tmp_path / "db-migrate.log", timeout=120)
            assert done.returncode == 0, f"airflow db migrate failed:\n{done.stdout[-3000:]}"
        yield comps, api, api_port
    finally:
        api.close()
        with timed("stop", times):
            comps.stop_all()
        print(f"\n[e2e_airflow {label}] wall times (s): {times}; stop: {comps.stop_report()}")
    assert not comps.survivors, f"processes survived SIGKILL: {comps.survivors}"
