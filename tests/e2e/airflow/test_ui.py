"""Issue 6: what a user sees in the Airflow UI, through a real ``airflow api-server``.

- the ``onecodex`` connection type and its form, as the React UI reads it (``/ui/connections/hook_meta``);
- ``POST /api/v2/connections`` then ``POST /api/v2/connections/test`` with the right and a wrong key;
- the "One Codex" extra link of a finished run of the poke example DAG (run with ``airflow dags
  test`` in the same Airflow home while the api-server starts), pointing at the simulator's page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from ._airflow_proc import (
    AIRFLOW,
    Api,
    Component,
    Components,
    migrated_home,
    start_api_server,
    timed,
    wait_healthy,
)

pytestmark = pytest.mark.slow

DAG_ID = "onecodex_alignment_workflow"
CONN_ID = "onecodex_ui_e2e"
WRONG_KEY = "f" * 32
DECLARED_TYPES = {  # extra field -> JSON-schema type, as declared in get_provider_info()
    "auth_style": ["string", "null"],
    "connect_timeout": ["number", "null"],
    "read_timeout": ["number", "null"],
    "max_retries": ["integer", "null"],
    "max_retry_after": ["number", "null"],
    "page_size": ["integer", "null"],
}
ALIGNMENTS = {"a1a1000000001280", "a1a1000000000562", "a1a1000000001639"}


@dataclass
class UiStack:
    api: Api
    comps: Components
    sim: Any  # SimulatorServer
    dags_test: Component
    times: dict[str, float]


@pytest.fixture
def ui_stack(tmp_path: Path, onecodex_simulator: Any) -> Iterator[UiStack]:
    from airflow_provider_onecodex.testing.pytest_plugin import connection_json

    times: dict[str, float] = {}
    sim = onecodex_simulator
    env_extra = {"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    with migrated_home(tmp_path, env_extra, times, "ui") as (comps, api, api_port):
        with timed("api-server healthy + dags test", times):
            start_api_server(comps, api_port)
            # Only the DAG run needs the connection; the api-server gets its own through REST.
            dags_test = comps.start(
                "dags-test",
                "dags",
                "test",
                DAG_ID,
                env={"AIRFLOW_CONN_ONECODEX_DEFAULT": connection_json(sim.base_url, sim.api_key)},
            )
            wait_healthy(api, comps, timeout=150)
            try:
                assert dags_test.proc is not None
                dags_test.proc.wait(timeout=180)
            except Exception as exc:
                raise AssertionError(
                    f"`{AIRFLOW} dags test {DAG_ID}` did not finish\n{comps.tails()}"
                ) from exc
        yield UiStack(api, comps, sim, dags_test, times)


def test_connection_form_test_button_and_extra_link(ui_stack: UiStack) -> None:
    from airflow_provider_onecodex.get_provider_info import get_provider_info

    api, sim = ui_stack.api, ui_stack.sim
    key = sim.api_key
    email = sim.state.account_json()["email"]

    # -- the UI itself is served ------------------------------------------------------------------
    page = api.session.get(f"{api.base_url}/", timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower(), page.text[:500]

    # -- connection type and form (what the React UI's connection form is built from) -------------
    metas = {m["connection_type"]: m for m in api.get("/ui/connections/hook_meta")}
    assert "onecodex" in metas, sorted(k for k in metas if k)
    meta = metas["onecodex"]
    assert meta["hook_name"] == "One Codex"
    assert meta["hook_class_name"] == "airflow_provider_onecodex.hooks.onecodex.OneCodexHook"
    std = meta["standard_fields"]
    assert std["password"]["title"] == "API key" and not std["password"]["hidden"], std
    for hidden in ("login", "url_schema", "port"):  # the connection's `schema` is `url_schema` here
        assert std[hidden]["hidden"] is True, (hidden, std)
    assert std["host"]["hidden"] is False and std["host"]["placeholder"] == "https://app.onecodex.com", std
    extra = meta["extra_fields"]
    declared = get_provider_info()["connection-types"][0]["conn-fields"]  # type: ignore[index]
    assert set(extra) == set(declared), (sorted(extra), sorted(declared))
    for name, types in DECLARED_TYPES.items():
        assert extra[name]["schema"]["type"] == types, (name, extra[name])
    assert extra["auth_style"]["schema"]["enum"] == ["basic", "header"]
    assert extra["page_size"]["schema"]["maximum"] == 1000
    assert key not in json.dumps(meta)

    # -- create a connection through REST, then the "Test" button -----------------------------------
    body = {"connection_id": CONN_ID, "conn_type": "onecodex", "host": sim.base_url, "password": key}
    api.post("/api/v2/connections", body, expect=201)
    stored = api.get(f"/api/v2/connections/{CONN_ID}")
    assert stored["conn_type"] == "onecodex" and stored["host"] == sim.base_url

    accounts_before = sim.state.count("/api/v1/account")
    result = api.post("/api/v2/connections/test", body)  # the form as the UI sends it
    assert result["status"] is True, result
    assert email in result["message"] and key not in result["message"], result
    # Stored credentials are reused when the form does not resend them.
    result = api.post("/api/v2/connections/test", {"connection_id": CONN_ID, "conn_type": "onecodex"})
    assert result["status"] is True and email in result["message"], result
    assert sim.state.count("/api/v1/account", status=200) >= accounts_before + 2

    wrong = {**body, "password": WRONG_KEY}
    result = api.post("/api/v2/connections/test", wrong)
    assert result["status"] is False, result
    message = result["message"]
    assert "authentication" in message.lower(), message
    assert WRONG_KEY not in message and key not in message, message
    assert sim.state.count("/api/v1/account", status=401) >= 1

    # -- the finished poke run exposes the "One Codex" extra link ------------------------------------
    dags_test = ui_stack.dags_test
    assert dags_test.proc is not None and dags_test.proc.returncode == 0, dags_test.tail(60)
    runs = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns")["dag_runs"]
    assert len(runs) == 1 and runs[0]["state"] == "success", runs
    run_id = runs[0]["dag_run_id"]
    tis = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
    waits = {t["map_index"]: t for t in tis if t["task_id"] == "wait_for_alignment"}
    assert sorted(t["state"] for t in waits.values()) == ["failed", "success", "success"], waits
    seen = set()
    for map_index, ti in sorted(waits.items()):
        alignment_id = ti["rendered_fields"]["alignment_id"]
        seen.add(alignment_id)
        links = api.get(
            f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/wait_for_alignment/links",
            params={"map_index": map_index},
        )
        url = links["extra_links"].get("One Codex")
        assert url == f"{sim.base_url}/analysis/{alignment_id}", (map_index, links)
        # the link leads somewhere: the simulator's stand-in for the web app's analysis page
        target = requests.get(url, timeout=10)
        assert target.status_code == 200 and alignment_id in target.text, (url, target.status_code)
    assert seen == ALIGNMENTS
