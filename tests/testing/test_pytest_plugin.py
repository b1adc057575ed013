"""The fixtures the pytest plugin ships: one session simulator, reset per test, and a connection."""

from __future__ import annotations

import requests

from airflow_provider_onecodex.hooks.onecodex import OneCodexHook


def _samples(server) -> int:
    response = requests.get(
        f"{server.base_url}/api/v1/samples", headers={"X-API-Key": server.api_key}, timeout=5
    )
    response.raise_for_status()
    return len(response.json())


def test_reset_restores_the_scenario_and_clears_faults_and_log(onecodex_simulator):
    state = onecodex_simulator.state
    before = _samples(onecodex_simulator)
    state.add_sample(filename="extra.fastq")
    state.faults.script("/api/v1/account", [503])
    assert _samples(onecodex_simulator) == before + 1
    state.reset()
    assert state.faults.rules() == []
    assert state.count() == 0
    assert _samples(onecodex_simulator) == before


def test_connection_fixture_points_the_hook_at_the_simulator(onecodex_connection, onecodex_simulator):
    account = OneCodexHook().get_account()
    assert account["email"]
    assert onecodex_simulator.state.count("/api/v1/account") == 1
    onecodex_connection(conn_id="onecodex_other", max_retries=0)
    assert OneCodexHook("onecodex_other").get_account() == account


def test_manual_clock_drives_completion(onecodex_manual_clock, onecodex_connection):
    hook = OneCodexHook()
    pending = [a for a in hook.list_records("alignments") if not a["complete"]]
    assert pending, "the demo scenario has alignments that complete later"
    onecodex_manual_clock.advance(10_000)
    ids = [a["$uri"].rsplit("/", 1)[1] for a in pending]
    done = [a for a in hook.list_by_ids("alignments", ids) if a["complete"]]
    assert done, "moving the manual clock completes the pending demo alignments that have a delay"
