"""A real Airflow (api-server, scheduler, dag-processor, triggerer) running the event-driven example DAG
``onecodex_on_new_sample`` against an in-process simulator; used by the slow test and ``make demo-events``.

Only the example DAG file is in the DAGs folder (a copy in the run's temporary folder), so the
dag-processor parses one file. Samples are added through the simulator's admin routes
(``POST /_sim/samples``, ``POST /_sim/analyses``), as a process outside the simulator would.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from ._airflow_proc import (
    REPO,
    Api,
    Component,
    Components,
    migrated_home,
    start_api_server,
    timed,
    wait_for,
    wait_healthy,
)

DAG_ID = "onecodex_on_new_sample"
DAG_FILE = REPO / "dags_examples" / f"{DAG_ID}.py"
POLL_INTERVAL = 1.0  # seconds: the watcher's listing interval and the sensors' poke interval


@dataclass
class EventStack:
    api: Api
    comps: Components
    sim: Any  # SimulatorServer
    env: dict[str, str]
    triggerer: Component
    times: dict[str, float] = field(default_factory=dict)
    triggerer_starts: int = 1

    # -- the simulator side --------------------------------------------------------------------

    def add_sample(self, filename: str) -> str:
        """A new sample (importing for 1 s, then available) with a classification (done after 2 s)
        and an alignment (after 3 s), added through the admin routes; returns its id."""
        classification = secrets.token_hex(8)
        sample = self._admin("samples", {"filename": filename, "ready_after": 1, "pending_status": "importing",
                                         "primary_classification": classification})  # fmt: skip
        sample_id = str(sample["$uri"]).rsplit("/", 1)[1]
        self._admin("analyses", {"analysis_type": "classification", "sample": sample_id, "id": classification,
                                 "complete_after": 2})  # fmt: skip
        self._admin("analyses", {"analysis_type": "alignment", "sample": sample_id, "tax_id": "1280",
                                 "complete_after": 3})  # fmt: skip
        return sample_id

    def _admin(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.sim.base_url}/_sim/{route}", json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def sample_listings(self) -> int:
        """``GET /api/v1/samples`` listings so far: the watcher's polls (not the sensors' GETs of
        one sample, ``/api/v1/samples/<id>``)."""
        return sum(1 for r in self.sim.state.requests if r.method == "GET" and r.path == "/api/v1/samples")

    # -- the Airflow side ------------------------------------------------------------------------

    def runs(self) -> list[dict[str, Any]]:
        """This DAG's runs, oldest first, each with the ``sample_ids`` of its triggering asset events."""
        listed = self.api.get(
            f"/api/v2/dags/{DAG_ID}/dagRuns", params={"order_by": "run_after", "limit": 100}
        )
        # Airflow 3.3.2 answers 500 here while a run it lists is queued (start_date None fails
        # AssetEventResponse validation): ask again until it has started.
        events = wait_for(
            "GET /api/v2/assets/events to answer",
            self._asset_events,
            timeout=60,
        )
        samples: dict[str, list[str]] = {}
        for event in events["asset_events"]:
            sample_id = ((event.get("extra") or {}).get("payload") or {}).get("sample_id")
            for run in event["created_dagruns"]:
                if run["dag_id"] == DAG_ID:
                    samples.setdefault(run["run_id"], []).append(sample_id)
        return [
            {"run_id": r["dag_run_id"], "state": r["state"], "run_type": r["run_type"],
             "sample_ids": samples.get(r["dag_run_id"], [])}
            for r in listed["dag_runs"]
        ]  # fmt: skip

    def _asset_events(self) -> dict[str, Any] | None:
        answer = self.api.get("/api/v2/assets/events", params={"limit": 1000}, expect=(200, 500))
        return answer if isinstance(answer, dict) and "asset_events" in answer else None

    def _runs_if(self, test: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]] | None:
        runs = self.runs()
        return runs if test(runs) else None

    def wait_runs(self, count: int, timeout: float = 150) -> list[dict[str, Any]]:
        return wait_for(
            f"{count} runs of {DAG_ID}",
            lambda: self._runs_if(lambda runs: len(runs) >= count),
            timeout=timeout,
            on_fail=lambda: f"runs: {self.runs()}\n{self.comps.tails(40)}",
            check=self.comps.check_alive,
        )

    def wait_finished(self, timeout: float = 150) -> list[dict[str, Any]]:
        return wait_for(
            f"every run of {DAG_ID} to finish",
            lambda: self._runs_if(lambda runs: all(r["state"] in ("success", "failed") for r in runs)),
            timeout=timeout,
            interval=2.0,
            on_fail=lambda: f"runs: {self.runs()}\n{self.comps.tails(40)}",
            check=self.comps.check_alive,
        )

    def wait_watching(self, timeout: float = 120) -> None:
        """Until the watcher has polled (its mark is stored: samples from now on are news)."""
        before = self.sample_listings()
        wait_for(
            "the watcher's first listing of /api/v1/samples",
            lambda: self.sample_listings() > before,
            timeout=timeout,
            on_fail=lambda: self.triggerer.tail(60),
            check=self.comps.check_alive,
        )

    def restart_triggerer(self) -> None:
        self.triggerer.stop()
        self.comps.items.remove(self.triggerer)
        self.triggerer = self.start_triggerer()

    def start_triggerer(self) -> Component:
        self.triggerer_starts += 1
        name = f"triggerer-{self.triggerer_starts}"
        return self.comps.start(name, "triggerer", "--skip-serve-logs")


@contextmanager
def event_stack(workdir: Path, label: str) -> Iterator[EventStack]:
    """Start the simulator and the four Airflow components; stop everything on exit."""
    from airflow_provider_onecodex.testing.server import SimulatorServer

    times: dict[str, float] = {}
    dags = workdir / "dags"
    dags.mkdir()
    shutil.copy(DAG_FILE, dags / DAG_FILE.name)
    sim = SimulatorServer().start()
    conn = {"conn_type": "onecodex", "host": sim.base_url, "password": sim.api_key}
    env_extra = {
        "AIRFLOW_CONN_ONECODEX_DEFAULT": json.dumps(conn),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "ONECODEX_EXAMPLE_POLL_INTERVAL": str(POLL_INTERVAL),
    }
    try:
        with migrated_home(workdir, env_extra, times, label) as (comps, api, api_port):
            with timed("components healthy", times):
                start_api_server(comps, api_port)
                comps.start("scheduler", "scheduler", "--skip-serve-logs")
                comps.start("dag-processor", "dag-processor")
                triggerer = comps.start("triggerer-1", "triggerer", "--skip-serve-logs")
                wait_healthy(api, comps, timeout=150, need=("scheduler", "triggerer", "dag_processor"))
            stack = EventStack(api, comps, sim, comps.env, triggerer, times)
            with timed("watcher polling", times):
                wait_for(
                    f"the dag-processor to serialize {DAG_ID}",
                    lambda: api.get(f"/api/v2/dags/{DAG_ID}", expect=(200, 404)).get("dag_id") == DAG_ID,
                    timeout=120,
                    on_fail=comps.tails,
                    check=comps.check_alive,
                )
                errors = api.get("/api/v2/importErrors")
                assert errors["total_entries"] == 0, f"import errors: {errors}"
                api.patch(f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
                stack.wait_watching()
            yield stack
    finally:
        sim.stop()
