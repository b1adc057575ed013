"""A server that accepts a request and never answers (the simulator's ``hang`` fault): every code
path gives up after the connection's read timeout instead of waiting forever."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.errors import OneCodexConnectionError
from airflow_provider_onecodex.testing.faults import Fault
from airflow_provider_onecodex.triggers.connection import ConnectionClient
from tests._reliability import ALIGNMENTS, GOOD_ID, SAMPLE_ID, RequestClock, alignment_sensor, connect  # noqa: F401  (connect: a fixture)

READ_TIMEOUT = 0.5
SLACK = 1.5  # seconds of overhead allowed per attempt on a busy machine
SORT = {"created_at": False}  # oldest first: a stable page order


def hang_conn(connect, sim, max_retries=0):
    return connect(sim, read_timeout=READ_TIMEOUT, max_retries=max_retries)


def assert_timed_out(exc: BaseException, elapsed: float, attempts: int = 1) -> None:
    assert isinstance(exc, OneCodexConnectionError)
    assert exc.status is None and exc.transient
    assert f": timed out after {READ_TIMEOUT:g} s (raise the connection's read_timeout" in str(exc)
    assert attempts * READ_TIMEOUT * 0.9 <= elapsed < attempts * (READ_TIMEOUT + SLACK)


def timed(call):
    started = time.monotonic()
    with pytest.raises(OneCodexConnectionError) as info:
        call()
    return info.value, time.monotonic() - started


def test_single_get_gives_up_after_the_read_timeout(done_sim, connect):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    done_sim.state.faults.script(ALIGNMENTS, [Fault.hang()])
    exc, elapsed = timed(lambda: OneCodexHook(hang_conn(connect, done_sim)).get_alignment(GOOD_ID))
    assert_timed_out(exc, elapsed)
    assert done_sim.state.count() == 1


def test_each_retry_gives_up_after_the_read_timeout(done_sim, connect):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    done_sim.state.faults.script(ALIGNMENTS, [Fault.hang()] * 3)
    hook = OneCodexHook(hang_conn(connect, done_sim, max_retries=2))
    exc, elapsed = timed(lambda: hook.get_alignment(GOOD_ID))
    assert_timed_out(exc, elapsed, attempts=3)
    assert done_sim.state.count() == 3


def test_a_hanging_second_page_fails_the_listing(done_sim, connect):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    done_sim.state.faults.script(ALIGNMENTS, [None, Fault.hang()])
    hook = OneCodexHook(hang_conn(connect, done_sim))
    records = hook.iter_alignments(sample_id=SAMPLE_ID, sort=SORT, per_page=2)
    assert len([next(records), next(records)]) == 2  # page 1 answered
    exc, elapsed = timed(lambda: next(records))
    assert_timed_out(exc, elapsed)
    assert done_sim.state.count() == 2

    done_sim.state.faults.script(ALIGNMENTS, [None, Fault.hang()])
    exc, elapsed = timed(lambda: hook.list_alignments(sample_id=SAMPLE_ID, sort=SORT, per_page=2))
    assert_timed_out(exc, elapsed)  # no partial list of page 1 comes back as the whole listing


def test_async_hook_gives_up_after_the_read_timeout_on_get_and_on_page_two(done_sim, connect):

    hook = ConnectionClient(hang_conn(connect, done_sim, max_retries=1))

    async def get():
        return await (await hook.current()).run(ops.get_record("alignments", GOOD_ID))

    async def listing():
        return await (await hook.current()).run(
            ops.list_records(
                "alignments",
                where={"sample": {"$ref": f"/api/v1/samples/{SAMPLE_ID}"}},
                sort=SORT,
                per_page=2,
            )
        )

    async def main():
        try:
            done_sim.state.faults.script(ALIGNMENTS, [Fault.hang()] * 2)
            started = time.monotonic()
            with pytest.raises(OneCodexConnectionError) as info:
                await get()
            assert_timed_out(info.value, time.monotonic() - started, attempts=2)
            assert done_sim.state.count() == 2

            done_sim.state.faults.script(ALIGNMENTS, [None, Fault.hang(), Fault.hang()])
            started = time.monotonic()
            with pytest.raises(OneCodexConnectionError) as info:
                await listing()
            assert_timed_out(info.value, time.monotonic() - started, attempts=2)
            assert done_sim.state.count() == 5
        finally:
            await hook.aclose()

    asyncio.run(main())


def test_a_slow_answer_within_the_read_timeout_is_waited_for(done_sim, connect):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    done_sim.state.faults.script(ALIGNMENTS, [Fault.slow(READ_TIMEOUT / 2), Fault.slow(READ_TIMEOUT * 3)])
    hook = OneCodexHook(hang_conn(connect, done_sim))

    assert hook.get_alignment(GOOD_ID)["success"] is True  # 0.25 s late: still an answer
    exc, elapsed = timed(lambda: hook.get_alignment(GOOD_ID))  # 1.5 s late: past the timeout
    assert_timed_out(exc, elapsed)
    assert done_sim.state.count() == 2
