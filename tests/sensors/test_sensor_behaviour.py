"""What the sensors push and raise, in all three modes: several ids, samples, failure policies,
timeouts, bad input and resumed events."""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_provider_onecodex.sensors.base import PROGRESS_KEY, STARTED_KEY
from tests._modes import MODES, MemoryStateStore

DEMO_SAMPLE = "a1b2c3d4e5f60718"
GOOD = "0123456789abcdef"


def alignment_sensor(**kwargs: Any) -> Any:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("timeout", 30)
    return OneCodexAlignmentSensor(task_id="wait", **kwargs)


def _pending_alignments(sim: Any, n: int, sample: str = DEMO_SAMPLE) -> list[str]:
    return [sim.state.add_alignment(sample, tax_id="1280") for _ in range(n)]


@pytest.mark.parametrize("mode", MODES)
def test_several_ids_push_their_records_in_order(mode, sim, reads, connect, drive) -> None:
    ids = _pending_alignments(sim, 3)
    reads.at(2, lambda: [sim.state.set_outcome(i, success=True) for i in ids])
    given = [ids[2], ids[0], ids[1]]
    result = drive(mode, lambda **kw: alignment_sensor(alignment_ids=given, **kw))
    assert result.exc_type is None, result.message
    assert result.xcom == [reads.record("alignments", i) for i in given]
    # one listing per poll, no GET per id: two polls
    assert sim.state.count("/api/v1/alignments") == 2
    assert sim.state.count("/api/v1/alignments/") == 0


@pytest.mark.parametrize("mode", MODES)
def test_sample_mode_pushes_every_alignment_of_the_sample(mode, sim, reads, connect, drive) -> None:
    sample = sim.state.add_sample("s1_R1.fastq.gz")
    ids = _pending_alignments(sim, 2, sample)
    other = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")  # another sample: not waited on
    reads.at(2, lambda: [sim.state.set_outcome(i, success=True) for i in ids])
    result = drive(mode, lambda **kw: alignment_sensor(sample_id=sample, **kw))
    assert result.exc_type is None, result.message
    assert result.xcom == [reads.record("alignments", i) for i in ids]
    assert other not in str(result.xcom)


@pytest.mark.parametrize("mode", MODES)
def test_sample_mode_with_tax_id_waits_only_on_that_reference(mode, sim, reads, connect, drive) -> None:
    sample = sim.state.add_sample("s2_R1.fastq.gz")
    staph = sim.state.add_alignment(sample, tax_id="1280")
    sim.state.add_alignment(sample, tax_id="562")  # stays pending: must not hold the wait
    reads.at(2, lambda: sim.state.set_outcome(staph, success=True))
    result = drive(mode, lambda **kw: alignment_sensor(sample_id=sample, tax_id="1280", **kw))
    assert result.xcom == [reads.record("alignments", staph)]


@pytest.mark.parametrize("mode", MODES)
def test_analysis_sensor_filters_a_sample_by_analysis_type(mode, sim, reads, connect, drive) -> None:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor

    sample = sim.state.add_sample("s3_R1.fastq.gz")
    classification = sim.state.add_analysis("classification", sample, complete_after=0)
    sim.state.add_analysis("panel", sample)  # pending forever, another type
    result = drive(
        mode,
        lambda **kw: OneCodexAnalysisSensor(
            task_id="wait", sample_id=sample, analysis_type="classification", poke_interval=0.05, **kw
        ),
    )
    assert result.xcom == [reads.record("analyses", classification)]
    assert result.xcom[0]["analysis_type"] == "classification"


@pytest.mark.parametrize("mode", MODES)
def test_fail_fast_names_every_failed_id_and_its_error(mode, sim, reads, connect, drive) -> None:
    ids = _pending_alignments(sim, 3)

    def finish() -> None:
        sim.state.set_outcome(ids[0], success=False, error_msg="Coverage too low.")
        sim.state.set_outcome(ids[1], success=True)
        sim.state.set_outcome(ids[2], success=False, error_msg="Reads too short.")

    reads.at(2, finish)
    result = drive(mode, lambda **kw: alignment_sensor(alignment_ids=ids, **kw))
    assert result.exc_type is AirflowFailException
    assert result.message == (
        f"2 of 3 alignments failed: {ids[0]} (Coverage too low.); {ids[2]} (Reads too short.)"
    )


@pytest.mark.parametrize("mode", MODES)
def test_report_policy_returns_failures_inside_the_records(mode, sim, reads, connect, drive) -> None:
    ids = _pending_alignments(sim, 2)

    def finish() -> None:
        sim.state.set_outcome(ids[0], success=False, error_msg="Coverage too low.")

    reads.at(2, finish)
    reads.at(3, lambda: sim.state.set_outcome(ids[1], success=True))
    result = drive(mode, lambda **kw: alignment_sensor(alignment_ids=ids, failure_policy="report", **kw))
    assert result.exc_type is None, result.message
    assert [(r["success"], r["error_msg"]) for r in result.xcom] == [(False, "Coverage too low."), (True, "")]
    assert sim.state.count("/api/v1/alignments") == 3  # waited for the second one after the failure


@pytest.mark.parametrize("mode", MODES)
def test_sample_without_alignments_waits_until_one_appears(mode, sim, reads, connect, drive) -> None:
    sample = sim.state.add_sample("late_R1.fastq.gz")
    added: list[str] = []
    reads.at(3, lambda: added.append(sim.state.add_alignment(sample, tax_id="28901", complete_after=0)))
    result = drive(mode, lambda **kw: alignment_sensor(sample_id=sample, **kw))
    assert result.exc_type is None, result.message
    assert result.xcom == [reads.record("alignments", added[0])]
    assert reads.count == 3  # two empty listings were pending, not success


@pytest.mark.parametrize("mode", MODES)
def test_min_count_zero_succeeds_at_once_with_no_alignments(mode, sim, reads, connect, drive) -> None:
    sample = sim.state.add_sample("empty_R1.fastq.gz")
    result = drive(mode, lambda **kw: alignment_sensor(sample_id=sample, min_count=0, **kw))
    assert (result.xcom, result.exc_type) == ([], None)
    assert sim.state.count("/api/v1/alignments") == 1  # one poll (and one read of the sample for its link)


@pytest.mark.parametrize("mode", MODES)
def test_timeout_with_soft_fail_skips(mode, sim, connect, drive) -> None:
    (aid,) = _pending_alignments(sim, 1)
    started = time.monotonic()
    result = drive(mode, lambda **kw: alignment_sensor(alignment_id=aid, timeout=0.4, soft_fail=True, **kw))
    assert result.exc_type is AirflowSkipException, result
    assert 0.4 <= time.monotonic() - started < 5


@pytest.mark.parametrize("mode", MODES)
def test_timeout_without_soft_fail_is_a_sensor_timeout(mode, sim, connect, drive) -> None:
    (aid,) = _pending_alignments(sim, 1)
    result = drive(mode, lambda **kw: alignment_sensor(alignment_id=aid, timeout=0.4, **kw))
    assert result.exc_type is AirflowSensorTimeout, result


@pytest.mark.parametrize("mode", MODES)
def test_failed_analysis_with_soft_fail_skips(mode, sim, reads, connect, drive) -> None:
    (aid,) = _pending_alignments(sim, 1)
    reads.at(2, lambda: sim.state.set_outcome(aid, success=False, error_msg="Coverage too low."))
    result = drive(mode, lambda **kw: alignment_sensor(alignment_id=aid, soft_fail=True, **kw))
    assert result.exc_type is AirflowSkipException, result
    assert reads.count == 2


def test_trigger_enforces_the_deadline_without_a_scheduler(sim, connect) -> None:
    """Nothing but the trigger itself stops the wait: ``dag.test()`` enforces no deferral timeout."""
    import asyncio

    from airflow_provider_onecodex.triggers.onecodex import OneCodexAnalysisTrigger

    (aid,) = _pending_alignments(sim, 1)
    sensor = alignment_sensor(alignment_id=aid, timeout=0.5, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, OneCodexAnalysisTrigger)
    # The scheduler's deferral timeout is what is left of the wait after the first poke.
    assert deferred.value.timeout is not None and 0.2 < deferred.value.timeout.total_seconds() <= 0.5

    async def first() -> Any:
        events = trigger.run()
        try:
            return await anext(events)
        finally:
            await events.aclose()

    started = time.monotonic()
    event = asyncio.run(first())
    assert 0.3 <= time.monotonic() - started < 2
    assert event.payload == {
        "status": "timeout",
        "message": f"Timed out after 0.5 s waiting for alignment {aid}",
    }
    with pytest.raises(AirflowSensorTimeout, match=f"waiting for alignment {aid}"):
        sensor.execute_complete({}, event.payload)


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"alignment_id": "A1A1000000001280"}, ValueError, "alignment_id"),
        ({"alignment_id": 1280}, TypeError, "alignment_id"),
        ({"alignment_id": "a1a1000000001280", "sample_id": DEMO_SAMPLE}, ValueError, "sample_id"),
        ({}, ValueError, "alignment_id"),
        ({"alignment_ids": []}, ValueError, "alignment_ids"),
        ({"alignment_ids": ["a1a1000000001280", "nope"]}, ValueError, "alignment_ids[1]"),
        ({"alignment_id": "a1a1000000001280", "tax_id": "1280"}, ValueError, "tax_id"),
        ({"sample_id": DEMO_SAMPLE, "tax_id": "S. aureus"}, ValueError, "tax_id"),
        ({"sample_id": DEMO_SAMPLE, "where": "{not json"}, ValueError, "where"),
        ({"sample_id": DEMO_SAMPLE, "min_count": -1}, ValueError, "min_count"),
        ({"alignment_id": "a1a1000000001280", "poke_interval": 0}, ValueError, "poke_interval"),
        ({"alignment_id": "a1a1000000001280", "failure_policy": "lenient"}, ValueError, "failure_policy"),
        ({"alignment_id": "a1a1000000001280", "max_consecutive_failures": 0}, ValueError, "max_consecutive"),
        ({"alignment_id": "a1a1000000001280", "max_consecutive_failures": "3"}, TypeError, "max_consecutive"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_bad_input_is_refused_before_any_request(mode, kwargs, error, names, sim, connect, drive) -> None:
    result = drive(mode, lambda **kw: alignment_sensor(**kwargs, **kw))
    assert result.exc_type is not None and issubclass(result.exc_type, error), result
    # Refused when the DAG is parsed (a literal), or when the task runs, without task retries.
    assert result.exc_type is error or issubclass(result.exc_type, AirflowFailException), result
    assert names in result.message
    assert sim.state.count() == 0


def test_analysis_type_only_applies_to_analyses(sim, connect) -> None:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor

    sensor = OneCodexAnalysisSensor(
        task_id="wait", sample_id=DEMO_SAMPLE, analysis_type="panel", resource="alignments"
    )
    with pytest.raises(
        ValueError, match="analysis_type only applies to resource='analyses', not 'alignments'"
    ):
        sensor.execute({})
    assert sim.state.count() == 0


def test_analysis_sensor_messages_name_the_parameter_given_whatever_the_resource(sim, connect) -> None:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor

    with pytest.raises(ValueError, match="analysis_id must be a One Codex id") as info:  # at DAG parse
        OneCodexAnalysisSensor(task_id="wait", resource="classifications", analysis_id="XYZ")
    sensor = OneCodexAnalysisSensor(task_id="wait", resource="classifications", analysis_id="{{ x }}")
    sensor.analysis_id = "XYZ"  # as rendered from a template
    with pytest.raises(ValueError, match="analysis_id must be a One Codex id") as info:
        sensor.execute({})
    assert "classification_id" not in str(info.value)
    with pytest.raises(ValueError, match="give exactly one of analysis_id, analysis_ids or sample_id"):
        OneCodexAnalysisSensor(task_id="w2", resource="panels", analysis_id=GOOD, sample_id=DEMO_SAMPLE)
    assert sim.state.count() == 0


@pytest.mark.parametrize("argument", ["resource", "analysis_id", "analysis_ids", "analysis_type"])
def test_alignment_sensor_refuses_analysis_arguments(argument) -> None:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    with pytest.raises(TypeError, match=f"OneCodexAlignmentSensor does not take {argument}"):
        OneCodexAlignmentSensor(task_id="wait", alignment_id=GOOD, **{argument: "analyses"})


@pytest.mark.parametrize("deferrable", [False, True])
def test_never_fail_skips_a_failed_analysis_in_poke_and_on_the_first_deferrable_poke(
    sim, connect, deferrable
) -> None:
    (aid,) = _pending_alignments(sim, 1)
    sim.state.set_outcome(aid, success=False, error_msg="reference not found")
    sensor = alignment_sensor(alignment_id=aid, never_fail=True, deferrable=deferrable)
    with pytest.raises(AirflowSkipException, match="never_fail"):
        sensor.execute({})


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (None, "unknown outcome: None"),
        ({"status": "mystery"}, "unknown outcome: {'status': 'mystery'}"),
        ("success", "unknown outcome: 'success'"),
        ({"status": "pending", "message": "still running"}, "ended without a final outcome"),
    ],
)
def test_execute_complete_fails_loudly_on_a_lost_or_unknown_event(event, match, sim, connect) -> None:
    sensor = alignment_sensor(alignment_id="a1a1000000001280", deferrable=True)
    with pytest.raises(AirflowException, match=match) as raised:
        sensor.execute_complete({}, event)
    assert type(raised.value) is AirflowException  # retryable, never read as success


def test_resumed_failure_events_keep_their_exception_kind(sim, connect) -> None:
    sensor = alignment_sensor(alignment_id="a1a1000000001280", deferrable=True)
    with pytest.raises(AirflowFailException, match=r"^boom$"):
        sensor.execute_complete({}, {"status": "failed", "kind": "auth", "message": "boom"})
    with pytest.raises(AirflowException, match=r"^flaky$") as raised:
        sensor.execute_complete({}, {"status": "failed", "kind": "transient", "message": "flaky"})
    assert type(raised.value) is AirflowException


def test_the_extra_link_points_at_the_analysis_page(sim, connect) -> None:
    from airflow_provider_onecodex.links.onecodex import OneCodexLink

    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280", complete_after=0)
    sensor = alignment_sensor(alignment_id=aid)
    assert OneCodexLink().get_link(sensor, ti_key=None) == ""  # type: ignore[arg-type]
    sensor.execute({})
    assert OneCodexLink().get_link(sensor, ti_key=None) == f"{sim.base_url}/analysis/{aid}"  # type: ignore[arg-type]


def test_deferrable_mode_defers_with_json_native_kwargs_and_no_key(sim, connect) -> None:
    import json

    (aid,) = _pending_alignments(sim, 1)
    sensor = alignment_sensor(alignment_id=aid, deferrable=True, timeout=60, poke_interval=5)
    started = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    assert deferred.value.method_name == "execute_complete"
    _, kwargs = deferred.value.trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert sim.api_key not in json.dumps(kwargs)
    assert kwargs["poll_interval"] == 5.0 and kwargs["timeout"] == 60.0
    assert started <= kwargs["deadline"] - 60 <= time.time()
    assert kwargs["spec"]["ids"] == [aid] and kwargs["spec"]["single"] is True


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_task_retry_continues_the_timeout_instead_of_restarting_it(sim, connect, deferrable) -> None:
    (aid,) = _pending_alignments(sim, 1)
    store = MemoryStateStore()

    # First try: records when the wait began.
    first = alignment_sensor(alignment_id=aid, timeout=3600, deferrable=True)
    with pytest.raises(TaskDeferred):
        first.execute({"task_state_store": store})
    began = store.values[STARTED_KEY]
    assert abs(began - time.time()) < 5

    # A retry an hour later: the same wait has no time left, in poke and in deferrable mode: one
    # last poll (a success would still win), then the timeout at once, without deferring.
    store.values[STARTED_KEY] = began - 3600
    retry = alignment_sensor(alignment_id=aid, timeout=3600, deferrable=deferrable)
    started = time.monotonic()
    with pytest.raises(AirflowSensorTimeout, match="counted across retries"):
        retry.execute({"task_state_store": store})
    assert time.monotonic() - started < 10
    # Airflow's soft_fail still applies to it (BaseSensorOperator handles it, not the sensor).
    soft = alignment_sensor(alignment_id=aid, timeout=3600, deferrable=deferrable, soft_fail=True)
    with pytest.raises(AirflowSkipException):
        soft.execute({"task_state_store": store})


def test_reschedule_mode_timeout_survives_a_task_retry(sim, connect) -> None:
    """Airflow deletes reschedule rows on a retry; the task state store keeps the wait's start."""
    from airflow.sdk.exceptions import AirflowRescheduleException

    class FreshTI:  # what a retry's task instance says: no reschedule before this try
        def get_first_reschedule_date(self, context: Any) -> None:
            return None

    (aid,) = _pending_alignments(sim, 1)
    store = MemoryStateStore()
    context = {"task_state_store": store, "ti": FreshTI()}
    with pytest.raises(AirflowRescheduleException):  # first poke of the first try: not yet
        alignment_sensor(alignment_id=aid, timeout=3600, mode="reschedule").execute(context)
    assert abs(store.values[STARTED_KEY] - time.time()) < 5
    assert store.values[PROGRESS_KEY]["reached"] is True  # kept for the next poke too

    # A retry an hour later: Airflow's first_reschedule_date is gone (a fresh TI), the store is not.
    store.values[STARTED_KEY] -= 3600
    with pytest.raises(AirflowSensorTimeout, match="counted across retries"):
        alignment_sensor(alignment_id=aid, timeout=3600, mode="reschedule").execute(context)
    # Airflow 3.2 (no task_state_store): the timeout restarts with each try, as Airflow's own sensors.
    with pytest.raises(AirflowRescheduleException):
        alignment_sensor(alignment_id=aid, timeout=3600, mode="reschedule").execute({"ti": FreshTI()})


def test_without_a_state_store_the_wait_starts_now(sim, connect) -> None:
    (aid,) = _pending_alignments(sim, 1)
    sensor = alignment_sensor(alignment_id=aid, timeout=3600, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    assert deferred.value.timeout.total_seconds() > 3590
