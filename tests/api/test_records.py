"""Timestamps as One Codex sends them, parsed to aware UTC pendulum DateTimes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pendulum
import pytest

from airflow_provider_onecodex.api.records import parse_timestamp


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-02T03:04:05Z", utc(2026, 1, 2, 3, 4, 5)),
        ("2026-01-02T03:04:05+00:00", utc(2026, 1, 2, 3, 4, 5)),
        ("2026-01-02T03:04:05+02:00", utc(2026, 1, 2, 1, 4, 5)),
        ("2026-01-02T03:04:05-05:30", utc(2026, 1, 2, 8, 34, 5)),
        ("2026-01-02T03:04:05.123456Z", utc(2026, 1, 2, 3, 4, 5, 123456)),
        ("2026-01-02T03:04:05.5+01:00", utc(2026, 1, 2, 2, 4, 5, 500000)),
        ("2026-01-02T23:30:00-01:00", utc(2026, 1, 3, 0, 30, 0)),
        # naive: taken as UTC (account.confirmed_at comes like this)
        ("2026-01-02T03:04:05", utc(2026, 1, 2, 3, 4, 5)),
        ("2026-01-02T03:04:05.000001", utc(2026, 1, 2, 3, 4, 5, 1)),
    ],
)
def test_strings(value, expected):
    parsed = parse_timestamp(value)
    assert isinstance(parsed, pendulum.DateTime)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)
    assert parsed.timezone_name == "UTC"


@pytest.mark.parametrize("value", [None, ""])
def test_empty_is_none(value):
    assert parse_timestamp(value) is None


def test_potion_date_in_milliseconds():
    ms = int(utc(2026, 1, 2, 3, 4, 5).timestamp() * 1000) + 250
    parsed = parse_timestamp({"$date": ms})
    assert parsed == utc(2026, 1, 2, 3, 4, 5, 250000)
    assert parsed.timezone_name == "UTC"
    assert parse_timestamp({"$date": 0}) == utc(1970, 1, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 1, 2, 3, 4, 5), utc(2026, 1, 2, 3, 4, 5)),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=3))), utc(2026, 1, 2, 0, 4, 5)),
        (pendulum.datetime(2026, 1, 2, 3, 4, 5, tz="Europe/Paris"), utc(2026, 1, 2, 2, 4, 5)),
    ],
)
def test_datetime_objects(value, expected):
    parsed = parse_timestamp(value)
    assert isinstance(parsed, pendulum.DateTime)
    assert parsed == expected
    assert parsed.timezone_name == "UTC"


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-01-02T25:00:00Z",
        "P1D",
        " ",
        # A bare time is not a timestamp: pendulum turns it into *today* at that time, so the result
        # would depend on the day the task runs.
        "12:00",
    ],
)
def test_garbage_strings_raise_value_error_naming_the_value(value):
    with pytest.raises(ValueError) as info:
        parse_timestamp(value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    "value", [1767323045, 1.5, True, ["2026-01-02"], {"$date": "1767323045000"}, {"x": 1}]
)
def test_other_types_raise_type_error(value):
    with pytest.raises(TypeError) as info:
        parse_timestamp(value)
    assert not isinstance(info.value, ValueError)
    assert repr(value) in str(info.value)
