"""Throwaway PostgreSQL and Redis servers on loopback, for `make demo-distributed` and its slow test.

Each server runs in the foreground as a :class:`Component` (its own session, output in a log file),
keeps its data in a folder of the caller's temporary directory, listens on a free loopback port and
is stopped by :meth:`stop`. When ``initdb``/``postgres`` or ``redis-server`` are missing and we are
root on a Debian-like system, ``apt-get`` installs them (``postgresql``, ``redis-server``) first.
PostgreSQL refuses to run as root: as root, its commands run as the ``postgres`` system user
(through ``setpriv``, part of util-linux).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e" / "airflow"))
from _airflow_proc import Component, free_port, wait_for

APT_PACKAGES = ("postgresql", "redis-server")


def _postgres_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``: on PATH, else Debian's newest versioned one."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bindir / "initdb").is_file() and re.fullmatch(r"\d+", bindir.parent.name):
            versions.append((int(bindir.parent.name), bindir))
    return max(versions)[1] if versions else None


def missing_programs() -> list[str]:
    missing = [] if _postgres_bindir() else ["initdb/postgres (PostgreSQL server)"]
    return missing + ([] if shutil.which("redis-server") else ["redis-server"])


def ensure_installed(log: Path) -> None:
    """Install PostgreSQL and Redis with apt-get when they are missing (as root), else explain."""
    missing = missing_programs()
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            f"demo-distributed needs {', '.join(missing)}: install them (Debian/Ubuntu: "
            f"`sudo apt-get install -y {' '.join(APT_PACKAGES)}`) and run it again"
        )
    print(f"installing {' '.join(APT_PACKAGES)} with apt-get (missing: {', '.join(missing)}) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(log, "ab") as out:
        for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "-q", *APT_PACKAGES]):
            if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env).returncode != 0:
                raise SystemExit(f"`{' '.join(argv)}` failed; its output is in {log}")
    still = missing_programs()
    if still:
        raise SystemExit(
            f"apt-get installed {' '.join(APT_PACKAGES)} but {', '.join(still)} is still missing"
        )


def _plain_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PG"))}


class Postgres:
    """A PostgreSQL server with one database (``airflow``) and one trusted user (``airflow``)."""

    def __init__(self, root: Path, log_dir: Path) -> None:
        self.root = root / "postgres"
        self.log_dir = log_dir
        self.port = free_port()
        self.component: Component | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``airflow`` database."""
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.port}/airflow"

    def dsn(self, dbname: str = "airflow") -> str:
        return f"host=127.0.0.1 port={self.port} user=airflow dbname={dbname} connect_timeout=5"

    def start(self, timeout: float = 60.0) -> Postgres:
        import psycopg2

        bindir = _postgres_bindir()
        assert bindir is not None, "call ensure_installed() first"
        data, sockets = self.root / "data", self.root / "sockets"
        sockets.mkdir(parents=True)
        prefix: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse root: run them as the postgres user
            user = pwd.getpwnam("postgres")
            # mkdtemp makes the throwaway root 0700: let the postgres user traverse it (not list it)
            os.chmod(self.root.parent, self.root.parent.stat().st_mode | 0o011)
            for path in (self.root, sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
            # setpriv execs (runuser would fork): postgres stays our child, signalled and reaped directly
            prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"]
        init = [str(bindir / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8"]
        with open(self.log_dir / "initdb.log", "wb") as out:
            if subprocess.run([*prefix, *init, "--no-sync"], stdout=out, stderr=subprocess.STDOUT).returncode:
                raise SystemExit(f"initdb failed; see {self.log_dir / 'initdb.log'}")
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(sockets),
            "max_connections": "200",  # each Airflow component holds a pool of its own
            "fsync": "off",  # throwaway data: durability buys nothing here
            "synchronous_commit": "off",
        }
        argv = [*prefix, str(bindir / "postgres"), "-D", str(data), "-p", str(self.port)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        self.component = Component("postgres", argv, _plain_env(), self.log_dir).start()

        def ready() -> bool:
            self._check_alive()
            try:
                psycopg2.connect(self.dsn("postgres")).close()
            except psycopg2.OperationalError:  # not listening yet
                return False
            return True

        wait_for("PostgreSQL to accept connections", ready, timeout, on_fail=self.component.tail)
        with contextlib.closing(psycopg2.connect(self.dsn("postgres"))) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE airflow")
        return self

    def _check_alive(self) -> None:
        if self.component is not None and not self.component.alive():
            raise SystemExit(f"PostgreSQL exited at start-up\n{self.component.tail()}")

    def stop(self) -> list[int]:
        """Fast shutdown (SIGINT: disconnect clients, no waiting for them), then the usual stop."""
        if self.component is None or not self.component.alive():
            return self.component.stop(5) if self.component else []
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.component.pid, signal.SIGINT)
        return self.component.stop(20)


class Redis:
    """A Redis server that keeps nothing on disk (the Celery broker)."""

    def __init__(self, root: Path, log_dir: Path) -> None:
        self.root = root / "redis"
        self.log_dir = log_dir
        self.port = free_port()
        self.component: Component | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> Redis:
        import redis

        self.root.mkdir(parents=True)
        argv = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
            "--save", "", "--appendonly", "no", "--daemonize", "no",
        ]  # fmt: skip
        self.component = Component("redis", argv, _plain_env(), self.log_dir).start()
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

        def ready() -> bool:
            if self.component is not None and not self.component.alive():
                raise SystemExit(f"redis-server exited at start-up\n{self.component.tail()}")
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for("Redis to answer PING", ready, timeout, on_fail=self.component.tail)
        client.close()
        return self

    def stop(self) -> list[int]:
        return self.component.stop(10) if self.component else []
