"""How the shared poller paces its rounds and whom it wakes, in deferrable mode, over real HTTP.

Rounds keep their period (from start to start), a trigger is woken only when its outcome changed,
a poll failed, a "still waiting" reminder is due or its deadline passed; the connection is read
as it is now (key rotation, host switch); ``Retry-After`` moves the next round.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import statistics
import time
from typing import Any

import pytest

from airflow_provider_onecodex.api.waiting import WaitSpec
from airflow_provider_onecodex.testing.faults import Fault
from airflow_provider_onecodex.triggers import onecodex as triggers_module
from airflow_provider_onecodex.triggers import poller as poller_module
from airflow_provider_onecodex.triggers.connection import ConnectionClient
from airflow_provider_onecodex.triggers.onecodex import OneCodexAnalysisTrigger
from airflow_provider_onecodex.triggers.poller import Waiter
from tests._reliability import until

DEMO_SAMPLE = "a1b2c3d4e5f60718"
LISTING = r"^/api/v1/alignments$"


def wait_for(aid: str, interval: float, **kwargs: Any) -> OneCodexAnalysisTrigger:
    spec = WaitSpec.build("alignments", record_id=aid).to_dict()
    return OneCodexAnalysisTrigger(spec, "onecodex_default", interval, **kwargs)


async def first_payload(trigger: OneCodexAnalysisTrigger) -> dict[str, Any]:
    events = trigger.run()
    try:
        return (await anext(events)).payload
    finally:
        await events.aclose()


def listing_starts(sim: Any) -> list[float]:
    return [r.at for r in sim.state.requests if r.path == "/api/v1/alignments"]


async def stop(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await until(lambda: not poller_module._POLLERS)


@pytest.mark.parametrize(("delay", "interval"), [(0.15, 0.3), (0.45, 0.2)], ids=["shorter", "longer"])
async def test_rounds_keep_their_period_from_start_to_start(
    delay, interval, onecodex_simulator, onecodex_connection
) -> None:
    sim = onecodex_simulator
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    sim.state.faults.set_rate(1.0, [Fault.slow(delay)], path_regex=LISTING)
    task = asyncio.create_task(first_payload(wait_for(aid, interval)))
    await until(lambda: len(listing_starts(sim)) >= 6, timeout=20)
    await stop(task)
    gaps = [b - a for a, b in itertools.pairwise(listing_starts(sim))]
    # The period counts from each round's start: max(interval, round time), never their sum.
    expected = max(interval, delay)
    assert statistics.median(gaps) == pytest.approx(expected, abs=0.1), gaps
    assert max(gaps) < interval + delay - 0.05, gaps


async def test_a_wait_is_woken_only_when_its_outcome_changes(
    onecodex_simulator, onecodex_connection, monkeypatch
) -> None:
    sim = onecodex_simulator
    ids = [sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280") for _ in range(20)]
    woken: list[str] = []
    deliver = Waiter.deliver

    def counted(self: Waiter, outcome: Any) -> None:
        woken.append(self.spec.ids[0])
        deliver(self, outcome)

    monkeypatch.setattr(Waiter, "deliver", counted)
    tasks = {aid: asyncio.create_task(first_payload(wait_for(aid, 0.03))) for aid in ids}
    await until(lambda: bool(poller_module._POLLERS))
    (shared,) = poller_module._POLLERS.values()
    await until(lambda: shared.rounds >= 10)
    assert sorted(woken) == sorted(ids)  # the first (pending) outcome only, in 10 rounds

    sim.state.set_outcome(ids[3], success=True)
    event = await asyncio.wait_for(tasks[ids[3]], 5)
    assert event["status"] == "success" and event["value"]["$uri"].endswith(ids[3])
    rounds = shared.rounds
    await until(lambda: shared.rounds >= rounds + 5)
    assert sorted(woken) == sorted([*ids, ids[3]])  # one more: the one that changed
    assert not any(t.done() for a, t in tasks.items() if a != ids[3])
    await stop(*tasks.values())


async def test_the_deadline_ends_a_wait_between_rounds(onecodex_simulator, onecodex_connection) -> None:
    aid = onecodex_simulator.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    started = time.monotonic()
    # One round at once, the next in 30 s: the timeout must not wait for it.
    event = await asyncio.wait_for(
        first_payload(wait_for(aid, 30, deadline=time.time() + 0.4, timeout=0.4)), 5
    )
    assert event == {"status": "timeout", "message": f"Timed out after 0.4 s waiting for alignment {aid}"}
    assert 0.35 < time.monotonic() - started < 2
    assert onecodex_simulator.state.count("/api/v1/alignments") <= 1  # (none if the machine is slow)
    await until(lambda: not poller_module._POLLERS)


async def test_a_pending_wait_logs_changes_and_spaced_reminders_only(
    onecodex_simulator, onecodex_connection, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(triggers_module, "LOG_EVERY", 0.4)
    monkeypatch.setattr(poller_module, "LOG_LINES_PER_SECOND", 100.0)  # one wait: no rate cap
    aid = onecodex_simulator.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    trigger = wait_for(aid, 0.02)
    trigger._log = logging.getLogger("tests.triggers.reminders")  # a plain logger caplog sees
    caplog.set_level(logging.DEBUG, logger="tests.triggers.reminders")
    task = asyncio.create_task(first_payload(trigger))
    await asyncio.sleep(1.5)  # ~70 rounds
    onecodex_simulator.state.set_outcome(aid, success=True)
    assert (await asyncio.wait_for(task, 5))["status"] == "success"
    lines = [r for r in caplog.records if r.getMessage().startswith("Waiting for alignment")]
    # the first pending state at DEBUG (the sensor logged it before deferring), then one reminder
    # every 0.4 s at most (the first at a random point of its period), not one line per round
    assert [r.levelno for r in lines[:1]] == [logging.DEBUG]
    assert 1 <= len(lines) - 1 <= 4, [r.getMessage() for r in lines]
    assert {r.levelno for r in lines[1:]} == {logging.INFO}
    expected = f"Waiting for alignment {aid}: alignment {aid} is not complete yet"
    assert {r.getMessage() for r in lines} == {expected}
    await until(lambda: not poller_module._POLLERS)


async def test_reminders_are_spread_thinner_when_a_poller_holds_many_waits(
    onecodex_simulator, onecodex_connection, monkeypatch
) -> None:
    monkeypatch.setattr(triggers_module, "LOG_EVERY", 0.01)
    monkeypatch.setattr(poller_module, "LOG_LINES_PER_SECOND", 100.0)
    ids = [onecodex_simulator.state.add_alignment(DEMO_SAMPLE, tax_id="1280") for _ in range(50)]
    tasks = [asyncio.create_task(first_payload(wait_for(aid, 0.05))) for aid in ids]
    await until(lambda: bool(poller_module._POLLERS))
    (shared,) = poller_module._POLLERS.values()
    assert shared.log_every() == pytest.approx(0.5)  # 50 waits at 100 lines/s, not 0.01 s
    monkeypatch.setattr(poller_module, "LOG_LINES_PER_SECOND", 0.25)
    monkeypatch.setattr(triggers_module, "LOG_EVERY", 600.0)
    assert shared.log_every() == 600  # the defaults: 10 minutes up to 150 waits
    await stop(*tasks)


async def test_a_rotated_key_and_a_new_host_are_used_mid_wait(
    onecodex_simulator, onecodex_connection, onecodex_simulator_factory, monkeypatch
) -> None:
    old = onecodex_simulator
    aid = old.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    task = asyncio.create_task(first_payload(wait_for(aid, 0.05)))
    await until(lambda: old.state.count("/api/v1/alignments") >= 2)

    # Rotation: the connection gets the new key, then the old key is revoked.
    new_key = "f" * 32
    onecodex_connection(password=new_key)
    monkeypatch.setattr(old.state, "api_key", new_key)
    seen = old.state.count()
    await until(lambda: old.state.count() >= seen + 3)
    assert not task.done()
    assert {r.status for r in old.state.requests[seen + 1 :]} == {200}

    # Host switch: the same alignment, complete, on another server with its own key.
    new = onecodex_simulator_factory(api_key="e" * 32)
    new.state.add_alignment(DEMO_SAMPLE, tax_id="1280", id=aid, complete_after=0)
    onecodex_connection(host=new.base_url, password="e" * 32)
    event = await asyncio.wait_for(task, 5)
    assert event["status"] == "success" and event["value"]["$uri"].endswith(aid)
    assert new.state.count("/api/v1/alignments") >= 1
    assert all(r.status == 200 for r in new.state.requests)
    await until(lambda: not poller_module._POLLERS)


async def test_a_401_reads_the_connection_again_before_failing(
    onecodex_simulator, onecodex_connection, monkeypatch
) -> None:
    sim = onecodex_simulator
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280", complete_after=0.3)
    read_config = ConnectionClient.read_config
    reads = 0

    async def rotate_after_the_third_read(self: ConnectionClient) -> Any:
        nonlocal reads
        config = await read_config(self)
        reads += 1
        if reads == 3:  # the round holds the old key: rotate before its request goes out
            onecodex_connection(password="d" * 32)
            sim.state.api_key = "d" * 32
        return config

    monkeypatch.setattr(sim.state, "api_key", sim.state.api_key)  # restored after the test
    monkeypatch.setattr(ConnectionClient, "read_config", rotate_after_the_third_read)
    event = await asyncio.wait_for(first_payload(wait_for(aid, 0.1, max_consecutive_failures=1)), 5)
    assert event["status"] == "success", event
    statuses = [r.status for r in sim.state.requests if r.path == "/api/v1/alignments"]
    assert 401 in statuses and statuses[statuses.index(401) + 1] == 200
    await until(lambda: not poller_module._POLLERS)


async def test_an_unchanged_connection_still_fails_on_401(onecodex_simulator, onecodex_connection) -> None:
    aid = onecodex_simulator.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    onecodex_connection(password="0" * 32)
    event = await asyncio.wait_for(first_payload(wait_for(aid, 0.05)), 5)
    assert (event["status"], event["kind"]) == ("failed", "auth")
    assert onecodex_simulator.state.count("/api/v1/alignments") <= 1  # (none if the machine is slow)
    await until(lambda: not poller_module._POLLERS)


@pytest.mark.parametrize(
    ("retry_after", "max_retry_after", "expected"), [(1, 60, 1.0), (30, 0.6, 0.6)], ids=["asked", "capped"]
)
async def test_retry_after_paces_the_next_round(
    retry_after, max_retry_after, expected, onecodex_simulator, onecodex_connection
) -> None:
    sim = onecodex_simulator
    onecodex_connection(max_retries=0, max_retry_after=max_retry_after)
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    sim.state.faults.script(path_regex=LISTING, faults=[Fault.http_error(429, retry_after=retry_after)])
    task = asyncio.create_task(first_payload(wait_for(aid, 0.05, max_consecutive_failures=3)))
    await until(lambda: len(listing_starts(sim)) >= 3)
    await stop(task)
    first, second, third = listing_starts(sim)[:3]
    assert expected - 0.05 <= second - first <= expected + 0.5  # not 0.05 s, nor 30 s
    assert third - second < expected - 0.1  # then the interval again
    assert [r.status for r in sim.state.requests[:2]] == [429, 200]


async def test_a_sample_wait_follows_a_rotated_key_and_a_new_host(
    onecodex_simulator, onecodex_connection, onecodex_simulator_factory, monkeypatch
) -> None:
    from airflow_provider_onecodex.triggers.onecodex import OneCodexSampleTrigger

    old = onecodex_simulator
    sample = old.state.add_sample("rotation_R1.fastq.gz", ready_after=3600)
    trigger = OneCodexSampleTrigger(sample, "onecodex_default", 0.05, max_consecutive_failures=1)
    task = asyncio.create_task(first_payload(trigger))  # type: ignore[arg-type]
    await until(lambda: old.state.count("/api/v1/samples/") >= 2)

    onecodex_connection(password="c" * 32)  # rotation: new key in the connection, then revoked
    monkeypatch.setattr(old.state, "api_key", "c" * 32)
    seen = old.state.count()
    await until(lambda: old.state.count() >= seen + 3)
    assert not task.done()
    assert {r.status for r in old.state.requests[seen + 1 :]} == {200}

    new = onecodex_simulator_factory(api_key="b" * 32)
    new.state.add_sample("rotation_R1.fastq.gz", id=sample)  # available there
    onecodex_connection(host=new.base_url, password="b" * 32)
    event = await asyncio.wait_for(task, 5)
    assert event["status"] == "success" and event["value"]["$uri"].endswith(sample)
    assert new.state.count("/api/v1/samples/") >= 1


async def test_a_round_that_raises_fails_the_waits_instead_of_leaving_them_hanging(
    onecodex_simulator, onecodex_connection, monkeypatch
) -> None:
    aid = onecodex_simulator.state.add_alignment(DEMO_SAMPLE, tax_id="1280")

    async def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in a round")

    monkeypatch.setattr(poller_module.SharedPoller, "_round", broken)
    with pytest.raises(RuntimeError, match="a bug in a round"):
        await asyncio.wait_for(first_payload(wait_for(aid, 0.05)), 5)
    await until(lambda: not poller_module._POLLERS)
