"""A CeleryExecutor Airflow on loopback: Postgres, Redis, api-server, scheduler, dag-processor, two
Celery workers and two triggerers, pointed at an in-process One Codex simulator.

The Airflow processes are started and stopped with ``tests/e2e/airflow/_airflow_proc.py`` (the slow
tests' helpers); Postgres and Redis with ``_services.py``. Nothing outside the throwaway ``root``
folder is written, and every process started here is stopped by :meth:`DistributedStack.close`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from _airflow_proc import (
    Api,
    Component,
    Components,
    airflow_env,
    free_port,
    run_airflow,
    start_api_server,
    wait_for,
    wait_healthy,
)
from _services import Postgres, Redis, ensure_installed

from airflow_provider_onecodex.testing.server import SimulatorServer


class DistributedStack:
    """Start with :meth:`start`, stop with :meth:`close` (also when start-up failed half way)."""

    WORKERS = ("worker-1", "worker-2")
    TRIGGERERS = ("triggerer-1", "triggerer-2")

    def __init__(self, root: Path, sim: SimulatorServer, times: dict[str, float]) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.sim = sim
        self.times = times
        self.pg = Postgres(root, self.logs)
        self.redis = Redis(root, self.logs)
        self.api_port = free_port()
        self.api = Api(f"http://127.0.0.1:{self.api_port}")
        self.comps: Components | None = None
        #: triggerer job id (the ``job`` table) -> its component
        self.triggerers: dict[int, Component] = {}
        self.stop_report: dict[str, Any] = {}
        #: triggerers killed or stopped on purpose (reaped by close)
        self.lost: list[Component] = []

    # -- start --------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        conn = {"conn_type": "onecodex", "host": self.sim.base_url, "password": self.sim.api_key}
        home = self.root / "airflow-home"
        home.mkdir(exist_ok=True)
        settings = {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.pg.url,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.pg.url}",
            # 2 shared cores: 4 task slots in all (2 per worker), one parsing process
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW_CONN_ONECODEX_DEFAULT": json.dumps(conn),
        }
        return airflow_env(home, self.api_port, settings)

    def start(self) -> DistributedStack:
        ensure_installed(self.logs / "apt-get.log")
        with self._timed("postgres + redis up"):
            self.pg.start()
            self.redis.start()
        env = self._env()
        with self._timed("db migrate"):
            done = run_airflow(["db", "migrate"], env, self.logs / "db-migrate.log", timeout=300)
            if done.returncode != 0:
                raise SystemExit(f"airflow db migrate failed:\n{done.stdout[-3000:]}")
        self.comps = comps = Components(env, self.logs)
        with self._timed("airflow components healthy"):
            start_api_server(comps, self.api_port)
            comps.start("scheduler", "scheduler", "--skip-serve-logs")
            comps.start("dag-processor", "dag-processor")
            for name in self.WORKERS:
                comps.start(
                    name, "celery", "worker", "--skip-serve-logs", "--concurrency", "2",
                    "--celery-hostname", f"{name}@%h", "--without-mingle", "--without-gossip",
                )  # fmt: skip
            for name in self.TRIGGERERS:  # one at a time, to learn which job row is whose
                known = set(self.triggerers)
                comp = comps.start(name, "triggerer", "--skip-serve-logs")
                job = wait_for(
                    f"{name} to register its job",
                    lambda known=known: next(iter(set(self.triggerer_jobs()) - known), None),
                    timeout=180,
                    interval=0.5,
                    on_fail=comps.tails,
                    check=comps.check_alive,
                )
                self.triggerers[job] = comp
            wait_healthy(self.api, comps, timeout=240, need=("scheduler", "triggerer", "dag_processor"))
            for name in self.WORKERS:
                worker = next(c for c in comps.items if c.name == name)
                wait_for(
                    f"{name} to be ready",
                    lambda w=worker: " ready." in w.output(),
                    timeout=120,
                    on_fail=comps.tails,
                    check=comps.check_alive,
                )
        return self

    # -- the metadata database, read directly (the REST API does not say which triggerer runs what) --
    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg2

        with contextlib.closing(psycopg2.connect(self.pg.dsn())) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def triggerer_jobs(self) -> list[int]:
        """Ids of the triggerer jobs in state ``running`` (a killed one stays listed, heartbeat stale)."""
        rows = self.query("SELECT id FROM job WHERE job_type = 'TriggererJob' AND state = 'running'")
        return sorted(r[0] for r in rows)

    def assignments(self, dag_id: str, run_id: str, task_id: str) -> dict[int, int | None]:
        """map index -> triggerer job id running its trigger (None: not assigned yet), for the
        task instances of ``task_id`` that are deferred now."""
        rows = self.query(
            "SELECT ti.map_index, tr.triggerer_id FROM task_instance ti JOIN trigger tr "
            "ON tr.id = ti.trigger_id WHERE ti.dag_id = %s AND ti.run_id = %s AND ti.task_id = %s",
            dag_id,
            run_id,
            task_id,
        )
        return {int(m): t for m, t in rows}

    def kill_triggerer(self, job: int, graceful: bool = False) -> Component:
        """SIGKILL a triggerer and everything in its session (a machine lost, no clean shutdown), or
        with ``graceful`` send it SIGTERM (a rolling restart) and return at once; it exits on its own
        time and :meth:`close` reaps it."""
        comp = self.triggerers[job]
        assert self.comps is not None
        self.comps.items.remove(comp)  # gone on purpose: no longer checked for liveness
        self.lost.append(comp)
        if graceful:
            comp.terminate()
            return comp
        for pid in [comp.pid, *comp.leftovers()]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        comp.stop(timeout=5)  # reaps it; SIGKILLs anything that was forked meanwhile
        return comp

    def tails(self, lines: int = 40) -> str:
        return self.comps.tails(lines) if self.comps else ""

    # -- stop ---------------------------------------------------------------------------------
    def close(self) -> dict[str, Any]:
        """Stop every process started here; returns ``{"survivors": {name: [pid]}, "stop": text}``."""
        survivors: dict[str, list[int]] = {}
        with self._timed("stop everything"):
            self.api.close()
            if self.comps is not None:
                self.comps.stop_all()
                survivors.update(self.comps.survivors)
                self.stop_report["airflow"] = self.comps.stop_report()
            for comp in self.lost:
                left = comp.stop(timeout=30)
                if left:
                    survivors[comp.name] = left
            for name, service in (("postgres", self.pg), ("redis", self.redis)):
                left = service.stop()
                if left:
                    survivors[name] = left
        return {"survivors": survivors, "stop": self.stop_report.get("airflow", "")}

    @contextlib.contextmanager
    def _timed(self, label: str) -> Any:
        start = time.monotonic()
        try:
            yield
        finally:
            self.times[label] = round(time.monotonic() - start, 1)


def processes_mentioning(text: str) -> list[int]:
    """Live (non-zombie) pids other than ours whose command line or environment contains ``text``
    (the throwaway folder: Postgres and Redis name it in their arguments, Airflow in AIRFLOW_HOME)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            seen = b"".join(Path(f"/proc/{entry}/{part}").read_bytes() for part in ("cmdline", "environ"))
        except OSError:
            continue
        if state != "Z" and text.encode() in seen:
            found.append(int(entry))
    return found
