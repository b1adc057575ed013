"""A server that accepts a request and never answers (the simulator's ``hang`` fault): the sensor
and its trigger give up the poll after the connection's read timeout and poll again (the hook
side: tests/hooks/test_timeouts.py)."""

from __future__ import annotations

import time

import pytest

from airflow_provider_onecodex.testing.faults import Fault
from tests._modes import MODES
from tests._reliability import ALIGNMENTS, GOOD_ID, RequestClock, alignment_sensor, connect  # noqa: F401  (connect: a fixture)

READ_TIMEOUT = 0.5
SLACK = 1.5  # seconds of overhead allowed per attempt on a busy machine


def hang_conn(connect, sim, max_retries=0):
    return connect(sim, read_timeout=READ_TIMEOUT, max_retries=max_retries)


@pytest.mark.parametrize("mode", MODES)
def test_sensor_rides_out_a_hanging_poll(mode, done_sim, connect, waits):
    done_sim.state.faults.script(ALIGNMENTS, [Fault.hang()])
    conn_id = hang_conn(connect, done_sim)

    started = time.monotonic()
    record = waits.run(alignment_sensor(conn_id, GOOD_ID), mode)

    assert record["success"] is True
    assert done_sim.state.count() == 2
    assert READ_TIMEOUT <= time.monotonic() - started < READ_TIMEOUT + 2 * SLACK


def test_trigger_rides_out_a_hanging_listing(timed_sim, connect, waits):
    sim = timed_sim(RequestClock(3))  # pending at the first poke, complete once the trigger asks again
    sim.state.faults.script(ALIGNMENTS, [None, Fault.hang()])

    record = waits.run(alignment_sensor(hang_conn(connect, sim), GOOD_ID), "deferrable")

    assert record["success"] is True
    assert len(waits.triggers) == 1
    assert [r.status for r in sim.state.requests] == [200, None, 200]
    assert [r.fault for r in sim.state.requests] == [None, "hang", None]
