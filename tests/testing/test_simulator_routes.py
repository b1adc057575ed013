"""The sample-workflow routes against the simulator over loopback HTTP: the sync and the async driver
return the same data for the same operation, pre-signed links behave like S3's (no auth, expiry, signatures), sizes are
checked and failed analyses have no results."""

from __future__ import annotations

import gzip
import hashlib
import json
from urllib.parse import urlsplit

import pytest
import requests

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.analyses import classification_results
from airflow_provider_onecodex.api.batch import list_by_ids
from airflow_provider_onecodex.api.downloads import (
    OneCodexDownloadError,
    OneCodexDownloadSizeError,
    decompress,
)
from airflow_provider_onecodex.api.errors import OneCodexNotFoundError
from airflow_provider_onecodex.api.metadata import get_sample_metadata
from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from airflow_provider_onecodex.triggers.connection import ConnectionClient

MAIN, STOOL = "a1b2c3d4e5f60718", "d4e5f60718293a4b"
CLS_MAIN, CLS_WASTEWATER, CLS_STOOL = "c1a5000000000001", "c1a5000000000002", "c1a5000000000004"
ALN_OK, ALN_FAILED, PANEL = "a1a1000000001280", "a1a1000000001639", "9a4e000000000001"
DOCUMENT, EVENT, TAG, JOB, META = (
    "d0c0000000000001",
    "e0e0000000000001",
    "7a90000000000001",
    "1d0b0000000000a1",
    "3e7a000000000001",
)

CALLS = [
    ("list_samples", (), {}),
    ("list_public_samples", (), {}),
    ("list_organization_samples", (), {}),
    ("list_metadata", (), {"where": {"external_sample_id": "LIMS-0412-07"}}),
    ("get_metadata", (META,), {}),
    ("get_sample_metadata", (MAIN,), {}),
    ("list_tags", (), {"where": {"name": {"$in": ["outbreak", "WGS"]}}}),
    ("get_tag", (TAG,), {}),
    ("list_analyses", (MAIN,), {"analysis_type": "classification"}),
    ("get_analysis_results", (PANEL,), {}),
    ("get_file_details", ("alignments", ALN_OK), {}),
    ("list_classifications", (STOOL,), {}),
    ("get_classification", (CLS_MAIN,), {}),
    ("get_classification_results", (CLS_MAIN,), {}),
    ("get_classification_raw_results", (CLS_MAIN,), {}),
    ("get_classification_readlevel", (CLS_MAIN,), {}),
    ("list_panels", (MAIN,), {}),
    ("get_panel", (PANEL,), {}),
    ("get_panel_results", (PANEL,), {}),
    ("get_alignment_results", (ALN_OK,), {}),
    ("fetch_results", ("classifications", CLS_STOOL), {}),
    ("list_jobs", (), {}),
    ("get_job", (JOB,), {}),
    ("list_documents", (), {}),
    ("get_document", (DOCUMENT,), {}),
    ("list_events", (), {}),
    ("get_event", (EVENT,), {}),
]


def _without_signatures(value):
    """Pre-signed links differ by expiry second: compare them without their query strings."""
    text = json.dumps(value, sort_keys=True)
    return (
        json.loads(text)
        if "?expires=" not in text
        else json.loads(__import__("re").sub(r"\?expires=\d+&signature=[0-9a-f]+", "?<signed>", text))
    )


@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=[c[0] for c in CALLS])
def test_every_read_method_answers_from_the_demo_scenario(use_sim, method, args, kwargs):
    hook = OneCodexHook()
    try:
        assert getattr(hook, method)(*args, **kwargs), f"{method} returned nothing from the demo scenario"
    finally:
        hook.close()


OPS = [
    ("multi-step", lambda: get_sample_metadata(MAIN)),
    ("results_uri fetch", lambda: classification_results(CLS_STOOL)),
    ("listing", lambda: ops.list_records("analyses", where={"analysis_type": "panel"})),
    ("batch", lambda: list_by_ids("alignments", [ALN_OK, ALN_FAILED])),
]


@pytest.mark.parametrize("make_op", [o[1] for o in OPS], ids=[o[0] for o in OPS])
async def test_the_sync_and_the_async_driver_give_the_same_result(use_sim, make_op):
    sync_hook, connection = OneCodexHook(), ConnectionClient("onecodex_default")
    try:
        expected = sync_hook.run(make_op())
        got = await (await connection.current()).run(make_op())
    finally:
        sync_hook.close()
        await connection.aclose()
    assert expected
    assert _without_signatures(got) == _without_signatures(expected)


def test_listings_and_records_have_the_documented_shapes(use_sim):
    hook = OneCodexHook()
    assert [s["$uri"][-16:] for s in hook.list_public_samples()] == ["c3d4e5f60718293a"]
    assert hook.get_sample_metadata(MAIN)["$uri"] == f"/api/v1/metadata/{META}"
    assert {a["analysis_type"] for a in hook.list_analyses(MAIN)} == {"alignment", "classification", "panel"}
    results = hook.get_classification_results(CLS_WASTEWATER)
    assert set(results) == {"n_reads", "host_tax_ids", "table"} and len(results["table"]) > 250
    assert len(json.dumps(results, separators=(",", ":"))) > 49152  # too large for XCom by default
    raw = hook.get_classification_raw_results(CLS_MAIN)["table"][0]
    assert {"n_kmers", "n_unique_kmers", "readcount_w_children"} <= set(raw)
    alignment = hook.get_alignment_results(ALN_OK)
    assert alignment["genome_taxon_id"] == "1280" and alignment["coverage"]["binned_window_width"] == "10000"
    panel = hook.get_panel_results(PANEL)
    assert panel["panel_name"] == "AMR Marker Panel v3"
    assert {
        m["name"]
        for sub in panel["panel_results"].values()
        for m in sub["markers"]
        if m["status"] == "present"
    } == {"hly", "inlA"}
    files = hook.get_file_details("classifications", CLS_MAIN)["files"]
    assert {f["filename"] for f in files} == {"classification_results.tsv", "classification_summary.json"}
    assert all(set(f) == {"filename", "filepath", "size", "url"} for f in files)
    hook.close()


def test_results_uri_is_fetched_zstd_compressed_and_without_auth(use_sim):
    hook = OneCodexHook()
    record = hook.get_classification(CLS_STOOL)
    blob = requests.get(record["results_uri"], timeout=5)
    assert blob.content[:4] == b"\x28\xb5\x2f\xfd"  # zstd, as One Codex serves results_uri
    assert json.loads(decompress(blob.content)) == hook.get_results("classifications", CLS_STOOL)
    use_sim.state.reset_counters()
    assert hook.get_classification_results(CLS_STOOL)["n_reads"] == 3_400_000
    seen = [(r.path, r.auth) for r in use_sim.state.requests]
    assert seen[0] == (f"/api/v1/classifications/{CLS_STOOL}", True)
    assert seen[1] == (f"/_files/classifications/{CLS_STOOL}/results.json.zst", False)
    assert len(seen) == 2  # no /results request: the pre-signed body was used
    hook.close()


def test_failed_analyses_have_no_results(use_sim, tmp_path):
    hook = OneCodexHook()
    assert hook.get_record("alignments", ALN_FAILED)["success"] is False
    with pytest.raises(OneCodexNotFoundError, match=r"404.*not completed successfully"):
        hook.get_alignment_results(ALN_FAILED)
    with pytest.raises(OneCodexNotFoundError):
        hook.download_analysis_files(ALN_FAILED, destination=tmp_path)


def test_pending_analyses_have_no_results_yet(use_fresh):
    hook = OneCodexHook()  # the fresh simulator is at 0 s: the stool classification completes at 3 s
    assert hook.get_classification(CLS_STOOL)["results_uri"] is None
    with pytest.raises(OneCodexNotFoundError):
        hook.get_classification_readlevel(CLS_STOOL)
    with pytest.raises(OneCodexNotFoundError):
        hook.get_classification_results(CLS_STOOL)


@pytest.mark.parametrize(
    "header", [{"Authorization": "Basic eDo="}, {"X-API-Key": "k"}, {"X-OneCodex-Client-User-Agent": "{}"}]
)
def test_presigned_links_refuse_one_codex_auth_and_headers(use_sim, header):
    url = OneCodexHook().get_classification_readlevel(CLS_MAIN)["url"]
    refused = requests.get(url, headers=header, timeout=5)
    assert refused.status_code == 400 and b"<Code>InvalidArgument</Code>" in refused.content
    assert requests.get(url, timeout=5).status_code == 200


def test_presigned_links_refuse_tampered_signatures(use_sim):
    url = OneCodexHook().get_classification_readlevel(CLS_MAIN)["url"]
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert b"SignatureDoesNotMatch" in requests.get(tampered, timeout=5).content
    assert requests.get(url.split("?")[0], timeout=5).status_code == 403


def test_downloads_check_sizes_and_hashes_and_send_no_auth(use_sim, tmp_path):
    hook = OneCodexHook()
    files = hook.download_analysis_files(ALN_OK, destination=tmp_path / "out", resource="alignments")
    assert {f["filename"] for f in files} == {"coverage.tsv", "alignment_stats.json"}
    for f in files:
        content = (tmp_path / "out" / f["filename"]).read_bytes()
        assert f["uri"] == f"file://{tmp_path}/out/{f['filename']}"
        assert (f["size"], f["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())
    only = hook.download_analysis_files(ALN_OK, destination=str(tmp_path / "one"), filenames=["coverage.tsv"])
    assert [f["filename"] for f in only] == ["coverage.tsv"]
    with pytest.raises(ValueError, match=r"filenames \['nope.bam'\] are not among"):
        hook.download_analysis_files(ALN_OK, destination=tmp_path, filenames=["nope.bam"])

    document = hook.download_document(DOCUMENT, destination=tmp_path)
    assert document["size"] == 388214 == (tmp_path / document["filename"]).stat().st_size
    readlevel = hook.download_readlevel(CLS_MAIN, destination=f"file://{tmp_path}")
    tsv = gzip.decompress((tmp_path / readlevel["filename"]).read_bytes()).decode()
    assert tsv.startswith("Tax ID\tN Hits\tSeq Len\tPassed Filter\n") and "\n1639\t" in tsv

    downloads = [r for r in use_sim.state.requests if r.path.startswith("/_files/")]
    assert len(downloads) == 5 and not any(r.auth for r in downloads)
    hook.close()


def test_wrong_announced_size_fails_and_leaves_no_file(use_sim, tmp_path, monkeypatch):
    details = use_sim.state.file_details_json

    def announced_seven_bytes_more(route, analysis_id):
        out = details(route, analysis_id)
        for item in out["files"]:
            if item["filename"] == "coverage.tsv":
                item["size"] += 7
        return out

    monkeypatch.setattr(use_sim.state, "file_details_json", announced_seven_bytes_more)
    with pytest.raises(OneCodexDownloadSizeError, match="announced"):
        OneCodexHook().download_analysis_files(ALN_OK, destination=tmp_path, filenames=["coverage.tsv"])
    assert not (tmp_path / "coverage.tsv").exists()


def test_expired_links_are_refused_and_fresh_ones_work(use_fresh, onecodex_manual_clock, tmp_path):
    onecodex_manual_clock.advance(100)
    use_fresh.state.presign_ttl = 60
    url = OneCodexHook().get_classification_readlevel(CLS_MAIN)["url"]
    assert requests.get(url, timeout=5).status_code == 200
    onecodex_manual_clock.advance(61)
    response = requests.get(url, timeout=5)
    assert response.status_code == 403 and b"Request has expired" in response.content

    details = OneCodexHook().get_file_details("classifications", CLS_MAIN)  # links valid until +60 s
    onecodex_manual_clock.advance(61)
    from airflow_provider_onecodex.api.downloads import Downloader

    with pytest.raises(OneCodexDownloadError, match="403") as info:
        Downloader((5.0, 5.0)).download(details["files"][0]["url"], tmp_path / "x")
    assert "signature" not in str(info.value) and not (tmp_path / "x").exists()
    fresh = OneCodexHook().download_analysis_files(CLS_MAIN, destination=tmp_path)  # fresh links work
    assert {f["filename"] for f in fresh} == {f["filename"] for f in details["files"]}


def test_sample_patch_rules(use_fresh):
    base, auth = f"{use_fresh.base_url}/api/v1/samples/{MAIN}", (use_fresh.api_key, "")
    mixed = {"tags": [{"$ref": f"/api/v1/tags/{TAG}"}, {"name": "new"}]}
    assert requests.patch(base, json=mixed, auth=auth, timeout=5).status_code == 400
    unknown = {"tags": [{"$ref": "/api/v1/tags/ffffffffffffffff"}]}
    assert requests.patch(base, json=unknown, auth=auth, timeout=5).status_code == 400
    assert requests.patch(base, json={"filename": "x"}, auth=auth, timeout=5).status_code == 400
    renamed = requests.patch(
        base, json={"tags": [{"name": "outbreak"}, {"name": "fresh-tag"}]}, auth=auth, timeout=5
    )
    assert renamed.status_code == 200 and renamed.json()["tags"][0] == {"$ref": f"/api/v1/tags/{TAG}"}
    assert len(renamed.json()["tags"]) == 2  # the other tags were replaced: the hook merges first


def test_samples_become_available_after_validation(use_fresh, onecodex_manual_clock):
    hook = OneCodexHook()
    pending = hook.get_sample(STOOL)
    assert (pending["status"], pending["primary_classification"]) == ("validating", None)
    onecodex_manual_clock.advance(1.5)
    ready = hook.get_sample(STOOL)
    assert ready["status"] == "available"
    assert ready["primary_classification"] == {"$ref": f"/api/v1/classifications/{CLS_STOOL}"}


def test_document_download_uri_route(use_sim):
    answer = OneCodexHook().get_document_download_uri(DOCUMENT)
    assert answer["expires_in_hours"] == 1
    assert urlsplit(answer["download_uri"]).path.endswith("/LM-2026-0412_outbreak_summary.pdf")
    assert requests.get(answer["download_uri"], timeout=5).content.startswith(b"%PDF-1.7")
    assert use_sim.state.count("/api/v1/documents/", method="POST") == 1
