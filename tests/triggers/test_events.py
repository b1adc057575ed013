"""Event triggers for AssetWatchers, over real HTTP against the simulator.

The mark store here is a dict with the ``aget``/``aset`` of Airflow's asset state store accessor;
the real one (through a real triggerer) is exercised in tests/e2e/airflow/test_event_scheduling.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from airflow.triggers.base import TriggerEvent

from airflow_provider_onecodex.api import progress
from airflow_provider_onecodex.api.errors import OneCodexAuthError
from airflow_provider_onecodex.triggers import event_poll
from airflow_provider_onecodex.triggers.events import (
    OneCodexAnalysisCompletedTrigger,
    OneCodexNewSampleTrigger,
    OneCodexWebhookEventsTrigger,
)
from tests._reliability import until

DEMO_SAMPLE = "a1b2c3d4e5f60718"
FAST = 0.1  # seconds between polls in these tests


class DictStore:
    """Stands in for ``trigger.asset_state_store`` (one watched asset): ``aget``/``aset`` JSON."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = value


async def collect(
    stream: AsyncIterator[TriggerEvent], count: int, timeout: float = 10.0, linger: float = 0.0
) -> list[dict]:
    """The first ``count`` payloads; with ``linger``, keep consuming that many seconds more (as a
    triggerer does, so the trigger runs past its last yield) and fail on any further event."""
    out: list[dict] = []

    async def take() -> None:
        async for event in stream:
            out.append(event.payload)
            if len(out) == count:
                return

    try:
        await asyncio.wait_for(take(), timeout)
        if linger:
            with contextlib.suppress(asyncio.TimeoutError):
                extra = await asyncio.wait_for(anext(stream), linger)
                raise AssertionError(f"unexpected event {extra.payload}")
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return out


async def nothing_more(stream: AsyncIterator[TriggerEvent], wait: float) -> None:
    try:
        event = await asyncio.wait_for(anext(stream), wait)
    except asyncio.TimeoutError:
        return
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    raise AssertionError(f"unexpected event {event.payload}")


def new_sample_trigger(**kwargs: Any) -> OneCodexNewSampleTrigger:
    kwargs.setdefault("poll_interval", FAST)
    trigger = OneCodexNewSampleTrigger("onecodex_default", **kwargs)
    return trigger


async def test_two_new_samples_fire_once_each(onecodex_simulator, onecodex_connection):
    state = onecodex_simulator.state
    trigger = new_sample_trigger()
    stream = trigger.run()
    first = asyncio.ensure_future(collect(stream, 2))
    await asyncio.sleep(0.3)  # the trigger started at "now": demo samples are older
    ids = [state.add_sample("a.fastq.gz"), state.add_sample("b.fastq.gz", ready_after=0.5)]
    events = await first
    assert sorted(e["sample_id"] for e in events) == sorted(ids)
    assert events[0] == {
        "kind": "sample",
        "sample_id": ids[0],
        "status": "available",
        "filename": "a.fastq.gz",
        "project_id": None,
        "created_at": events[0]["created_at"],
        "updated_at": None,
    }


async def test_a_key_rotated_mid_watch_is_used_at_the_next_poll(
    onecodex_simulator, onecodex_connection, monkeypatch
):
    state = onecodex_simulator.state
    stream = new_sample_trigger().run()
    first = asyncio.ensure_future(collect(stream, 1))
    await asyncio.sleep(0.3)
    # Rotation: the connection gets the new key, then the old one is revoked.
    new_key = "f" * 32
    onecodex_connection(password=new_key)
    monkeypatch.setattr(state, "api_key", new_key)
    seen = state.count()
    sample_id = state.add_sample("rotated.fastq.gz")
    events = await first
    assert [e["sample_id"] for e in events] == [sample_id]
    assert {r.status for r in state.requests[seen:]} == {200}  # no 401, no stop-and-wait


async def test_restart_resumes_from_the_stored_mark(onecodex_simulator, onecodex_connection):
    state, store = onecodex_simulator.state, DictStore()
    first = new_sample_trigger()
    first.asset_state_store = store
    one = state.add_sample("one.fastq")  # before the first start: not news
    stream = first.run()
    pending = asyncio.ensure_future(collect(stream, 1, linger=0.3))
    await asyncio.sleep(0.3)
    two = state.add_sample("two.fastq")
    assert [e["sample_id"] for e in await pending] == [two]

    three = state.add_sample("three.fastq")  # while no trigger runs
    again = new_sample_trigger()
    again.asset_state_store = store
    events = await collect(again.run(), 1)
    assert [e["sample_id"] for e in events] == [three]
    assert one not in str(store.values)
    await nothing_more(again.run(), 0.5)


async def test_a_sample_that_waited_is_not_fired_again_after_a_restart(
    onecodex_simulator, onecodex_connection
):
    """The mark's ``since`` stays at the sample that pinned it; only ``seen`` changes when it fires."""
    state, store = onecodex_simulator.state, DictStore()
    first = new_sample_trigger()
    first.asset_state_store = store
    pending = asyncio.ensure_future(collect(first.run(), 1, linger=0.5))
    await asyncio.sleep(0.3)
    slow = state.add_sample("slow.fastq", ready_after=0.5)  # importing for a few polls first
    assert [e["sample_id"] for e in await pending] == [slow]
    again = new_sample_trigger()
    again.asset_state_store = store
    await nothing_more(again.run(), 0.6)


async def test_without_a_state_store_a_restart_starts_at_now(onecodex_simulator, onecodex_connection):
    """Airflow 3.2 (no asset_state_store): the mark lives in memory; what appeared while no
    trigger ran is not news to a new instance (the documented 3.2 behaviour)."""
    state = onecodex_simulator.state
    state.add_sample("while-down.fastq")
    trigger = new_sample_trigger()
    assert getattr(trigger, "asset_state_store", None) is None
    pending = asyncio.ensure_future(collect(trigger.run(), 1))
    await asyncio.sleep(0.3)
    after = state.add_sample("after.fastq")
    assert [e["sample_id"] for e in await pending] == [after]


async def test_start_from_reaches_back(onecodex_simulator, onecodex_connection):
    events = await collect(new_sample_trigger(start_from="2000-01-01T00:00:00Z").run(), 2)
    assert {e["sample_id"] for e in events} <= set(onecodex_simulator.state.samples)


async def test_a_burst_of_500_samples_is_paged_through_in_one_poll(onecodex_simulator, onecodex_connection):
    state = onecodex_simulator.state
    trigger = new_sample_trigger(poll_interval=30.0, start_from="2000-01-01T00:00:00Z")
    listed = state.list_json("samples")  # the account's own samples
    before = {r["$uri"][-16:] for r in listed if r["status"] == "available"}
    added = {state.add_sample(f"s{n}.fastq") for n in range(500)}
    state.reset_counters()
    events = await collect(trigger.run(), 500 + len(before))
    assert {e["sample_id"] for e in events} == added | before
    pages = (500 + len(listed)) // 100 + 1
    assert state.count("/api/v1/samples", method="GET") == pages  # one poll, 100 records a page


async def test_the_where_filter_and_status(onecodex_simulator, onecodex_connection):
    state = onecodex_simulator.state
    project = "0000000000000abc"
    trigger = new_sample_trigger(where={"project": {"$ref": f"/api/v1/projects/{project}"}})
    failed = new_sample_trigger(status="failed_validation")
    pending = asyncio.gather(collect(trigger.run(), 1), collect(failed.run(), 1))
    await asyncio.sleep(0.3)
    state.add_sample("other.fastq")
    mine = state.add_sample("mine.fastq", project=project, ready_after=0.3)
    bad = state.add_sample("bad.fastq", status="failed_validation", error_msg="not FASTQ")
    ours, theirs = await pending
    assert [e["sample_id"] for e in ours] == [mine]
    assert [e["sample_id"] for e in theirs] == [bad]


@pytest.mark.parametrize(("outcome", "wanted"), [("any", {"ok", "ko"}), ("failure", {"ko"})])
async def test_analysis_completion(onecodex_simulator, onecodex_connection, outcome, wanted):
    state = onecodex_simulator.state
    trigger = OneCodexAnalysisCompletedTrigger(
        "onecodex_default", resource="alignments", outcome=outcome, poll_interval=FAST
    )
    pending = asyncio.ensure_future(collect(trigger.run(), len(wanted)))
    await asyncio.sleep(0.3)
    ids = {
        "ok": state.add_alignment(DEMO_SAMPLE, tax_id="1280", complete_after=0.3),
        "ko": state.add_alignment(
            DEMO_SAMPLE, tax_id="562", complete_after=0.2, success=False, error_msg="no reads"
        ),
    }
    events = await pending
    assert {e["analysis_id"] for e in events} == {ids[name] for name in wanted}
    failure = next(e for e in events if e["analysis_id"] == ids["ko"])
    assert failure["outcome"] == "failure" and failure["error_msg"] == "no reads"
    assert failure["tax_id"] == "562" and failure["sample_id"] == DEMO_SAMPLE


async def test_watchers_share_one_listing_per_interval(onecodex_simulator, onecodex_connection):
    """Through Airflow's own SharedStreamManager, as the 3.3 triggerer runs them."""
    from airflow.triggers.shared_stream import SharedStreamManager

    state = onecodex_simulator.state
    manager = SharedStreamManager()
    interval = 0.5
    triggers = [
        new_sample_trigger(poll_interval=interval, where={"filename": f"w{n}.fastq"}) for n in range(10)
    ]
    assert len({t.shared_stream_key() for t in triggers}) == 1
    streams = [
        t.filter_shared_stream(manager.subscribe(trigger_id=n, trigger=t, key=t.shared_stream_key()))
        for n, t in enumerate(triggers)
    ]
    pending = asyncio.gather(*(collect(s, 1) for s in streams))
    await asyncio.sleep(0.3)
    state.reset_counters()
    ids = [state.add_sample(f"w{n}.fastq") for n in range(10)]
    started = time.monotonic()
    results = await pending
    assert [r[0]["sample_id"] for r in results] == ids  # each watcher got its own sample
    await asyncio.sleep(3 * interval)
    polls = state.count("/api/v1/samples", method="GET")
    intervals = (time.monotonic() - started) / interval
    assert 1 <= polls <= intervals + 1, (polls, intervals)  # one listing per interval, not ten
    for n, t in enumerate(triggers):
        await manager.unsubscribe(n, t.shared_stream_key())
    assert not event_poll.DEMAND


async def test_transient_errors_back_off_honouring_retry_after(onecodex_simulator, onecodex_connection):
    onecodex_connection(max_retries=0)
    state = onecodex_simulator.state
    state.faults.script(
        "/api/v1/samples", [{"kind": "status", "status": 503, "retry_after": 1}, {"status": 429}]
    )
    trigger = new_sample_trigger(start_from="2000-01-01T00:00:00Z")
    started = time.monotonic()
    events = await collect(trigger.run(), 1)
    assert events
    times = [r.at for r in state.requests if r.path == "/api/v1/samples"]
    assert [r.status for r in state.requests][:3] == [503, 429, 200]
    assert times[1] - times[0] >= 1.0  # Retry-After honoured
    assert times[2] - times[1] >= 2 * FAST  # then backed off: the interval doubled
    assert time.monotonic() - started < 5


async def set_simulator_key(sim: Any, key: str) -> None:
    """Rotate the simulator's key through its admin route, as an out-of-process test would."""
    async with httpx.AsyncClient() as admin:
        response = await admin.post(f"{sim.base_url}/_sim/api_key", json={"api_key": key})
        response.raise_for_status()


@pytest.mark.parametrize("revoke_first", [True, False], ids=["key-revoked-first", "connection-first"])
async def test_a_key_rotation_gap_is_ridden_through(
    onecodex_simulator, onecodex_connection, caplog, monkeypatch, revoke_first
):
    """Old key revoked before the connection has the new one (or the new key set in the connection
    before One Codex accepts it): 401s after an answer are an outage, not a wrong connection."""
    monkeypatch.setattr(event_poll, "REFUSED", {})
    sim, state, new_key = onecodex_simulator, onecodex_simulator.state, "f" * 32
    onecodex_connection(max_retries=0)
    first = asyncio.ensure_future(collect(new_sample_trigger().run(), 1))

    def statuses() -> list[int]:
        return [r.status for r in state.requests if r.path == "/api/v1/samples"]

    with caplog.at_level(logging.INFO):
        await until(lambda: 200 in statuses())  # the watch has had an answer
        if revoke_first:
            await set_simulator_key(sim, new_key)
        else:
            onecodex_connection(password=new_key, max_retries=0)
        await until(lambda: 401 in statuses())  # a poll fell into the gap
        if revoke_first:
            onecodex_connection(password=new_key, max_retries=0)
        else:
            await set_simulator_key(sim, new_key)
        sample_id = state.add_sample("rotated.fastq.gz")
        events = await first
    assert [e["sample_id"] for e in events] == [sample_id]
    assert statuses()[-1] == 200
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    warning = next(r.getMessage() for r in caplog.records if "poll failed" in r.getMessage())
    assert "authentication failed for connection `onecodex_default`" in warning
    assert "failure 1 of 10 in a row before the watch stops" in warning
    assert not event_poll.REFUSED  # nothing for a restarted watcher to wait for


async def test_a_key_revoked_for_good_stops_the_watch_after_n_failures(
    onecodex_simulator, onecodex_connection, caplog, monkeypatch
):
    monkeypatch.setattr(event_poll, "REFUSED", {})
    monkeypatch.setattr(progress, "MAX_CONSECUTIVE_FAILURES", 3)
    state = onecodex_simulator.state
    onecodex_connection(max_retries=0)
    with caplog.at_level(logging.WARNING):
        watch = asyncio.ensure_future(collect(new_sample_trigger().run(), 1))
        await until(lambda: state.count("/api/v1/samples") >= 1)
        await set_simulator_key(onecodex_simulator, "f" * 32)
        with pytest.raises(OneCodexAuthError):
            await watch
    statuses = [r.status for r in state.requests if r.path == "/api/v1/samples"]
    assert statuses[-3:] == [401, 401, 401] and 401 not in statuses[:-3]
    warnings = [r.getMessage() for r in caplog.records if "poll failed" in r.getMessage()]
    assert len(warnings) == 2 and "failure 1 of 3" in warnings[0] and "failure 2 of 3" in warnings[1]
    assert "Fix the connection" in caplog.text
    assert "onecodex_default" in event_poll.REFUSED


async def test_a_refused_key_stops_the_watcher_without_a_hot_loop(
    onecodex_simulator, onecodex_connection, caplog, monkeypatch
):
    onecodex_connection(password="0" * 32, max_retries=0)
    monkeypatch.setattr(event_poll, "REFUSED", {})
    monkeypatch.setattr(event_poll, "AUTH_COOLDOWN", 1.0)
    state = onecodex_simulator.state
    with caplog.at_level(logging.INFO), pytest.raises(OneCodexAuthError):
        await collect(new_sample_trigger().run(), 1)
    assert state.count("/api/v1/samples") == 1
    assert (
        "connection 'onecodex_default'" in caplog.text
        and "Fix the connection" in caplog.text
        and onecodex_simulator.base_url in caplog.text
    )
    # restarted at once (as a triggerer may): it waits before asking again
    caplog.clear()
    with caplog.at_level(logging.INFO):
        restarted = asyncio.ensure_future(collect(new_sample_trigger().run(), 1))
        await asyncio.sleep(0.5)
        assert state.count("/api/v1/samples") == 1
        with pytest.raises(OneCodexAuthError):
            await restarted
    assert state.count("/api/v1/samples") == 2
    pause = next(r for r in caplog.records if "before polling again" in r.getMessage())
    assert pause.levelno == logging.WARNING
    assert "stopped 0 s ago on an authentication failure (HTTP 401)" in pause.getMessage()
    assert "refused" not in pause.getMessage()
    assert [r.levelno for r in caplog.records if "resumes polling" in r.getMessage()] == [logging.INFO]


async def test_a_fixed_connection_ends_a_restarted_watchers_pause_early(
    onecodex_simulator, onecodex_connection, caplog, monkeypatch
):
    onecodex_connection(password="0" * 32, max_retries=0)
    monkeypatch.setattr(event_poll, "REFUSED", {})
    monkeypatch.setattr(event_poll, "COOLDOWN_CHECK", 0.1)  # AUTH_COOLDOWN stays 300 s
    state = onecodex_simulator.state
    with pytest.raises(OneCodexAuthError):
        await collect(new_sample_trigger().run(), 1)
    with caplog.at_level(logging.INFO):
        restarted = asyncio.ensure_future(collect(new_sample_trigger().run(), 1, timeout=20))
        await asyncio.sleep(0.5)
        assert state.count("/api/v1/samples") == 1  # the same wrong key: it waits
        onecodex_connection(password=onecodex_simulator.api_key, max_retries=0)  # the fix
        await until(lambda: state.count("/api/v1/samples") >= 2, timeout=5)  # not 300 s later
        sample_id = state.add_sample("after-the-fix.fastq.gz")
        events = await restarted
    assert [e["sample_id"] for e in events] == [sample_id]
    assert "connection 'onecodex_default' changed since the failure; polling again" in caplog.text
    assert not event_poll.REFUSED


async def test_a_missing_connection_stops_the_watcher_with_its_name(onecodex_simulator, caplog, monkeypatch):
    from airflow.sdk.exceptions import AirflowNotFoundException

    monkeypatch.setattr(event_poll, "REFUSED", {})
    with caplog.at_level(logging.ERROR), pytest.raises(AirflowNotFoundException):
        await collect(OneCodexNewSampleTrigger("no_such_conn", poll_interval=FAST).run(), 1)
    assert "connection 'no_such_conn'" in caplog.text
    assert "no_such_conn" in event_poll.REFUSED


def test_serialize_round_trip_and_state_key():
    trigger = OneCodexAnalysisCompletedTrigger(
        "c",
        resource="alignments",
        where='{"tax_id": "1280"}',
        outcome="success",
        start_from="2026-01-01T00:00:00Z",
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_onecodex.triggers.events.OneCodexAnalysisCompletedTrigger"
    assert kwargs == {
        "onecodex_conn_id": "c",
        "poll_interval": 60.0,
        "resource": "alignments",
        "where": {"tax_id": "1280"},
        "outcome": "success",
        "start_from": "2026-01-01T00:00:00.000000+00:00",
    }
    again = OneCodexAnalysisCompletedTrigger(**{**kwargs, "poll_interval": 5})
    assert again.state_key() == trigger.state_key()  # the interval is not what is watched
    assert OneCodexAnalysisCompletedTrigger(**{**kwargs, "outcome": "any"}).state_key() != trigger.state_key()


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: OneCodexNewSampleTrigger("c", status="ready"), "status must be one of"),
        (lambda: OneCodexNewSampleTrigger("c", where={"created_at": "x"}), "not 'created_at'"),
        (lambda: OneCodexNewSampleTrigger("", poll_interval=1), "onecodex_conn_id"),
        (lambda: OneCodexNewSampleTrigger("c", poll_interval=0), "poll_interval"),
        (lambda: OneCodexAnalysisCompletedTrigger("c", resource="samples"), "resource must be one of"),
        (lambda: OneCodexAnalysisCompletedTrigger("c", outcome="done"), "outcome must be one of"),
        (lambda: OneCodexWebhookEventsTrigger("c", event_types="sample.uploaded"), "event_types"),
    ],
)
def test_bad_arguments_are_refused_when_built(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


async def test_webhook_events_fire_for_new_events_of_the_wanted_types(
    onecodex_simulator_factory, onecodex_connection
):
    import json

    from airflow_provider_onecodex.testing.scenario import demo_scenario_path

    data = json.loads(demo_scenario_path().read_text())
    data["account"]["webhooks"] = True
    server = onecodex_simulator_factory(data)
    onecodex_connection(host=server.base_url, password=server.api_key)
    trigger = OneCodexWebhookEventsTrigger(
        "onecodex_default", event_types=["sample.uploaded"], poll_interval=FAST
    )
    pending = asyncio.ensure_future(collect(trigger.run(), 1))
    await asyncio.sleep(0.5)  # the first listing only records what exists
    new = server.state.add_sample("hooked.fastq", ready_after=0.3)
    server.state.add_alignment(new, complete_after=0.1)  # analysis.succeeded: not wanted
    (event,) = await pending
    assert event == {
        "kind": "event",
        "event_id": event["event_id"],
        "event_type": "sample.uploaded",
        "status": "success",
        "sample_id": new,
        "created_at": event["created_at"],
        "api_version": "v1",
    }
