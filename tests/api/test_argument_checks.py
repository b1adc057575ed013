"""Argument checks shared by operations: flags, unknown keyword arguments, the filters a listing by
sample takes on each route, and the ``record`` of a results fetch; all before any request."""

from __future__ import annotations

import json

import pytest
import requests

from airflow_provider_onecodex.api import analyses, job_actions, metadata
from airflow_provider_onecodex.api.jobs import JobRun
from airflow_provider_onecodex.api.ops import Listing, list_records
from airflow_provider_onecodex.api.resources import validate_flag
from airflow_provider_onecodex.api.waiting import WaitSpec

ID = "0123456789abcdef"
SAMPLE = "a1b2c3d4e5f60718"  # the demo scenario's sample (simulator)


@pytest.mark.parametrize("value", ["false", "yes", 0, 1, None, "True"])
def test_a_flag_is_true_or_false_only(value):
    with pytest.raises(TypeError, match=rf"^merge_custom must be True or False, got {value!r}$"):
        validate_flag(value, "merge_custom")
    assert validate_flag(False, "merge_custom") is False


@pytest.mark.parametrize(
    ("op", "name", "value"),
    [
        (lambda: metadata.update_metadata(ID, {"name": "n"}, merge_custom="false"), "merge_custom", "false"),
        (lambda: metadata.update_sample_metadata(ID, {"name": "n"}, merge_custom=0), "merge_custom", 0),
        (lambda: job_actions.get_job_by_name("Alignment Run", include_public="yes"), "include_public", "yes"),
        (lambda: analyses.classification_results(ID, use_results_uri="no"), "use_results_uri", "no"),
    ],
)
def test_operations_refuse_truthy_stand_ins_for_flags_before_any_effect(op, name, value):
    with pytest.raises(TypeError, match=rf"^{name} must be True or False, got {value!r}$"):
        next(op())


def test_a_wait_spec_flag_is_true_or_false_only():
    with pytest.raises(TypeError, match=r"^spec\['single'\] must be True or False, got 'yes'$"):
        WaitSpec.from_dict({"resource": "alignments", "ids": [ID], "single": "yes"})


def test_unknown_listing_arguments_are_named_with_the_known_ones():
    with pytest.raises(TypeError) as raised:
        next(list_records("samples", fooo=1, max_record=5))
    assert str(raised.value) == (
        "unknown listing arguments 'fooo', 'max_record' (expected one of: where, sort, per_page, "
        "max_records, variant, max_pages; listings of one sample's analyses also: sample_id, tax_id "
        "(alignments), analysis_type (analyses))"
    )
    assert Listing.of("samples", max_records=5) == Listing("samples", max_records=5)


def test_unknown_job_run_arguments_are_named_with_the_known_ones():
    with pytest.raises(TypeError) as raised:
        JobRun.build(ID, SAMPLE, jobargs={})
    assert str(raised.value) == (
        "unknown job run argument 'jobargs' (expected one of: job_args, dependencies, description, "
        "populate_default_arguments)"
    )
    assert JobRun.build(ID, SAMPLE, job_args={"tax_id": "1280"}).job_args == {"tax_id": "1280"}


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: analyses.fetch_results("classifications", ID, record="foo"),
            TypeError,
            r"^record must be a dict \(the analysis record\) or None, got 'foo'$",
        ),
        (
            lambda: analyses.fetch_results("panels", ID, record=7),
            TypeError,
            r"^record must be a dict \(the analysis record\) or None, got 7$",
        ),
        (
            lambda: analyses.classification_results(
                ID, record={"$uri": "/api/v1/classifications/ffffffffffffffff"}
            ),
            ValueError,
            r"record is the record of analysis ffffffffffffffff, not of '0123456789abcdef'",
        ),
        (
            lambda: analyses.fetch_results("classifications", "nope", record="foo"),
            ValueError,
            r"classification_id must be a One Codex id",
        ),  # the id is checked first
    ],
)
def test_a_bad_record_is_refused_before_any_effect(call, error, message):
    with pytest.raises(error, match=message):
        next(call())


def test_the_callers_record_saves_a_get():
    record = {"$uri": f"/api/v1/classifications/{ID}", "results_uri": None}
    effect = next(analyses.fetch_results("classifications", ID, record=record))
    assert (effect.method, effect.path) == ("GET", f"/api/v1/classifications/{ID}/results")


# -- filters of a listing by sample ------------------------------------------------------------------


def test_sample_listing_where_takes_each_filter_on_its_route():
    assert analyses.sample_listing_where("analyses", SAMPLE, analysis_type="alignment") == {
        "sample": {"$ref": f"/api/v1/samples/{SAMPLE}"},
        "analysis_type": "alignment",
    }
    assert analyses.sample_listing_where("alignments", SAMPLE, tax_id=1280) == {
        "sample": {"$ref": f"/api/v1/samples/{SAMPLE}"},
        "tax_id": "1280",
    }
    assert analyses.sample_listing_where("classifications", where={"complete": True}) == {"complete": True}
    assert analyses.sample_listing_where("panels") is None


@pytest.mark.parametrize(
    ("resource", "filters", "message"),
    [
        (
            "alignments",
            {"analysis_type": "alignment"},
            r"^analysis_type filters /api/v1/analyses only, not resource='alignments' .* "
            r"list 'analyses' with "
            r"analysis_type='alignment', or drop it$",
        ),
        ("classifications", {"analysis_type": "classification"}, r"not resource='classifications'"),
        ("analyses", {"tax_id": "1280"}, r"^tax_id filters /api/v1/alignments only, not resource='analyses'"),
        ("analyses", {"analysis_type": "alignments"}, r"^analysis_type must be one of \['alignment', "),
        (
            "analyses",
            {"analysis_type": ["alignment"]},
            r"^analysis_type must be one of .* got \['alignment'\]$",
        ),
        ("alignment", {}, r"^resource must be one of"),
    ],
)
def test_sample_listing_where_refuses_a_filter_the_route_has_not(resource, filters, message):
    with pytest.raises(ValueError, match=message):
        analyses.sample_listing_where(resource, SAMPLE, **filters)


@pytest.mark.parametrize(
    ("resource", "field", "value"),
    [
        ("alignments", "analysis_type", "alignment"),
        ("classifications", "analysis_type", "classification"),
        ("analyses", "tax_id", "1280"),
    ],
)
def test_the_refused_filters_are_the_ones_the_server_refuses(onecodex_simulator, resource, field, value):
    # why they are refused: One Codex (and the simulator) answers 400 for them on that route...
    sim = onecodex_simulator
    where = json.dumps({"sample": SAMPLE, field: value})
    url = f"{sim.base_url}/api/v1/{resource}"
    response = requests.get(url, params={"where": where}, auth=(sim.api_key, ""), timeout=10)
    assert response.status_code == 400 and field in response.text
    # ...and takes them where sample_listing_where sends them
    route = analyses.FILTERED_ONLY_ON[field]
    where = json.dumps(analyses.sample_listing_where(route, SAMPLE, **{field: value}))
    response = requests.get(
        f"{sim.base_url}/api/v1/{route}", params={"where": where}, auth=(sim.api_key, ""), timeout=10
    )
    assert response.status_code == 200, response.text
