"""Sensors end in the right state, after the right number of requests, in every mode.

A failed alignment and a bad key fail at once (``AirflowFailException``, one request, no task
retry); transient trouble (503, an HTML 502, a reset connection) is ridden out without consuming
a task retry.
"""

from __future__ import annotations

import asyncio

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.testing.faults import Fault
from airflow_provider_onecodex.testing.state import ManualClock
from tests._modes import MODES
from tests._reliability import (  # noqa: F401  (connect: a fixture)
    ALIGNMENTS,
    FAILED_ID,
    FAILED_MSG,
    GOOD_ID,
    LATER,
    RequestClock,
    alignment_sensor,
    connect,
    run_as_trigger,
)

WRONG_KEY = "ffffffffffffffffffffffffffffffff"


@pytest.mark.parametrize("mode", MODES)
def test_failed_alignment_fails_on_the_first_poke_with_one_request(mode, timed_sim, connect, waits):
    clock = ManualClock()
    sim = timed_sim(clock)
    clock.advance(LATER)  # the alignment has already completed with success false
    conn_id = connect(sim)

    with pytest.raises(AirflowFailException) as info:
        waits.run(alignment_sensor(conn_id, FAILED_ID), mode)

    assert FAILED_ID in str(info.value) and FAILED_MSG in str(info.value)
    assert sim.state.count() == 1
    assert waits.executions == 1 and not waits.triggers  # no reschedule, no deferral


def test_failed_alignment_fails_the_deferred_wait_on_the_triggers_first_poll(timed_sim, connect, waits):
    sim = timed_sim(RequestClock(2))  # pending at the first poke, failed from the second request on
    conn_id = connect(sim)

    with pytest.raises(AirflowFailException) as info:
        waits.run(alignment_sensor(conn_id, FAILED_ID), "deferrable")

    assert FAILED_ID in str(info.value) and FAILED_MSG in str(info.value)
    assert len(waits.triggers) == 1
    assert waits.events == [{"status": "failed", "kind": "analysis_failed", "message": str(info.value)}]
    assert sim.state.count() == 2  # the first poke, then one listing by the trigger


@pytest.mark.parametrize("max_retries", [0, 4], ids=["sensor-rides-it-out", "hook-retries"])
@pytest.mark.parametrize("mode", MODES)
def test_transient_failures_then_pending_then_success(mode, max_retries, timed_sim, connect, waits):
    sim = timed_sim(RequestClock(5))  # the alignment completes at the 5th request
    sim.state.faults.script(
        ALIGNMENTS, [Fault.http_error(503), Fault.http_error(502, body="html"), Fault.reset()]
    )
    conn_id = connect(sim, max_retries=max_retries)

    record = waits.run(alignment_sensor(conn_id, GOOD_ID), mode)  # raises nothing: no task retry used

    assert record["$uri"] == f"{ALIGNMENTS}/{GOOD_ID}"
    assert record["complete"] is True and record["success"] is True
    requests = sim.state.requests
    assert len(requests) == 5 and all(r.path.startswith(ALIGNMENTS) for r in requests)
    assert [r.status for r in requests] == [503, 502, None, 200, 200]  # None: reset, no answer
    assert sim.state.faults.counts == {"status": 2, "reset": 1}


@pytest.mark.parametrize("mode", MODES)
def test_a_rejected_key_fails_at_once_about_authentication(mode, onecodex_simulator, connect, waits):
    conn_id = connect(onecodex_simulator, password=WRONG_KEY)

    with pytest.raises(AirflowFailException, match=r"(?i)authentication") as info:
        waits.run(alignment_sensor(conn_id, GOOD_ID), mode)

    assert "401" in str(info.value)
    assert onecodex_simulator.state.count() == 1
    assert onecodex_simulator.state.requests[0].status == 401
    assert waits.executions == 1 and not waits.triggers


def test_a_rejected_key_fails_the_trigger_with_one_request(onecodex_simulator, connect):
    from airflow_provider_onecodex.api.waiting import WaitSpec
    from airflow_provider_onecodex.triggers.onecodex import OneCodexAnalysisTrigger
    from tests._modes import first_event

    conn_id = connect(onecodex_simulator, password=WRONG_KEY)
    trigger = OneCodexAnalysisTrigger(
        spec=WaitSpec.build("alignments", record_id=GOOD_ID).to_dict(),
        onecodex_conn_id=conn_id,
        poll_interval=0.05,
    )

    event = asyncio.run(first_event(trigger)).payload

    assert event["status"] == "failed" and event["kind"] == "auth"
    assert "authentication" in event["message"].lower()
    assert onecodex_simulator.state.count() == 1
    with pytest.raises(AirflowFailException, match=r"(?i)authentication"):
        alignment_sensor(conn_id, GOOD_ID)(deferrable=True).execute_complete({}, event)


def test_a_rejected_key_fails_test_connection_and_the_async_hook_with_one_request_each(
    onecodex_simulator, connect
):
    import asyncio

    from airflow_provider_onecodex.api.errors import OneCodexAuthError
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    conn_id = connect(onecodex_simulator, password=WRONG_KEY)
    ok, message = OneCodexHook(conn_id).test_connection()
    assert not ok and "Authentication failed (HTTP 401)" in message
    assert onecodex_simulator.state.count() == 1

    async def fetch():
        return await run_as_trigger(conn_id, ops.get_record("alignments", GOOD_ID))

    with pytest.raises(OneCodexAuthError):
        asyncio.run(fetch())
    assert onecodex_simulator.state.count() == 2
