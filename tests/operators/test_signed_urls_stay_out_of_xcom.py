"""Pre-signed links in records (classification ``results_uri``) lose their signature before they
reach XCom or a trigger event: they grant access to the results until they expire."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_onecodex.api.records import strip_signed_urls
from airflow_provider_onecodex.operators.onecodex import (
    OneCodexGetRecordOperator,
    OneCodexListRecordsOperator,
)
from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor

CLASSIFICATION = "c1a5000000000001"


def _signed(sim: Any) -> str:
    uri = sim.state.get_json("classifications", CLASSIFICATION)["results_uri"]
    assert isinstance(uri, str) and "?" in uri and "signature" in uri  # the API's record is signed
    return uri


def test_get_and_list_operators_push_unsigned_links(use_sim) -> None:
    signed = _signed(use_sim)
    record = OneCodexGetRecordOperator(
        task_id="get", resource="classifications", record_id=CLASSIFICATION
    ).execute({})
    listed = OneCodexListRecordsOperator(
        task_id="list", resource="classifications", where={"sample": "a1b2c3d4e5f60718"}
    ).execute({})
    assert record["results_uri"] == signed.split("?")[0]
    assert all("?" not in (r.get("results_uri") or "") for r in listed)
    assert any(r["results_uri"] == signed.split("?")[0] for r in listed)


@pytest.mark.parametrize("deferrable", [False, True])
def test_sensor_values_and_trigger_events_carry_no_signature(use_sim, deferrable) -> None:
    signed = _signed(use_sim)
    sensor = OneCodexAnalysisSensor(
        task_id="wait",
        analysis_id=CLASSIFICATION,
        resource="classifications",
        poke_interval=0.1,
        timeout=10,
        deferrable=deferrable,
    )
    value = sensor.execute({})  # complete already: done at the first poke in both modes
    assert value["results_uri"] == signed.split("?")[0]
    assert signed.split("?")[1] not in repr(value)


def test_trigger_events_carry_no_signature(use_fresh) -> None:
    sim = use_fresh
    sensor = OneCodexAnalysisSensor(
        task_id="wait", analysis_id=CLASSIFICATION, resource="classifications", poke_interval=0.1,
        timeout=10, deferrable=True,
    )  # fmt: skip
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})  # pending at 0 s: deferred
    sim.state.set_outcome(CLASSIFICATION, success=True)

    async def first() -> Any:
        events = deferred.value.trigger.run()
        try:
            return await anext(events)
        finally:
            await events.aclose()

    event = asyncio.run(first())
    assert event.payload["status"] == "success"
    uri = event.payload["value"]["results_uri"]
    assert uri and "?" not in uri and "signature" not in repr(event.payload)


def test_strip_signed_urls_keeps_everything_else() -> None:
    record = {
        "$uri": "/api/v1/classifications/0123456789abcdef",
        "results_uri": "https://bucket.example/r/1.json.gz?X-Amz-Signature=abc123&Expires=9",
        "files": [{"url": "https://bucket.example/f.tsv.gz?sig=zzz999", "size": 3}],
        "note": "a?b",
        "nested": {"download_uri": None},
    }
    assert strip_signed_urls(record) == {
        "$uri": "/api/v1/classifications/0123456789abcdef",
        "results_uri": "https://bucket.example/r/1.json.gz",
        "files": [{"url": "https://bucket.example/f.tsv.gz", "size": 3}],
        "note": "a?b",
        "nested": {"download_uri": None},
    }
    assert record["results_uri"].endswith("Expires=9")  # the input is not modified
