"""The XCom size policy's pure parts: measuring, summaries of records, the error text, file names;
and which errors a task retry cannot fix."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.config import OneCodexConfigError
from airflow_provider_onecodex.api.errors import (
    MalformedRecordError,
    OneCodexConnectionError,
    error_for_status,
    retry_cannot_help,
)
from airflow_provider_onecodex.api.ids import check_literal_id, is_literal
from airflow_provider_onecodex.api.xcom import fits, records_summary, storage_name, too_large_message

SAMPLE = {"$uri": "/api/v1/samples/a1b2c3d4e5f60718", "filename": "x.fastq"}
ALIGNMENT = {"$uri": "/api/v1/alignments/a1a1000000001280", "tax_id": "1280"}


def test_too_large_message_gives_size_limit_and_fixes():
    assert too_large_message("the XCom value of list_samples", 1_000_000, 49152) == (
        "The XCom value of list_samples is 1000000 bytes of JSON, more than xcom_max_bytes=49152: not "
        "pushed to XCom. Set destination= to a folder (e.g. 'file:///data/onecodex' or "
        "'s3://bucket/prefix') so the value is written there and XCom gets its location and a "
        "summary, narrow the request (where=, max_records=), or raise xcom_max_bytes."
    )


def test_fits_measures_compact_json():
    ok, data = fits({"a": "é"}, 10)
    assert ok and data == '{"a":"é"}'.encode()
    assert fits({"a": "x" * 100}, 10)[0] is False


def test_records_summary_names_ids_and_routes():
    assert records_summary([SAMPLE, ALIGNMENT]) == {
        "kind": "records",
        "count": 2,
        "ids": ["a1b2c3d4e5f60718", "a1a1000000001280"],
        "resources": ["alignments", "samples"],
    }
    assert records_summary(SAMPLE) == {
        "kind": "record",
        "count": 1,
        "ids": ["a1b2c3d4e5f60718"],
        "resources": ["samples"],
    }
    assert len(records_summary([SAMPLE] * 50)["ids"]) == 20


def test_storage_name_is_safe():
    assert storage_name("dag", "task", "manual__2026-01-01T00:00:00+00:00", None) == (
        "dag-task-manual__2026-01-01T00_00_00_00_00.json"
    )


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422])
def test_permanent_statuses_are_not_worth_a_task_retry(status):
    assert retry_cannot_help(error_for_status(status, "GET", "/api/v1/samples", b"{}"))


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are(status):
    assert not retry_cannot_help(error_for_status(status, "GET", "/api/v1/samples", b"{}"))


def test_argument_and_record_errors_are_permanent_network_errors_are_not():
    assert retry_cannot_help(ValueError("bad id"))
    assert retry_cannot_help(TypeError("bad type"))
    assert retry_cannot_help(OneCodexConfigError("empty key"))
    assert retry_cannot_help(MalformedRecordError("no complete"))
    assert not retry_cannot_help(OneCodexConnectionError(None, "GET", "/x", "refused", cause="refused"))
    assert not retry_cannot_help(RuntimeError("?"))


def test_literal_ids_are_checked_templates_are_not():
    assert is_literal("a1b2c3d4e5f60718") and not is_literal("{{ params.sample_id }}")
    assert not is_literal(None) and not is_literal(["x"])
    check_literal_id("{{ params.sample_id }}", "sample_id")
    check_literal_id(None, "sample_id")
    with pytest.raises(ValueError, match="sample_id") as info:
        check_literal_id("not-an-id", "sample_id", resource="samples")
    assert "not-an-id" in str(info.value)
