"""Results say what they are; summaries at a chosen rank; functional profiles summarised as such."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.results import (
    classification_summary,
    count_rows,
    functional_summary,
    is_results_value,
    results_kind,
    results_value,
    summarize,
    summary_of,
    validate_rank,
)

ID = "0123456789abcdef"
SAMPLE = "a1b2c3d4e5f60718"


def _taxon(tax_id, name, rank, reads):
    return {"tax_id": tax_id, "name": name, "rank": rank, "readcount_w_children": reads, "readcount": 0}


CLASSIFICATION = {
    "n_reads": 1000,
    "host_tax_ids": [],
    "table": [
        _taxon("2", "Bacteria", "superkingdom", 900),
        _taxon("1224", "Pseudomonadota", "phylum", 700),
        _taxon("561", "Escherichia", "genus", 650),
        _taxon("562", "Escherichia coli", "species", 600),
        _taxon("1280", "Staphylococcus aureus", "species", 200),
    ],
}


def _feature(group, fid, metric, value, stratified=False, name=None):
    return {
        "group_name": group,
        "id": fid,
        "metric": metric,
        "name": name,
        "taxa_stratified": stratified,
        "taxon_id": None,
        "taxon_name": "g__X" if stratified else None,
        "value": value,
    }


FUNCTIONAL = {
    "n_reads": 5000,
    "n_mapped": 2500.0,
    "table": [
        _feature("pfam", "UNMAPPED", "total_cpm", 9e5),
        _feature("pfam", "PF00004", "total_cpm", 885.0, name="AAA ATPase"),
        _feature("pfam", "PF00005", "total_cpm", 990.0, name="ABC transporter"),
        _feature("pfam", "PF00005", "total_rpk", 1200.0, name="ABC transporter"),
        _feature("pfam", "PF00005", "cpm", 50.0, stratified=True, name="ABC transporter"),
        _feature("pathways", "PWY-1", "abundance", 12.5),
        _feature("pathways", "PWY-1", "coverage", 0.9),
    ],
}


def test_top_taxa_are_species_by_default_and_any_rank_with_none():
    by_default = classification_summary(CLASSIFICATION)
    assert by_default["rank"] == "species"
    assert [t["name"] for t in by_default["top_taxa"]] == ["Escherichia coli", "Staphylococcus aureus"]
    every_rank = summarize("classifications", CLASSIFICATION, rank=None)
    assert [t["name"] for t in every_rank["top_taxa"]][:2] == ["Bacteria", "Pseudomonadota"]
    genus = summarize("classifications", CLASSIFICATION, top_n=1, rank="genus")
    assert genus["top_taxa"] == [
        {
            "tax_id": "561",
            "name": "Escherichia",
            "rank": "genus",
            "readcount_w_children": 650,
            "abundance": None,
        }
    ]
    assert [t["name"] for t in genus["top_species"]] == ["Escherichia coli", "Staphylococcus aureus"]


@pytest.mark.parametrize(("rank", "error"), [("Species", ValueError), ("", ValueError), (7, TypeError)])
def test_rank_is_checked(rank, error):
    with pytest.raises(error, match="rank"):
        validate_rank(rank)


def test_functional_profiles_are_summarised_as_functional_results():
    for resource in ("functional_profiles", "analyses"):  # by route, and by shape on /analyses
        assert results_kind(resource, FUNCTIONAL) == "functional"
        summary = summarize(resource, FUNCTIONAL)
        assert summary == {
            "kind": "functional",
            "n_reads": 5000,
            "n_mapped": 2500.0,
            "n_rows": 7,
            "groups": ["pathways", "pfam"],
            "top_features": {
                "pathways": [{"id": "PWY-1", "name": None, "metric": "abundance", "value": 12.5}],
                "pfam": [
                    {"id": "PF00005", "name": "ABC transporter", "metric": "total_cpm", "value": 990.0},
                    {"id": "PF00004", "name": "AAA ATPase", "metric": "total_cpm", "value": 885.0},
                ],
            },
        }
    assert count_rows("functional_profiles", FUNCTIONAL) == 7
    assert functional_summary(FUNCTIONAL, 1)["top_features"]["pfam"][0]["id"] == "PF00005"


def test_results_value_says_what_the_results_are():
    value = results_value("classifications", ID, SAMPLE, CLASSIFICATION)
    assert value == {
        "resource": "classifications",
        "analysis_id": ID,
        "sample_id": SAMPLE,
        "results": CLASSIFICATION,
    }
    assert is_results_value(value) and not is_results_value(CLASSIFICATION)
    assert summary_of("classifications", value) == summarize("classifications", CLASSIFICATION)
    # the envelope's own resource decides, whatever the caller passes
    assert (
        summary_of("analyses", results_value("functional_profiles", ID, None, FUNCTIONAL))["kind"]
        == "functional"
    )
