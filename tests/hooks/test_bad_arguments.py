"""Bad arguments to OneCodexHook fail with a TypeError/ValueError naming the argument and the value,
before any request reaches One Codex (the simulator sees none)."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

SAMPLE = "a1b2c3d4e5f60718"
METADATA = "3e7a000000000001"  # the demo sample's metadata record
CLASSIFICATION = "c1a5000000000001"
ALIGNMENT_JOB = "1d0b0000000000a1"


@pytest.fixture
def hook(onecodex_simulator, onecodex_connection):
    hook = OneCodexHook()
    yield hook
    hook.close()


CASES = {
    "latitude out of range": (
        lambda h: h.update_metadata(METADATA, fields={"location_lat": 200}),
        ValueError,
        r"fields\['location_lat'\] must be a number from -90 to 90 or null, got 200",
    ),
    "latitude not a number": (
        lambda h: h.update_sample_metadata(SAMPLE, fields={"location_lat": "north"}),
        TypeError,
        r"fields\['location_lat'\] must be a number from -90 to 90 or null, got 'north'",
    ),
    "date not a date-time": (
        lambda h: h.update_metadata(METADATA, fields={"date_collected": "yesterday"}),
        ValueError,
        r"fields\['date_collected'\] must be an RFC 3339 date-time string .* got 'yesterday'",
    ),
    "starred not a boolean": (
        lambda h: h.update_sample_metadata(SAMPLE, fields={"starred": "yes"}),
        TypeError,
        r"fields\['starred'\] must be True or False \(or null\), got 'yes'",
    ),
    "name not a string": (
        lambda h: h.update_metadata(METADATA, fields={"name": 5}),
        TypeError,
        r"fields\['name'\] must be a string of at most 255 characters or null, got 5",
    ),
    "external_sample_id too long": (
        lambda h: h.update_sample_metadata(SAMPLE, fields={"external_sample_id": "x" * 100}),
        ValueError,
        r"fields\['external_sample_id'\] must be a string of at most 60 characters or null, "
        r"got 100 characters",
    ),
    "merge_custom as text": (
        lambda h: h.update_metadata(METADATA, fields={"custom": {"qc": "pass"}}, merge_custom="false"),
        TypeError,
        r"^merge_custom must be True or False, got 'false'$",
    ),
    "merge_custom as text, by sample": (
        lambda h: h.update_sample_metadata(SAMPLE, fields={"custom": {"qc": "pass"}}, merge_custom="false"),
        TypeError,
        r"^merge_custom must be True or False, got 'false'$",
    ),
    "include_public as text": (
        lambda h: h.get_job_by_name("Alignment Run", include_public="yes"),
        TypeError,
        r"^include_public must be True or False, got 'yes'$",
    ),
    "use_results_uri as text": (
        lambda h: h.get_classification_results(CLASSIFICATION, use_results_uri="no"),
        TypeError,
        r"^use_results_uri must be True or False, got 'no'$",
    ),
    "record not a dict": (
        lambda h: h.fetch_results("classifications", CLASSIFICATION, record="foo"),
        TypeError,
        r"^record must be a dict \(the analysis record\) or None, got 'foo'$",
    ),
    "record not a dict, other route": (
        lambda h: h.fetch_results("alignments", "a1a1000000000028", record=["x"]),
        TypeError,
        r"^record must be a dict \(the analysis record\) or None, got \['x'\]$",
    ),
    "record of another analysis": (
        lambda h: h.fetch_results(
            "classifications", CLASSIFICATION, record={"$uri": "/api/v1/classifications/c1a5000000000002"}
        ),
        ValueError,
        r"record is the record of analysis c1a5000000000002, not of 'c1a5000000000001'",
    ),
    "tag with a newline": (
        lambda h: h.tag_sample(SAMPLE, tags=["ok", "a\nb"]),
        ValueError,
        r"tags\[1\] must not hold control characters \(tab, newline...\), got 'a\\nb'",
    ),
    "tag to remove with a tab": (
        lambda h: h.tag_sample(SAMPLE, tags=["ok"], remove=["qc\tpass"]),
        ValueError,
        r"remove\[0\] must not hold control characters .* got 'qc\\tpass'",
    ),
    "a tag both added and removed": (
        lambda h: h.tag_sample(SAMPLE, tags=["zz", "qc"], remove=["zz"]),
        ValueError,
        r"^tags and remove both name \['zz'\]: a tag cannot be added and taken off at once$",
    ),
    "unknown listing argument": (
        lambda h: h.list_samples(fooo=1),
        TypeError,
        r"^unknown listing argument 'fooo' \(expected one of: where, sort, per_page, max_records, "
        r"variant, max_pages; listings of one sample's analyses also: sample_id, tax_id \(alignments\), "
        r"analysis_type \(analyses\)\)$",
    ),
    "a misspelt filter of a by-sample listing": (
        lambda h: h.list_alignments(SAMPLE, taxid="1280"),
        TypeError,
        r"^unknown listing argument 'taxid' \(.* also: sample_id, tax_id \(alignments\)",
    ),
    "unknown listing argument, lazily": (
        lambda h: h.iter_records("samples", wher={"visibility": "private"}),
        TypeError,
        r"^unknown listing argument 'wher' \(expected one of: where, ",
    ),
    "unknown job run argument": (
        lambda h: h.run_job(ALIGNMENT_JOB, SAMPLE, jobargs={}),
        TypeError,
        r"^unknown job run argument 'jobargs' \(expected one of: job_args, dependencies, description, "
        r"populate_default_arguments\)$",
    ),
    "populate_default_arguments as text": (
        lambda h: h.run_job(ALIGNMENT_JOB, SAMPLE, populate_default_arguments="False"),
        TypeError,
        r"^populate_default_arguments must be True or False, got 'False'$",
    ),
    "analysis_type on a typed route": (
        lambda h: h.list_alignments(sample_id=SAMPLE, analysis_type="alignment"),
        ValueError,
        r"analysis_type filters /api/v1/analyses only, not resource='alignments'",
    ),
    "tax_id on all analyses": (
        lambda h: h.list_analyses(tax_id="1280"),
        ValueError,
        r"tax_id filters /api/v1/alignments only, not resource='analyses'",
    ),
    "analysis_type on a lazy listing": (
        lambda h: list(h.iter_alignments(analysis_type="alignment")),
        ValueError,
        r"analysis_type filters /api/v1/analyses only",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_arguments_fail_before_any_request(hook, onecodex_simulator, case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call(hook)
    assert onecodex_simulator.state.requests == []


def test_good_flags_and_tags_still_work(hook, onecodex_simulator):
    # the same calls with proper values do reach One Codex and do what they say
    updated = hook.update_metadata(METADATA, fields={"custom": {"qc": "pass"}}, merge_custom=False)
    assert updated["custom"] == {"qc": "pass"}  # replaced as a whole, not merged
    assert hook.get_job_by_name("Alignment Run", include_public=True)["name"] == "Alignment Run"
    tagged = hook.tag_sample(SAMPLE, tags=["qc pass"])
    names = [hook.get_tag(t["$ref"].rsplit("/", 1)[1])["name"] for t in tagged["tags"]]
    assert "qc pass" in names


def test_each_filter_on_its_own_route_still_works(hook, onecodex_simulator):
    alignments = hook.list_analyses(sample_id=SAMPLE, analysis_type="alignment")
    assert alignments and {a["analysis_type"] for a in alignments} == {"alignment"}
    by_reference = hook.list_alignments(sample_id=SAMPLE, tax_id="1280")
    assert by_reference and {a["tax_id"] for a in by_reference} == {"1280"}


def test_a_sample_id_given_as_a_metadata_id_says_which_method_to_use(hook, onecodex_simulator):
    from airflow_provider_onecodex.api.errors import OneCodexNotFoundError

    with pytest.raises(OneCodexNotFoundError) as missing:
        hook.update_metadata(SAMPLE, fields={"starred": True})
    assert f"no metadata record {SAMPLE}; for a sample id use update_sample_metadata" in str(missing.value)
    assert hook.update_sample_metadata(SAMPLE, fields={"starred": True})["starred"] is True
