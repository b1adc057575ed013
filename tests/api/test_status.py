"""The completion rule: terminal when complete is true; anything malformed is refused, never success."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.errors import MalformedRecordError
from airflow_provider_onecodex.api.status import AnalysisState, Completion, completion_of

ASKED = "0123456789abcdef"
OTHER = "fedcba9876543210"


@pytest.mark.parametrize(
    "record",
    [
        {"complete": False, "success": False},
        {"complete": False},  # success may be missing while running
        {"complete": False, "success": None, "error_msg": None},
        {"complete": False, "success": "whatever"},
    ],
)
def test_not_complete_is_pending(record):
    result = completion_of(record, ASKED)
    assert result == Completion(ASKED, AnalysisState.PENDING, None)
    assert result.describe() == f"{ASKED} pending"


@pytest.mark.parametrize("error_msg", [None, ""])
def test_complete_and_success_is_succeeded(error_msg):
    result = completion_of({"complete": True, "success": True, "error_msg": error_msg}, ASKED)
    assert result.state is AnalysisState.SUCCEEDED
    assert result.analysis_id == ASKED
    assert result.describe() == f"{ASKED} succeeded"


def test_complete_and_not_success_is_failed_with_error_msg():
    result = completion_of({"complete": True, "success": False, "error_msg": "reference not found"}, ASKED)
    assert result.state is AnalysisState.FAILED
    assert result.error_msg == "reference not found"
    assert result.describe() == f"{ASKED} failed: reference not found"


@pytest.mark.parametrize(
    "record", [{"complete": True, "success": False}, {"complete": True, "success": False, "error_msg": 17}]
)
def test_failed_without_usable_error_msg(record):
    result = completion_of(record, ASKED)
    assert result.state is AnalysisState.FAILED
    assert result.error_msg is None
    assert result.describe() == f"{ASKED} failed: no error_msg given"


def test_id_is_taken_from_uri():
    record = {"$uri": f"/api/v1/alignments/{OTHER}", "complete": True, "success": True}
    assert completion_of(record, ASKED).analysis_id == OTHER
    assert completion_of(record).analysis_id == OTHER


def test_unknown_id_placeholder():
    assert completion_of({"complete": False}).analysis_id == "<unknown id>"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({}, "complete"),
        ({"success": True}, "complete"),
        ({"complete": "true", "success": True}, "complete"),
        ({"complete": None, "success": True}, "complete"),
        ({"complete": 1, "success": True}, "complete"),
        ({"complete": 0}, "complete"),
        ({"complete": True}, "success"),
        ({"complete": True, "success": None}, "success"),
        ({"complete": True, "success": "true"}, "success"),
        ({"complete": True, "success": 1}, "success"),
    ],
)
def test_malformed_records_name_id_and_field(record, field):
    with pytest.raises(MalformedRecordError) as info:
        completion_of(record, ASKED)
    message = str(info.value)
    assert ASKED in message
    assert repr(field) in message


def test_malformed_record_names_id_from_uri():
    with pytest.raises(MalformedRecordError, match=OTHER):
        completion_of({"$uri": f"/api/v1/panels/{OTHER}", "complete": None}, ASKED)


@pytest.mark.parametrize("record", [[{"complete": True, "success": True}], None, "complete", 1])
def test_not_an_object(record):
    with pytest.raises(MalformedRecordError) as info:
        completion_of(record, ASKED)
    assert ASKED in str(info.value)
    assert type(record).__name__ in str(info.value)


def test_malformed_is_not_a_value_error_that_could_be_swallowed_as_bad_input():
    with pytest.raises(MalformedRecordError) as info:
        completion_of({}, ASKED)
    assert not isinstance(info.value, (ValueError, TypeError))
