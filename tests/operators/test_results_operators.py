"""The sample-workflow operators against the simulator: the XCom policy both ways, file downloads,
metadata and tags."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_onecodex.api.results import classification_summary
from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from airflow_provider_onecodex.operators.onecodex import (
    OneCodexDownloadFilesOperator,
    OneCodexFetchResultsOperator,
    OneCodexTagSampleOperator,
    OneCodexUpdateMetadataOperator,
)
from airflow_provider_onecodex.operators.storage import XComTooLargeError

MAIN, META_MAIN = "a1b2c3d4e5f60718", "3e7a000000000001"
CLS_MAIN, CLS_WASTEWATER, CLS_STOOL = "c1a5000000000001", "c1a5000000000002", "c1a5000000000004"
ALN_OK, ALN_FAILED = "a1a1000000001280", "a1a1000000001639"


def fetch(**kwargs):
    return OneCodexFetchResultsOperator(task_id="fetch", **kwargs)


def read_pointer(pointer):
    content = Path(pointer["uri"].removeprefix("file://")).read_bytes()
    assert len(content) == pointer["size"]
    assert hashlib.sha256(content).hexdigest() == pointer["sha256"]
    return json.loads(content)


def test_small_results_are_the_xcom_value(use_sim, tmp_path):
    value = fetch(resource="classifications", analysis_id=CLS_MAIN, destination=str(tmp_path)).execute({})
    assert value == {  # what the results are, then the results
        "resource": "classifications",
        "analysis_id": CLS_MAIN,
        "sample_id": "a1b2c3d4e5f60718",
        "results": OneCodexHook().get_results("classifications", CLS_MAIN),
    }
    assert len(json.dumps(value, separators=(",", ":"))) <= 49152
    assert list(tmp_path.iterdir()) == []  # nothing written below the threshold


@pytest.mark.parametrize("as_url", [True, False])
def test_large_results_go_to_storage_with_a_summary(use_sim, tmp_path, as_url):
    destination = f"file://{tmp_path}/results" if as_url else str(tmp_path / "results")
    pointer = fetch(resource="classifications", analysis_id=CLS_WASTEWATER, destination=destination).execute(
        {}
    )
    assert set(pointer) == {
        "uri",
        "size",
        "sha256",
        "rows",
        "resource",
        "analysis_id",
        "sample_id",
        "summary",
    }
    assert (pointer["resource"], pointer["analysis_id"]) == ("classifications", CLS_WASTEWATER)
    assert pointer["sample_id"] == "b2c3d4e5f6071829"  # joins results to samples without map order
    assert pointer["uri"] == f"file://{tmp_path}/results/classifications-{CLS_WASTEWATER}.json"
    results = read_pointer(pointer)
    assert pointer["size"] > 49152 and pointer["rows"] == len(results["table"])
    summary = pointer["summary"]
    assert summary == {"kind": "classification", **classification_summary(results)}
    assert len(summary["top_taxa"]) == 10
    assert not {t["tax_id"] for t in summary["top_taxa"]} & {"1", "131567", *results["host_tax_ids"]}
    reads = [t["readcount_w_children"] for t in summary["top_taxa"]]
    assert reads == sorted(reads, reverse=True)
    assert len(json.dumps(pointer)) < 4096  # what reaches XCom stays small


def test_large_results_without_destination_fail_before_xcom(use_sim):
    with pytest.raises(XComTooLargeError) as info:
        fetch(resource="classifications", analysis_id=CLS_WASTEWATER).execute({})
    size = len(
        json.dumps(OneCodexHook().get_results("classifications", CLS_WASTEWATER), separators=(",", ":"))
    )
    message = str(info.value)
    assert f"{size} bytes of JSON" in message and "xcom_max_bytes=49152" in message
    assert "destination=" in message
    assert isinstance(info.value, AirflowFailException)  # a configuration problem: no retries


def test_limit_and_always_store_choose_storage_for_small_results(use_sim, tmp_path):
    pointer = fetch(
        resource="alignments", analysis_id=ALN_OK, destination=tmp_path, xcom_max_bytes=0
    ).execute({})
    results = read_pointer(pointer)
    summary = pointer["summary"]
    assert summary["average_coverage"] == results["average_coverage"] == 0.62
    assert summary["median_depth"] == results["median_depth"] and summary["n_mapped"] == results["n_mapped"]
    assert pointer["rows"] == summary["n_bins"] == len(results["coverage"]["binned_depths"][0]["depths"])
    stored = fetch(resource="panels", analysis_id="9a4e000000000001", destination=tmp_path, always_store=True)
    assert stored.execute({})["summary"]["present"] == ["hly", "inlA"]


def test_pending_analysis_fails_so_that_task_retries_apply(use_fresh):
    # the fresh simulator is at 0 s: the stool classification completes at 3 s
    with pytest.raises(AirflowException) as pending:
        fetch(resource="classifications", analysis_id=CLS_STOOL).execute({})
    assert not isinstance(pending.value, AirflowFailException)
    assert "not complete yet" in str(pending.value)


def test_failed_analysis_has_no_results(use_sim):
    with pytest.raises(AirflowFailException, match=f"{ALN_FAILED} failed: Reference genome coverage too low"):
        fetch(resource="alignments", analysis_id=ALN_FAILED).execute({})


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"resource": "samples"}, ValueError, "resource must be one of"),
        ({"xcom_max_bytes": -1}, ValueError, "xcom_max_bytes"),
        ({"destination": 42}, TypeError, "destination must be a path"),
        ({"top_n": 0}, ValueError, "top_n"),
        ({"analysis_id": "c1a5"}, ValueError, "analysis_id must be a One Codex id"),
    ],
)
def test_bad_arguments_fail_before_any_request(use_sim, kwargs, error, message):
    kwargs = {"resource": "classifications", "analysis_id": CLS_MAIN, **kwargs}
    with pytest.raises(error, match=message):
        fetch(**kwargs).execute({})
    assert use_sim.state.count() == 0


def test_download_files_operator_pushes_locations_not_links(use_sim, tmp_path):
    files = OneCodexDownloadFilesOperator(
        task_id="download", analysis_id=CLS_MAIN, destination=f"file://{tmp_path}", resource="classifications"
    ).execute({})
    assert sorted(f["filename"] for f in files) == [
        "classification_results.tsv",
        "classification_summary.json",
    ]
    for f in files:
        assert set(f) == {"filename", "uri", "size", "sha256"}
        assert hashlib.sha256((tmp_path / f["filename"]).read_bytes()).hexdigest() == f["sha256"]
    assert "signature" not in json.dumps(files) and "/_files/" not in json.dumps(files)
    with pytest.raises(ValueError, match="destination is required"):
        OneCodexDownloadFilesOperator(task_id="d", analysis_id=CLS_MAIN, destination="").execute({})


def test_update_metadata_operator(use_fresh):
    updated = OneCodexUpdateMetadataOperator(
        task_id="qc", sample_id=MAIN, fields={"custom": {"qc_verdict": "pass"}, "starred": True}
    ).execute({})
    assert updated["custom"] == {
        "facility": "North lab",
        "ct_value": 21.4,
        "repeat": False,
        "qc_verdict": "pass",
    }
    assert updated["starred"] is True
    replaced = OneCodexUpdateMetadataOperator(
        task_id="qc", metadata_id=META_MAIN, fields='{"custom": {"qc_verdict": "fail"}}', merge_custom=False
    ).execute({})
    assert replaced["custom"] == {"qc_verdict": "fail"}
    patches = [r for r in use_fresh.state.requests if r.method == "PATCH"]
    assert [r.path for r in patches] == [f"/api/v1/metadata/{META_MAIN}"] * 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_id": MAIN, "fields": {"sample": {"$ref": f"/api/v1/samples/{MAIN}"}}}, "read-only"),
        ({"sample_id": MAIN, "metadata_id": META_MAIN, "fields": {"name": "x"}}, "exactly one of"),
        ({"fields": {"name": "x"}}, "exactly one of"),
        ({"metadata_id": META_MAIN, "fields": {"updated_at": "2026-01-01T00:00:00Z"}}, "read-only"),
    ],
)
def test_update_metadata_operator_refuses_before_any_request(use_fresh, kwargs, message):
    with pytest.raises(ValueError, match=message):
        OneCodexUpdateMetadataOperator(task_id="qc", **kwargs).execute({})
    assert use_fresh.state.count() == 0


def test_tag_sample_operator_keeps_other_tags(use_fresh):
    tagged = OneCodexTagSampleOperator(task_id="tag", sample_id=MAIN, tags=["qc-review"]).execute({})
    names = {t.id: t.name for t in use_fresh.state.tags.values()}
    assert [names[t["$ref"][-16:]] for t in tagged["tags"]] == ["outbreak", "isolate", "WGS", "qc-review"]
    again = OneCodexTagSampleOperator(
        task_id="tag", sample_id=MAIN, tags=["qc-pass"], remove=["qc-review"]
    ).execute({})
    names = {t.id: t.name for t in use_fresh.state.tags.values()}
    assert [names[t["$ref"][-16:]] for t in again["tags"]] == ["outbreak", "isolate", "WGS", "qc-pass"]
    with pytest.raises(TypeError, match="list of tag names"):
        OneCodexTagSampleOperator(task_id="tag", sample_id=MAIN, tags="qc-pass").execute({})


def test_functional_profile_results_are_summarised_as_functional(
    onecodex_simulator, onecodex_connection, tmp_path
):
    """Over real HTTP, by route and through /analyses: never "ten taxa named None"."""
    for resource in ("functional_profiles", "analyses"):
        pointer = fetch(
            resource=resource, analysis_id="f0f0000000000001", destination=str(tmp_path), always_store=True
        ).execute({})
        assert (pointer["analysis_id"], pointer["sample_id"]) == ("f0f0000000000001", "c3d4e5f60718293a")
        summary = pointer["summary"]
        assert summary["kind"] == "functional" and "top_taxa" not in summary
        assert summary["groups"] and set(summary["top_features"]) <= set(summary["groups"])
        for features in summary["top_features"].values():
            values = [f["value"] for f in features]
            assert values == sorted(values, reverse=True) and all(f["id"] for f in features)
