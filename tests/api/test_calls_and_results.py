"""Route builders, argument checks, tag merging, the first request of each operation, and results
summaries (no I/O)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_onecodex.api import analyses, files, metadata
from airflow_provider_onecodex.api import tags as tag_ops
from airflow_provider_onecodex.api.results import (
    alignment_summary,
    classification_summary,
    compact_json,
    count_rows,
    is_stored_results,
    panel_summary,
    summarize,
    summary_of,
    top_taxa,
    validate_xcom_max_bytes,
)
from airflow_provider_onecodex.testing import analysis_results
from airflow_provider_onecodex.testing import results as generated

ID = "0123456789abcdef"


# -- sub-routes and writes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "name", "path"),
    [
        ("classifications", "results", f"/api/v1/classifications/{ID}/results"),
        ("alignments", "results", f"/api/v1/alignments/{ID}/results"),
        ("panels", "file_details", f"/api/v1/panels/{ID}/file_details"),
        ("analyses", "results", f"/api/v1/analyses/{ID}/results"),
        ("classifications", "raw_results", f"/api/v1/classifications/{ID}/raw_results"),
        ("classifications", "readlevel", f"/api/v1/classifications/{ID}/readlevel"),
    ],
)
def test_sub_routes(resource, name, path):
    call = analyses.sub_route(resource, ID, name)
    assert (call.method, call.path, call.json_body) == ("GET", path, None)


@pytest.mark.parametrize(
    ("resource", "name", "record_id", "message"),
    [
        ("alignments", "readlevel", ID, "readlevel exists on ['classifications']"),
        ("panels", "raw_results", ID, "not on resource='panels'"),
        ("samples", "results", ID, "not on resource='samples'"),
        ("classifications", "logs", ID, "sub-route must be one of"),
        ("classifications", "results", "0123", "classification_id must be a One Codex id"),
        ("bogus", "results", ID, "resource must be one of"),
    ],
)
def test_sub_route_refuses_bad_arguments(resource, name, record_id, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        analyses.sub_route(resource, record_id, name)


def test_download_uri_is_a_post_on_documents_and_samples_only():
    call = files.download_uri("documents", ID)
    assert (call.method, call.path) == ("POST", f"/api/v1/documents/{ID}/download_uri")
    with pytest.raises(ValueError, match="download_uri exists on"):
        files.download_uri("alignments", ID)


@pytest.mark.parametrize("field", ["sample", "$uri", "updated_at"])
def test_metadata_patch_refuses_read_only_fields(field):
    with pytest.raises(ValueError, match=rf"must not include \['\{field}'\]" if field == "$uri" else field):
        next(metadata.update_metadata(ID, {"name": "x", field: "y"}))


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({}, ValueError, "at least one metadata field"),
        ({"nmae": "typo"}, ValueError, r"unknown metadata fields \['nmae'\]"),
        ({"custom": {"nested": {"a": 1}}}, TypeError, "strings, numbers, booleans or null"),
        ({"custom": ["qc"]}, TypeError, "must be a flat dict"),
        ("not json", ValueError, "must be a JSON object"),
        (["name"], TypeError, "must be a dict of metadata fields"),
        ({"name": {1, 2}}, TypeError, r"fields\['name'\] must be a string"),
        ({"custom": {"ratio": float("inf")}}, ValueError, "finite numbers only"),
    ],
)
def test_metadata_fields_are_checked(fields, error, message):
    with pytest.raises(error, match=message):
        metadata.validate_metadata_fields(fields)


def test_metadata_patch_sends_only_the_given_fields():
    op = metadata.update_metadata(f"/api/v1/metadata/{ID}", '{"custom": {"qc": "pass"}, "starred": true}')
    current = next(op)  # custom is merged over the current keys: the record is read first
    assert (current.method, current.path) == ("GET", f"/api/v1/metadata/{ID}")
    call = op.send({"custom": {"qc": "fail", "site": "N"}, "name": "old"})
    assert (call.method, call.path) == ("PATCH", f"/api/v1/metadata/{ID}")
    assert call.json_body == {"custom": {"qc": "pass", "site": "N"}, "starred": True}
    replace = next(metadata.update_metadata(ID, {"custom": {"qc": "pass"}}, merge_custom=False))
    assert (replace.method, replace.json_body) == ("PATCH", {"custom": {"qc": "pass"}})


def test_merge_custom_keeps_other_keys_and_leaves_other_fields_alone():
    current = {"custom": {"facility": "North", "qc": "fail"}, "name": "old"}
    assert metadata.merge_custom(current, {"custom": {"qc": "pass"}, "name": "new"}) == {
        "custom": {"facility": "North", "qc": "pass"},
        "name": "new",
    }
    assert metadata.merge_custom(current, {"name": "new"}) == {"name": "new"}
    assert metadata.merge_custom({"custom": None}, {"custom": {"qc": "x"}}) == {"custom": {"qc": "x"}}


@pytest.mark.parametrize(
    ("tags", "error", "message"),
    [
        ("qc-pass", TypeError, "must be a list of tag names"),
        ([], ValueError, "at least one tag"),
        (["ok", ""], ValueError, r"tags\[1\] must be 1 to 30 characters"),
        (["x" * 31], ValueError, "1 to 30 characters"),
        ([7], TypeError, r"tags\[0\] must be a tag name"),
        (["ok", "a\nb"], ValueError, r"tags\[1\] must not hold control characters .* got 'a\\nb'"),
        (["qc\tpass"], ValueError, r"tags\[0\] must not hold control characters .* got 'qc\\tpass'"),
        (["a\u2028b"], ValueError, r"tags\[0\] must not hold control characters"),
    ],
)
def test_tag_names_are_checked(tags, error, message):
    with pytest.raises(error, match=message):
        tag_ops.validate_tag_names(tags)


def test_tag_names_dedupe_and_accept_json_text():
    assert tag_ops.validate_tag_names('["a", " b ", "a"]') == ["a", "b"]
    assert tag_ops.validate_tag_names([], allow_empty=True) == []
    assert tag_ops.validate_tag_names(["qc pass\n", "Ünïcode ✓"]) == ["qc pass", "Ünïcode ✓"]


def _tag(i: str, name: str) -> dict[str, str]:
    return {"$uri": f"/api/v1/tags/{i}", "name": name}


A, B, C = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"


def test_plan_tags_sends_refs_when_every_tag_exists():
    plan = tag_ops.plan_tags({A: "outbreak"}, [_tag(B, "qc-pass")], ["qc-pass"], [])
    assert plan.body == {"tags": [{"$ref": f"/api/v1/tags/{A}"}, {"$ref": f"/api/v1/tags/{B}"}]}
    assert plan.names == ["outbreak", "qc-pass"]


def test_plan_tags_sends_names_when_one_is_new_and_keeps_current_ones():
    plan = tag_ops.plan_tags({A: "outbreak", C: "qc-fail"}, [], ["qc-pass"], ["qc-fail"])
    assert plan.body == {"tags": [{"name": "outbreak"}, {"name": "qc-pass"}]}


def test_plan_tags_without_change_sends_nothing():
    assert tag_ops.plan_tags({A: "outbreak"}, [], ["outbreak"], ["qc-fail"]).body is None


def test_update_sample_takes_known_fields_only():
    assert tag_ops.update_sample(ID, {"tags": []}).path == f"/api/v1/samples/{ID}"
    with pytest.raises(ValueError, match=r"not \['sample'\]"):
        tag_ops.update_sample(ID, {"sample": 1})


# -- results summaries -----------------------------------------------------------------------------


def _row(tax_id, name, rank, reads, abundance=None):
    return {
        "tax_id": tax_id,
        "name": name,
        "rank": rank,
        "readcount_w_children": reads,
        "abundance": abundance,
    }


RESULTS = {
    "n_reads": 1000,
    "host_tax_ids": ["9606"],
    "table": [
        _row("1", "root", "no rank", 990),
        _row("131567", "cellular organisms", "no rank", 990),
        _row("9606", "Homo sapiens", "species", 400),
        _row("2", "Bacteria", "superkingdom", 590),
        _row("562", "Escherichia coli", "species", 300, 0.6),
        _row("1280", "Staphylococcus aureus", "species", 200, 0.4),
    ],
}


def test_top_taxa_excludes_host_and_nonspecific_rows_and_sorts_by_reads():
    assert [t["tax_id"] for t in top_taxa(RESULTS)] == ["2", "562", "1280"]
    assert top_taxa(RESULTS, 1) == [
        {
            "tax_id": "2",
            "name": "Bacteria",
            "rank": "superkingdom",
            "readcount_w_children": 590,
            "abundance": None,
        }
    ]
    assert [t["name"] for t in top_taxa(RESULTS, rank="species")] == [
        "Escherichia coli",
        "Staphylococcus aureus",
    ]
    with pytest.raises(ValueError, match="n must be a positive int"):
        top_taxa(RESULTS, 0)


def test_classification_summary_counts_host_reads():
    summary = classification_summary(RESULTS)
    assert (summary["host_readcount"], summary["host_fraction"], summary["n_taxa"]) == (400, 0.4, 6)
    assert summary["top_species"][0]["tax_id"] == "562"


def test_generated_classification_summary_is_realistic():
    results = generated.classification_results(
        "c1a5000000000001", {"dominant": "1639", "host_fraction": 0.01}
    )
    summary = classification_summary(results)
    assert summary["top_species"][0]["name"] == "Listeria monocytogenes"
    assert 0.009 < summary["host_fraction"] < 0.011
    rows = results["table"]
    assert [r["readcount_w_children"] for r in rows] == sorted(
        (r["readcount_w_children"] for r in rows), reverse=True
    )
    by_id = {r["tax_id"]: r for r in rows}
    for row in rows:  # every count with children is the own count plus the children's
        children = sum(r["readcount_w_children"] for r in rows if r["parent_tax_id"] == row["tax_id"])
        assert row["readcount_w_children"] == row["readcount"] + children
        assert row["parent_tax_id"] is None or row["parent_tax_id"] in by_id


def test_alignment_and_panel_summaries():
    results = analysis_results.alignment_results("a1a1000000001280", "1280", {"average_coverage": 42.0})
    summary = alignment_summary(results)
    assert summary["average_coverage"] == 42.0 and summary["genome_taxon_id"] == "1280"
    assert (
        summary["n_bins"]
        == count_rows("alignments", results)
        == len(results["coverage"]["binned_depths"][0]["depths"])
    )
    assert "coverage" not in summary
    panel = analysis_results.panel_results(ID, "AMR", {"present": ["mecA"], "probable": ["blaZ"]})
    assert panel_summary(panel)["present"] == ["mecA"] and panel_summary(panel)["probable"] == ["blaZ"]
    assert summarize("analyses", panel)["kind"] == "panel"  # /analyses: recognised by shape
    assert summarize("workflows", {"b": 1, "a": 2}) == {"kind": "other", "keys": ["a", "b"]}


def test_summary_of_reads_either_xcom_form():
    pointer = {"uri": "file:///x", "size": 1, "sha256": "0", "rows": 6, "summary": {"kind": "classification"}}
    assert is_stored_results(pointer) and not is_stored_results(RESULTS)
    assert summary_of("classifications", pointer) == {"kind": "classification"}
    assert summary_of("classifications", RESULTS)["n_taxa"] == 6


def test_compact_json_is_what_the_limit_measures():
    assert compact_json({"a": [1, 2], "b": "é"}) == '{"a":[1,2],"b":"é"}'.encode()
    assert len(compact_json(RESULTS)) == len(json.dumps(RESULTS, separators=(",", ":")).encode())


@pytest.mark.parametrize(
    ("value", "error"), [(-1, ValueError), (True, TypeError), ("big", TypeError), (1.5, TypeError)]
)
def test_xcom_limit_is_checked(value, error):
    with pytest.raises(error, match="xcom_max_bytes"):
        validate_xcom_max_bytes(value)
    assert validate_xcom_max_bytes("49152") == 49152
