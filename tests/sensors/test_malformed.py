"""Records and trigger events that cannot be trusted are never read as success.

The simulator is made to answer malformed alignment records (``complete: true`` with ``success``
null or missing, ``complete: "true"``, an empty object); every mode fails with a message naming
the alignment and the field. Lost or unknown trigger events fail the resumed task.
"""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from tests._reliability import ALIGNMENTS, GOOD_ID, RequestClock, alignment_sensor, connect  # noqa: F401  (connect: a fixture)


def success_null(record):
    return {**record, "complete": True, "success": None}


def success_missing(record):
    return {k: v for k, v in {**record, "complete": True}.items() if k != "success"}


def complete_as_text(record):
    return {**record, "complete": "true", "success": True}


def empty(record):
    return {}


MALFORMED = {
    "success-null": (success_null, "'success'"),
    "success-missing": (success_missing, "'success' is missing"),
    "complete-text": (complete_as_text, "'complete'"),
    "empty-object": (empty, "'complete' is missing"),
}
# where the malformed record is first seen: (mode, number of the first malformed request)
WHERE = {
    "poke": ("poke", 1),
    "reschedule": ("reschedule", 1),
    "deferrable-first-poke": ("deferrable", 1),
    "deferrable-trigger": ("deferrable", 2),
}


def serve_malformed(monkeypatch, sim, alignment_id, mutate, from_request):
    """From the ``from_request``-th request on, render ``alignment_id`` through ``mutate``."""
    state = sim.state
    render = state.render

    def rendered(resource, record):
        out = render(resource, record)
        if record.id == alignment_id and state.count(ALIGNMENTS) >= from_request:
            return mutate(out)
        return out

    monkeypatch.setattr(state, "render", rendered)


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_record_fails_naming_the_id_and_the_field(
    case, where, timed_sim, connect, waits, monkeypatch
):
    mutate, field_text = MALFORMED[case]
    mode, from_request = WHERE[where]
    # complete (a well-formed record would be a success) when the malformed answers start
    sim = timed_sim(RequestClock(from_request))
    serve_malformed(monkeypatch, sim, GOOD_ID, mutate, from_request)

    with pytest.raises(AirflowFailException) as info:
        waits.run(alignment_sensor(connect(sim), GOOD_ID), mode)

    message = str(info.value)
    assert GOOD_ID in message and field_text in message and "malformed" in message
    assert waits.executions == 1  # failed at once: no reschedule, no task retry
    assert bool(waits.triggers) == (where == "deferrable-trigger")
    if waits.events:
        assert waits.events[0]["status"] == "failed" and waits.events[0]["kind"] == "malformed"


@pytest.mark.parametrize(
    "event",
    [
        None,
        {"status": "mystery"},
        {},
        "success",
        {"status": "pending", "message": "not complete yet"},
        {"status": "transient", "message": "503"},
    ],
    ids=["none", "unknown-status", "empty", "not-a-dict", "pending", "transient"],
)
def test_lost_unknown_or_non_final_trigger_events_never_succeed(event, onecodex_simulator, connect):
    sensor = alignment_sensor(connect(onecodex_simulator), GOOD_ID)(deferrable=True)

    with pytest.raises(AirflowException) as info:
        sensor.execute_complete({}, event)

    assert repr(event) in str(info.value)
    assert onecodex_simulator.state.count() == 0
