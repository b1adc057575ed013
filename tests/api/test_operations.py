"""The multi-step operations of api/, driven by a script of answers: no HTTP, no Airflow."""

from __future__ import annotations

import gzip
import json

import pytest

from airflow_provider_onecodex.api.analyses import classification_results
from airflow_provider_onecodex.api.downloads import OneCodexDownloadError
from airflow_provider_onecodex.api.errors import MalformedRecordError
from airflow_provider_onecodex.api.files import analysis_files
from airflow_provider_onecodex.api.ops import ApiCall, FetchUrl, Listing, run_op
from airflow_provider_onecodex.api.tags import tag_sample
from tests._scripted import scripted

ID, TAG_A, TAG_B = "0123456789abcdef", "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"
URL = "https://bucket.example/results.json.gz?signature=abc"
RESULTS = {"n_reads": 10, "host_tax_ids": [], "table": []}


def test_classification_results_use_results_uri_then_fall_back_to_results():
    record = {"$uri": f"/api/v1/classifications/{ID}", "results_uri": URL}
    perform, seen = scripted([gzip.compress(json.dumps(RESULTS).encode())])
    assert run_op(classification_results(ID, record=record), perform) == RESULTS
    assert seen == [FetchUrl(URL)]

    expired = OneCodexDownloadError(403, "GET", "https://bucket.example/results.json.gz", "expired")
    perform, seen = scripted([expired, RESULTS])
    assert run_op(classification_results(ID, record=record), perform) == RESULTS
    assert seen[1] == ApiCall("GET", f"/api/v1/classifications/{ID}/results")

    perform, seen = scripted([{"results_uri": None}, RESULTS])  # no link: the record, then /results
    assert run_op(classification_results(ID), perform) == RESULTS
    assert [e.path for e in seen] == [
        f"/api/v1/classifications/{ID}",
        f"/api/v1/classifications/{ID}/results",
    ]


def test_tag_sample_keeps_current_tags_and_sends_refs_when_all_exist():
    sample = {"$uri": f"/api/v1/samples/{ID}", "tags": [{"$ref": f"/api/v1/tags/{TAG_A}"}]}
    current = [{"$uri": f"/api/v1/tags/{TAG_A}", "name": "outbreak"}]
    known = [{"$uri": f"/api/v1/tags/{TAG_B}", "name": "qc-pass"}]
    perform, seen = scripted([sample, current, known, {"patched": True}])
    assert run_op(tag_sample(ID, ["qc-pass"]), perform) == {"patched": True}
    assert [type(e).__name__ for e in seen] == ["ApiCall", "Listing", "Listing", "ApiCall"]
    assert isinstance(seen[1], Listing) and seen[1].where == {"$uri": {"$in": [f"/api/v1/tags/{TAG_A}"]}}
    assert seen[3].json_body == {
        "tags": [{"$ref": f"/api/v1/tags/{TAG_A}"}, {"$ref": f"/api/v1/tags/{TAG_B}"}]
    }


def test_tag_sample_refuses_before_sending_names_that_would_drop_unreadable_tags():
    sample = {"tags": [{"$ref": f"/api/v1/tags/{TAG_A}"}]}
    perform, seen = scripted([sample, [], []])  # the key cannot read TAG_A; "qc-pass" is new
    with pytest.raises(ValueError, match="cannot read"):
        run_op(tag_sample(ID, ["qc-pass"]), perform)
    assert all(e.method != "PATCH" for e in seen if isinstance(e, ApiCall))


@pytest.mark.parametrize("name", ["../x", "a/b", "..", "", None])
def test_server_file_names_that_could_leave_the_folder_are_malformed_records(name):
    perform, _ = scripted([{"files": [{"filename": name, "size": 1, "url": URL}]}])
    with pytest.raises(MalformedRecordError, match="unusable file name"):
        run_op(analysis_files("analyses", ID), perform)


def test_file_selection_checks_names_before_any_request_and_against_the_answer():
    with pytest.raises(TypeError, match="filenames must be a list"):
        next(analysis_files("analyses", ID, filenames="a.tsv"))
    files = {"files": [{"filename": "a.tsv", "size": 3, "url": URL}, {"filename": "b.tsv", "url": URL}]}
    perform, _ = scripted([files])
    (only,) = run_op(analysis_files("alignments", ID, filenames=["b.tsv"]), perform)
    assert (only.filename, only.size) == ("b.tsv", None)
    perform, _ = scripted([files])
    with pytest.raises(ValueError, match=r"\['c.tsv'\] are not among"):
        run_op(analysis_files("alignments", ID, filenames=["c.tsv"]), perform)
