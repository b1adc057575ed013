"""The provider refuses metadata values One Codex would answer 400 for, before any request, by the
same rules the simulator enforces (``api/metadata_values.py``: one definition, two checkers)."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_onecodex.api.metadata import validate_metadata_fields
from airflow_provider_onecodex.api.metadata_values import METADATA_RULES

METADATA_ID = "3e7a000000000001"  # the demo scenario's metadata record of sample a1b2c3d4e5f60718

#: (change, error, message): each breaks one rule of its field
BAD = [
    (
        {"location_lat": 200},
        ValueError,
        r"fields\['location_lat'\] must be a number from -90 to 90 or null, got 200",
    ),
    ({"location_lon": -180.5}, ValueError, r"fields\['location_lon'\] must be a number from -180 to 180"),
    ({"location_lat": "north"}, TypeError, r"fields\['location_lat'\] must be a number .* got 'north'"),
    ({"location_lat": True}, TypeError, r"fields\['location_lat'\] must be a number .* got True"),
    (
        {"date_collected": "yesterday"},
        ValueError,
        r"fields\['date_collected'\] must be an RFC 3339 date-time",
    ),
    ({"date_sequenced": 20260401}, TypeError, r"fields\['date_sequenced'\] must be an RFC 3339 date-time"),
    (
        {"date_collected": "2026-04-01"},
        ValueError,
        r"fields\['date_collected'\] must be an RFC 3339 date-time",
    ),
    ({"date_collected": "20260401"}, ValueError, r"fields\['date_collected'\] must be an RFC 3339 date-time"),
    (
        {"date_collected": "2026-W14-3"},
        ValueError,
        r"fields\['date_collected'\] must be an RFC 3339 date-time",
    ),
    (
        {"date_collected": "2026-04-01T10"},
        ValueError,
        r"fields\['date_collected'\] must be an RFC 3339 date-time",
    ),
    ({"starred": "yes"}, TypeError, r"fields\['starred'\] must be True or False \(or null\), got 'yes'"),
    ({"starred": 1}, TypeError, r"fields\['starred'\] must be True or False"),
    ({"name": 5}, TypeError, r"fields\['name'\] must be a string of at most 255 characters or null, got 5"),
    (
        {"name": "n" * 256},
        ValueError,
        r"fields\['name'\] must be a string of at most 255 .* got 256 characters",
    ),
    (
        {"external_sample_id": "x" * 100},
        ValueError,
        r"fields\['external_sample_id'\] .* at most 60 .* got 100",
    ),
    ({"location_string": "s" * 256}, ValueError, r"fields\['location_string'\] .* at most 255 characters"),
    ({"description": ["a"]}, TypeError, r"fields\['description'\] must be a string or null, got \['a'\]"),
    ({"platform": "Illumina NextSeq 2000"}, ValueError, r"fields\['platform'\] must be one of \['454 seq"),
    ({"library_type": "RNA-Seq"}, ValueError, r"fields\['library_type'\] must be one of \['WGS', "),
    ({"sample_type": 7}, ValueError, r"fields\['sample_type'\] must be one of \['Isolate', .* got 7"),
    (
        {"custom": {"nested": {"a": 1}}},
        TypeError,
        r"fields\['custom'\] must be a flat dict .* got \{'nested'",
    ),
]
#: changes at the edges of the rules, which One Codex takes
GOOD = [
    {"location_lat": -90, "location_lon": 180.0},
    {"location_lat": 0.5, "location_lon": -180},
    {"date_collected": "2026-04-01T09:30:00Z", "date_sequenced": "2026-04-02T10:00:00.5+02:00"},
    {"external_sample_id": "x" * 60, "name": "n" * 255, "location_string": "s" * 255, "description": ""},
    {"starred": False, "platform": "Oxford Nanopore MinION", "library_type": "Other", "sample_type": None},
    {"custom": {"qc": "pass", "reads": 12, "ok": True, "note": None}},
    dict.fromkeys(METADATA_RULES),  # null is allowed in every field
]


@pytest.mark.parametrize(("fields", "error", "message"), BAD, ids=lambda v: str(v)[:40])
def test_values_breaking_a_rule_are_refused_naming_the_field_and_the_rule(fields, error, message):
    with pytest.raises(error, match=message):
        validate_metadata_fields(fields)


def test_nan_is_in_no_range():
    with pytest.raises(
        ValueError, match=r"fields\['location_lat'\] must be a number from -90 to 90 .* got nan"
    ):
        validate_metadata_fields({"location_lat": float("nan")})


@pytest.mark.parametrize("fields", GOOD, ids=lambda v: str(v)[:40])
def test_values_keeping_the_rules_are_sent_as_given(fields):
    assert validate_metadata_fields(fields) == fields


def _patch(sim, fields) -> requests.Response:
    url = f"{sim.base_url}/api/v1/metadata/{METADATA_ID}"
    return requests.patch(url, json=fields, auth=(sim.api_key, ""), timeout=10)


@pytest.mark.parametrize(("fields", "error", "message"), BAD, ids=lambda v: str(v)[:40])
def test_the_simulator_refuses_what_the_provider_refuses(onecodex_simulator, fields, error, message):
    # the two checkers of the one set of rules agree: what the provider keeps from being sent, the
    # simulator (like One Codex) answers 400
    response = _patch(onecodex_simulator, fields)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("fields", GOOD, ids=lambda v: str(v)[:40])
def test_the_simulator_takes_what_the_provider_sends(onecodex_simulator, fields):
    response = _patch(onecodex_simulator, validate_metadata_fields(fields))
    assert response.status_code == 200, response.text
    changed = {k: v for k, v in fields.items() if not (k == "starred" and v is None)}  # null: unchanged
    assert {k: response.json()[k] for k in changed} == changed
