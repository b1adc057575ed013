"""429 handling: a short Retry-After is waited for (through injected sleeps, never for real), a long
one is not waited for at all: the call fails at once and the sensor polls again at its next poke."""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time

import pytest

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.errors import OneCodexRateLimitError
from airflow_provider_onecodex.testing.faults import Fault
from tests._modes import MODES
from tests._reliability import (  # noqa: F401  (connect: a fixture)
    ALIGNMENTS,
    GOOD_ID,
    RequestClock,
    alignment_sensor,
    connect,
    run_as_trigger,
)


class Sleeps:
    """Records the test thread's ``time.sleep`` and ``asyncio.sleep`` requests instead of sleeping
    for long (the simulator's own thread sleeps as usual)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sync: list[float] = []
        self.aio: list[float] = []
        real_sync, real_async = time.sleep, asyncio.sleep
        mine = threading.get_ident()

        def fake_sleep(seconds: float) -> None:
            if threading.get_ident() != mine:
                return real_sync(seconds)
            self.sync.append(seconds)

        async def fake_async_sleep(seconds: float, result=None):
            if threading.get_ident() != mine:
                return await real_async(seconds, result)
            self.aio.append(seconds)
            # short sleeps (poll intervals) really pass so that polling keeps its pace
            await real_async(seconds if seconds < 0.5 else 0)
            return result

        monkeypatch.setattr(time, "sleep", fake_sleep)
        monkeypatch.setattr(asyncio, "sleep", fake_async_sleep)

    @property
    def all(self) -> list[float]:
        return self.sync + self.aio


@pytest.fixture
def sleeps(monkeypatch):
    return Sleeps(monkeypatch)


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def test_hook_waits_out_two_retry_after_3_then_succeeds(done_sim, connect, sleeps):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    done_sim.state.faults.script(ALIGNMENTS, [Fault.http_error(429, retry_after=3)] * 2)
    record = OneCodexHook(connect(done_sim)).get_alignment(GOOD_ID)

    assert record["success"] is True
    assert done_sim.state.count() == 3
    assert [r.status for r in done_sim.state.requests] == [429, 429, 200]
    assert sleeps.sync == [3.0, 3.0] and sum(sleeps.sync) >= 6


def test_hook_honours_retry_after_as_an_http_date(done_sim, connect, sleeps):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    done_sim.state.faults.script(ALIGNMENTS, [Fault.http_error(503, body="html", retry_after=http_date(5))])
    OneCodexHook(connect(done_sim)).get_alignment(GOOD_ID)

    assert done_sim.state.count() == 2
    (waited,) = sleeps.sync
    assert 3 < waited <= 5  # whole seconds in the header: 4 to 5 s from now


def test_async_hook_waits_out_two_retry_after_3_then_succeeds(done_sim, connect, sleeps):

    done_sim.state.faults.script(ALIGNMENTS, [Fault.http_error(429, retry_after=3)] * 2)
    op = ops.get_record("alignments", GOOD_ID)
    assert asyncio.run(run_as_trigger(connect(done_sim), op))["success"] is True
    assert done_sim.state.count() == 3
    assert sleeps.aio == [3.0, 3.0] and not sleeps.sync


@pytest.mark.parametrize("mode", MODES)
def test_sensor_waits_out_retry_after_3_in_every_mode(mode, timed_sim, connect, waits, sleeps):
    # pending at the first request, complete from the second: the deferrable sensor meets the
    # 429s in its trigger, the others in their second poke
    sim = timed_sim(RequestClock(2))
    sim.state.faults.script(ALIGNMENTS, [None, *[Fault.http_error(429, retry_after=3)] * 2])

    record = waits.run(alignment_sensor(connect(sim), GOOD_ID), mode)

    assert record["success"] is True
    assert [r.status for r in sim.state.requests] == [200, 429, 429, 200]
    assert sorted(s for s in sleeps.all if s >= 1) == [3.0, 3.0]  # the rest are poke intervals
    assert max(sleeps.all) == 3.0


def test_hook_raises_at_once_on_a_retry_after_longer_than_max_retry_after(done_sim, connect, sleeps):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    done_sim.state.faults.script(ALIGNMENTS, [Fault.http_error(429, retry_after=7200)])
    started = time.monotonic()
    with pytest.raises(OneCodexRateLimitError) as info:
        OneCodexHook(connect(done_sim)).get_alignment(GOOD_ID)

    assert info.value.retry_after == 7200 and info.value.status == 429
    assert time.monotonic() - started < 2
    assert done_sim.state.count() == 1
    assert sleeps.all == []


def test_sensor_poke_treats_a_long_retry_after_as_not_yet(done_sim, connect, sleeps):
    done_sim.state.faults.script(ALIGNMENTS, [Fault.http_error(429, retry_after=7200)])
    sensor = alignment_sensor(connect(done_sim), GOOD_ID)()

    first = sensor.poke({})
    assert first.is_done is False and done_sim.state.count() == 1
    second = sensor.poke({})
    assert second.is_done is True and second.xcom_value["success"] is True
    assert done_sim.state.count() == 2
    assert sleeps.all == []


@pytest.mark.parametrize("mode", MODES)
def test_a_long_retry_after_costs_one_poll_and_no_long_sleep_in_every_mode(
    mode, timed_sim, connect, waits, sleeps
):
    sim = timed_sim(RequestClock(2))
    # deferrable: the first poke passes (pending) and the trigger meets the 429
    first = [None] if mode == "deferrable" else []
    sim.state.faults.script(ALIGNMENTS, [*first, Fault.http_error(429, retry_after=7200)])

    record = waits.run(alignment_sensor(connect(sim), GOOD_ID, max_consecutive_failures=2), mode)

    assert record["success"] is True
    assert 429 in [r.status for r in sim.state.requests]
    assert sim.state.count() == len(first) + 2  # the 429, then the next poll succeeds
    # Nobody slept for 7200 s: at most the connection's max_retry_after (60 s), which paces the
    # poke after a throttled one (deferrable: the shared poller's pacing, not a sleep here).
    assert max(sleeps.all, default=0) <= 60


def test_long_throttling_does_not_count_toward_max_consecutive_failures(done_sim, connect, sleeps):
    # Three throttled polls in a row against a limit of two transient failures: "later" is not a fault.
    done_sim.state.faults.script(ALIGNMENTS, [Fault.http_error(429, retry_after=7200)] * 3)
    sensor = alignment_sensor(connect(done_sim), GOOD_ID, max_consecutive_failures=2)()

    results = [sensor.poke({}) for _ in range(4)]

    assert [r.is_done for r in results] == [False, False, False, True]
    assert results[-1].xcom_value["success"] is True
    assert sleeps.all == []
