"""Waits in poke and reschedule mode pick up a changed connection, fail fast when One Codex was
never reached, and let ``Retry-After`` pace their polls.

The deferrable side of connection changes and ``Retry-After`` lives in the shared poller
(``tests/triggers``); the fail-fast rule is tested here in all three modes.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

DEMO_SAMPLE = "a1b2c3d4e5f60718"
LISTING = r"^/api/v1/alignments$"
NEW_KEY = "a" * 32


def alignment_sensor(**kwargs: Any) -> Any:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("timeout", 30)
    return OneCodexAlignmentSensor(task_id="wait", **kwargs)


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_a_key_rotated_mid_wait_is_picked_up(mode, sim, reads, connect, drive) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    old_key = sim.state.api_key

    def rotate() -> None:  # the old key is revoked and the connection updated, mid-wait
        sim.state.api_key = NEW_KEY
        connect(password=NEW_KEY)
        sim.state.set_outcome(aid, success=True)

    reads.at(2, rotate)
    try:
        result = drive(mode, lambda **kw: alignment_sensor(alignment_id=aid, **kw))
    finally:
        sim.state.api_key = old_key
    assert result.exc_type is None, result.message
    assert result.xcom["success"] is True
    assert sim.state.count("/api/v1/alignments", status=401) == 0  # never the old key after the change


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_a_host_switched_mid_wait_is_picked_up(
    mode, sim, reads, connect, drive, onecodex_simulator_factory, monkeypatch
) -> None:
    """The old host still answers "pending"; the wait must move to the new one."""
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    other = onecodex_simulator_factory(api_key=sim.api_key)
    other.state.add_alignment(DEMO_SAMPLE, tax_id="1280", id=aid, complete_after=0)

    def switch() -> None:
        import os

        conn = json.loads(os.environ["AIRFLOW_CONN_ONECODEX_DEFAULT"])
        monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", json.dumps({**conn, "host": other.base_url}))

    reads.at(2, switch)
    result = drive(mode, lambda **kw: alignment_sensor(alignment_id=aid, **kw))
    assert result.exc_type is None, result.message
    assert result.xcom["success"] is True
    assert other.state.count("/api/v1/alignments") >= 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_a_wait_that_never_reached_one_codex_fails_within_a_minute(mode, monkeypatch, drive) -> None:
    """A wrong port: refused at every poll. With the default 10 failures it would take 10 polls;
    a wait no request of which succeeded fails once the next poll would pass the 60 s grace."""
    port = _closed_port()
    conn = {"conn_type": "onecodex", "host": f"http://127.0.0.1:{port}", "password": NEW_KEY}
    monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", json.dumps({**conn, "extra": {"max_retries": 0}}))
    result = drive(
        mode,
        lambda **kw: alignment_sensor(alignment_id="a1a1000000001280", poke_interval=61, timeout=600, **kw),
    )
    assert result.exc_type is AirflowFailException
    assert result.message == (
        "One Codex was never reached for this wait: One Codex API request failed on GET "
        f"/api/v1/alignments: could not connect to 127.0.0.1:{port}: connection refused "
        "(nothing listens there: check the host and port of connection `onecodex_default`)"
    )


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_retry_after_longer_than_poke_interval_delays_the_next_poll(mode, sim, connect, drive) -> None:
    """A 429 asking for 3 s, over the connection's max_retry_after of 1 s: the wait does not poll
    again every 0.05 s but no sooner than the cap, 1 s, later."""
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280", complete_after=0)
    connect(max_retry_after=1, max_retries=0)
    sim.state.faults.script(path_regex=LISTING, faults=[{"status": 429, "retry_after": 3}])
    result = drive(mode, lambda **kw: alignment_sensor(alignment_id=aid, **kw))
    assert result.exc_type is None, result.message
    polls = [r for r in sim.state.requests if r.path == "/api/v1/alignments"]
    assert [r.status for r in polls] == [429, 200]
    assert polls[1].at - polls[0].at >= 1.0


def test_a_deferred_wait_that_never_reached_one_codex_fails_in_the_trigger(monkeypatch) -> None:
    """The sensor's first poke was refused 61 s ago (carried in the trigger's kwargs): the
    trigger's next refused poll ends the wait with the same message as poke mode."""
    import asyncio
    import time

    from airflow_provider_onecodex.api.waiting import WaitSpec
    from airflow_provider_onecodex.triggers.onecodex import OneCodexAnalysisTrigger

    port = _closed_port()
    conn = {"conn_type": "onecodex", "host": f"http://127.0.0.1:{port}", "password": NEW_KEY}
    monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", json.dumps({**conn, "extra": {"max_retries": 0}}))
    spec = WaitSpec.build("alignments", record_id="a1a1000000001280").to_dict()
    trigger = OneCodexAnalysisTrigger(
        spec, "onecodex_default", 0.05, consecutive_failures=1, unreachable_since=time.time() - 61
    )

    async def first() -> Any:
        events = trigger.run()
        try:
            return await asyncio.wait_for(anext(events), 15)
        finally:
            await events.aclose()

    event = asyncio.run(first())
    assert event.payload == {
        "status": "failed",
        "kind": "unreachable",
        "message": "One Codex was never reached for this wait: One Codex API request failed on GET "
        f"/api/v1/alignments: could not connect to 127.0.0.1:{port}: connection refused "
        "(nothing listens there: check the host and port of connection `onecodex_default`)",
    }


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_a_key_rotated_during_a_poll_is_reread_on_the_401(mode, sim, reads, connect, drive) -> None:
    """The key changes between two pages of one poll: the second page meets a 401; the sensor
    re-reads the connection, finds the new key and polls again instead of failing."""
    sample = sim.state.add_sample("rotated_R1.fastq.gz")
    ids = [sim.state.add_alignment(sample, tax_id=t, complete_after=0) for t in ("1280", "562")]
    old_key = sim.state.api_key
    connect(page_size=1)  # one record per page: a poll is two requests

    def rotate() -> None:
        sim.state.api_key = NEW_KEY
        connect(password=NEW_KEY, page_size=1)

    reads.at(1, rotate)  # after the first page of the first poll was served
    try:
        result = drive(mode, lambda **kw: alignment_sensor(sample_id=sample, **kw))
    finally:
        sim.state.api_key = old_key
    assert result.exc_type is None, result.message
    assert sorted(r["$uri"].rsplit("/", 1)[-1] for r in result.xcom) == sorted(ids)
    assert sim.state.count("/api/v1/alignments", status=401) == 1  # the old key, once, then the new one
