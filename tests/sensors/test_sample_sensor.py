"""OneCodexSampleSensor and OneCodexSampleTrigger: one sample rule for poke and deferrable waits."""

from __future__ import annotations

import asyncio
import json

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from airflow_provider_onecodex.api.errors import (
    MalformedRecordError,
    OneCodexNotFoundError,
    OneCodexServerError,
)
from airflow_provider_onecodex.api.samples import sample_outcome
from airflow_provider_onecodex.api.status import SampleState, readiness_of
from airflow_provider_onecodex.sensors.onecodex import OneCodexSampleSensor
from airflow_provider_onecodex.triggers.onecodex import OneCodexSampleTrigger
from tests._modes import first_payload

STOOL, CLS_STOOL, MAIN = "d4e5f60718293a4b", "c1a5000000000004", "a1b2c3d4e5f60718"
ID = "0123456789abcdef"


def record(status, **fields):
    return {"$uri": f"/api/v1/samples/{ID}", "status": status, **fields}


# -- the rule --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("awaiting_data", SampleState.PENDING),
        ("importing", SampleState.PENDING),
        ("validating", SampleState.PENDING),
        ("available", SampleState.READY),
        ("failed_validation", SampleState.FAILED),
        ("deleted", SampleState.FAILED),
    ],
)
def test_sample_rule(status, state):
    verdict = readiness_of(record(status, error_msg="bad FASTQ" if state is SampleState.FAILED else None))
    assert verdict.state is state and verdict.sample_id == ID
    if state is SampleState.FAILED:
        assert verdict.describe() == f"sample {ID} is {status}: bad FASTQ"


def test_primary_classification_can_be_required():
    assert (
        readiness_of(record("available"), wait_for_primary_classification=True).state is SampleState.PENDING
    )
    ready = record("available", primary_classification={"$ref": f"/api/v1/classifications/{ID}"})
    assert readiness_of(ready, wait_for_primary_classification=True).state is SampleState.READY


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (record("uploaded"), "unknown status 'uploaded'"),
        (record(None), "'status' must be a string, got None"),
        ({"$uri": f"/api/v1/samples/{ID}"}, "'status' must be a string"),
        (["available"], "expected a JSON object, got list"),
    ],
)
def test_sample_rule_refuses_to_guess(value, message):
    with pytest.raises(MalformedRecordError, match=message):
        readiness_of(value, ID)


def test_outcome_shapes():
    ready = record("available")
    assert sample_outcome(ID, ready) == {
        "status": "success",
        "value": ready,
        "message": f"One Codex sample {ID} is available",
    }
    failed = sample_outcome(ID, record("deleted", error_msg=None))
    assert failed == {
        "status": "failed",
        "kind": "sample_failed",
        "message": f"One Codex sample {ID} is deleted: no error_msg given",
    }
    assert sample_outcome(ID, record("importing"))["status"] == "pending"
    assert sample_outcome(ID, None, OneCodexServerError(503, "GET", "/x", "busy"))["status"] == "transient"
    assert sample_outcome(ID, None, OneCodexNotFoundError(404, "GET", "/x", "no"))["kind"] == "not_found"
    assert sample_outcome(ID, record("gone"))["kind"] == "malformed"


# -- the sensor ------------------------------------------------------------------------------------


def sensor(**kwargs):
    kwargs.setdefault("poke_interval", 0.05)
    return OneCodexSampleSensor(task_id="wait_for_sample", **kwargs)


def test_poke_waits_for_validation_and_the_primary_classification(use_fresh, onecodex_manual_clock):
    wait = sensor(sample_id=STOOL, wait_for_primary_classification=True)
    assert wait.poke({}).is_done is False
    onecodex_manual_clock.advance(1.5)
    done = wait.poke({})
    assert done.is_done and done.xcom_value["primary_classification"] == {
        "$ref": f"/api/v1/classifications/{CLS_STOOL}"
    }


@pytest.mark.parametrize("status", ["failed_validation", "deleted"])
def test_poke_fails_clearly_on_a_failed_sample(use_fresh, status):
    sample = use_fresh.state.add_sample(
        "broken.fastq", status=status, error_msg="Invalid FASTQ record at line 4"
    )
    with pytest.raises(
        AirflowFailException, match=f"sample {sample} is {status}: Invalid FASTQ record at line 4"
    ):
        sensor(sample_id=sample).poke({})


def test_missing_sample_fails_at_once(use_fresh):
    with pytest.raises(AirflowFailException, match="404"):
        sensor(sample_id="ffffffffffffffff").poke({})


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sample_id": "nope"}, ValueError, "sample_id must be a One Codex id"),
        ({"sample_id": STOOL, "max_consecutive_failures": 0}, ValueError, "max_consecutive_failures"),
        ({"sample_id": STOOL, "wait_for_primary_classification": "yes"}, TypeError, "True or False"),
    ],
)
def test_bad_arguments_fail_before_any_request(use_fresh, kwargs, error, message):
    with pytest.raises(error, match=message):
        sensor(deferrable=True, **kwargs).execute({})
    assert use_fresh.state.count() == 0


def _deferred(wait: OneCodexSampleSensor) -> OneCodexSampleTrigger:
    with pytest.raises(TaskDeferred) as info:
        wait.execute({})
    trigger = info.value.trigger
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_onecodex.triggers.onecodex.OneCodexSampleTrigger"
    return OneCodexSampleTrigger(**json.loads(json.dumps(kwargs)))  # as the triggerer rebuilds it


async def test_deferrable_wait_ends_like_the_poke(use_fresh, onecodex_manual_clock):
    wait = sensor(sample_id=STOOL, deferrable=True, wait_for_primary_classification=True)
    trigger = _deferred(wait)
    assert trigger.sample_id == STOOL and trigger.wait_for_primary_classification is True

    async def validate_later():
        await asyncio.sleep(0.2)
        onecodex_manual_clock.advance(1.5)

    event, _ = await asyncio.gather(first_payload(trigger), validate_later())
    assert event["status"] == "success"
    assert wait.execute_complete({}, event) == sensor(sample_id=STOOL).poke({}).xcom_value


async def test_deferrable_failure_has_the_poke_message(use_fresh, onecodex_manual_clock):
    sample = use_fresh.state.add_sample(
        "late.fastq", status="failed_validation", error_msg="Truncated gzip", ready_after=1
    )
    trigger = _deferred(sensor(sample_id=sample, deferrable=True))  # still validating: deferred

    async def fail_later():
        await asyncio.sleep(0.2)
        onecodex_manual_clock.advance(1)

    event, _ = await asyncio.gather(first_payload(trigger), fail_later())
    with pytest.raises(AirflowFailException) as deferred:
        sensor(sample_id=sample).execute_complete({}, event)
    with pytest.raises(AirflowFailException) as poked:
        sensor(sample_id=sample).poke({})
    assert (
        str(deferred.value)
        == str(poked.value)
        == f"One Codex sample {sample} is failed_validation: Truncated gzip"
    )


async def test_trigger_deadline_ends_with_timeout(use_fresh):
    sample = use_fresh.state.add_sample("slow.fastq", ready_after=3600)
    import time

    trigger = OneCodexSampleTrigger(sample, "onecodex_default", 0.05, deadline=time.time() + 0.2, timeout=0.2)
    event = await first_payload(trigger)
    assert event == {"status": "timeout", "message": f"Timed out after 0.2 s waiting for sample {sample}"}


def test_lost_or_unknown_events_never_succeed():
    for event in (None, {"status": "weird"}, {"status": "pending", "message": "x"}):
        with pytest.raises(AirflowException):
            sensor(sample_id=STOOL).execute_complete({}, event)
