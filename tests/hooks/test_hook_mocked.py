"""Every sample-workflow route of OneCodexHook against requests-mock: method, path, query, body."""

from __future__ import annotations

import gzip
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_onecodex.api.errors import OneCodexAPIError, OneCodexNotFoundError, OneCodexServerError
from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from airflow_provider_onecodex.testing.pytest_plugin import connection_json

BASE = "http://onecodex.test"
ID = "0123456789abcdef"
SAMPLE, META = "a1b2c3d4e5f60718", "3e7a000000000001"
TAG_A, TAG_B = "7a90000000000001", "7a90000000000002"
PRESIGNED = "https://bucket.s3.example/results.json.gz?X-Amz-Signature=feedfacefeedface"
JSON = {"Content-Type": "application/json", "X-Total-Count": "2"}


def query(request) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in parse_qs(urlsplit(request.url).query).items():
        out[k] = json.loads(v[0]) if k in ("where", "sort") else v[0]
    return out


@pytest.fixture
def hook(use_mock):
    h = OneCodexHook()
    yield h
    h.close()


LISTINGS = [
    ("list_samples", {}, "/api/v1/samples", None),
    ("list_public_samples", {}, "/api/v1/samples/public", None),
    ("list_organization_samples", {}, "/api/v1/samples/organization", None),
    (
        "list_metadata",
        {"where": {"external_sample_id": "LIMS-1"}},
        "/api/v1/metadata",
        {"external_sample_id": "LIMS-1"},
    ),
    ("list_tags", {"where": {"name": {"$in": ["qc-pass"]}}}, "/api/v1/tags", {"name": {"$in": ["qc-pass"]}}),
    ("list_jobs", {}, "/api/v1/jobs", None),
    ("list_documents", {}, "/api/v1/documents", None),
    ("list_events", {"sort": {"created_at": True}}, "/api/v1/events", None),
    (
        "list_analyses",
        {"sample_id": SAMPLE, "analysis_type": "panel"},
        "/api/v1/analyses",
        {"sample": {"$ref": f"/api/v1/samples/{SAMPLE}"}, "analysis_type": "panel"},
    ),
    (
        "list_classifications",
        {"sample_id": SAMPLE},
        "/api/v1/classifications",
        {"sample": {"$ref": f"/api/v1/samples/{SAMPLE}"}},
    ),
    (
        "list_panels",
        {"sample_id": SAMPLE},
        "/api/v1/panels",
        {"sample": {"$ref": f"/api/v1/samples/{SAMPLE}"}},
    ),
]


@pytest.mark.parametrize(("method", "kwargs", "path", "where"), LISTINGS)
def test_listings(hook, use_mock, method, kwargs, path, where):
    records = [{"$uri": f"{path}/{i:016x}"} for i in range(3)]
    use_mock.get(BASE + path, json=records, headers={**JSON, "X-Total-Count": "3"})
    assert getattr(hook, method)(**kwargs) == records
    sent = query(use_mock.last_request)
    assert sent.get("where") == where
    assert "expand" not in sent and use_mock.last_request.method == "GET"


def test_public_listing_is_capped_by_default(hook, use_mock):
    use_mock.get(
        BASE + "/api/v1/samples/public",
        json=[{"$uri": f"/api/v1/samples/{i:016x}"} for i in range(100)],
        headers={**JSON, "X-Total-Count": "5000"},
    )
    assert len(hook.list_public_samples(per_page=100)) == 1000
    assert use_mock.call_count == 10


GETS = [
    ("get_metadata", (META,), f"/api/v1/metadata/{META}"),
    ("get_tag", (TAG_A,), f"/api/v1/tags/{TAG_A}"),
    ("get_job", (ID,), f"/api/v1/jobs/{ID}"),
    ("get_document", (ID,), f"/api/v1/documents/{ID}"),
    ("get_event", (ID,), f"/api/v1/events/{ID}"),
    ("get_panel", (ID,), f"/api/v1/panels/{ID}"),
    ("get_classification", (ID,), f"/api/v1/classifications/{ID}"),
    ("get_results", ("alignments", ID), f"/api/v1/alignments/{ID}/results"),
    ("get_analysis_results", (ID,), f"/api/v1/analyses/{ID}/results"),
    ("get_alignment_results", (ID,), f"/api/v1/alignments/{ID}/results"),
    ("get_panel_results", (ID,), f"/api/v1/panels/{ID}/results"),
    ("get_classification_raw_results", (ID,), f"/api/v1/classifications/{ID}/raw_results"),
    ("get_file_details", ("panels", ID), f"/api/v1/panels/{ID}/file_details"),
]


@pytest.mark.parametrize(("method", "args", "path"), GETS)
def test_gets(hook, use_mock, method, args, path):
    body = {"$uri": path, "files": [], "value": 42}
    use_mock.get(BASE + path, json=body, headers=JSON)
    assert getattr(hook, method)(*args) == body
    assert urlsplit(use_mock.last_request.url).path == path


@pytest.mark.parametrize(("method", "args", "path"), GETS)
def test_bad_ids_fail_before_any_request(hook, use_mock, method, args, path):
    bad = (*args[:-1], "not-an-id")
    with pytest.raises(ValueError, match="must be a One Codex id"):
        getattr(hook, method)(*bad)
    assert use_mock.call_count == 0


def test_results_of_a_failed_analysis_are_not_found(hook, use_mock):
    use_mock.get(
        f"{BASE}/api/v1/alignments/{ID}/results",
        status_code=404,
        json={"message": "Not Found", "status": 404},
    )
    with pytest.raises(OneCodexNotFoundError, match="404"):
        hook.get_alignment_results(ID)


def test_presigned_links_are_masked(hook, use_mock, monkeypatch):
    masked: list[object] = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", lambda secret, name=None: masked.append(secret))
    use_mock.get(f"{BASE}/api/v1/classifications/{ID}/readlevel", json={"url": PRESIGNED}, headers=JSON)
    use_mock.get(
        f"{BASE}/api/v1/analyses/{ID}/file_details",
        headers=JSON,
        json={"files": [{"filename": "a.tsv", "filepath": "a.tsv", "size": 1, "url": PRESIGNED + "1"}]},
    )
    use_mock.post(
        f"{BASE}/api/v1/documents/{ID}/download_uri",
        json={"download_uri": PRESIGNED + "2", "expires_in_hours": 1},
        headers=JSON,
    )
    hook.get_classification_readlevel(ID)
    hook.get_file_details("analyses", ID)
    hook.get_document_download_uri(ID)
    for url in (PRESIGNED, PRESIGNED + "1", PRESIGNED + "2"):
        assert url in masked and urlsplit(url).query in masked


@pytest.fixture
def retrying_hook(use_mock, monkeypatch):
    """A hook whose connection retries (3 retries, no backoff wait)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_ONECODEX_DEFAULT", connection_json(BASE, "k" * 32, max_retries=3, retry_initial_wait=0)
    )
    h = OneCodexHook()
    yield h
    h.close()


def test_document_download_uri_is_a_post_that_is_never_retried(retrying_hook, use_mock):
    use_mock.post(f"{BASE}/api/v1/documents/{ID}/download_uri", status_code=503, json={"message": "busy"})
    use_mock.get(f"{BASE}/api/v1/documents/{ID}", status_code=503, json={"message": "busy"})
    with pytest.raises(OneCodexServerError):
        retrying_hook.get_document_download_uri(ID)
    assert [r.method for r in use_mock.request_history] == ["POST"]
    with pytest.raises(OneCodexServerError):
        retrying_hook.get_document(ID)  # the same connection retries idempotent GETs
    assert [r.method for r in use_mock.request_history] == ["POST"] + ["GET"] * 4


# -- metadata --------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["sample", "$uri", "updated_at"])
def test_update_metadata_never_sends_read_only_fields(hook, use_mock, field):
    with pytest.raises(ValueError, match="read-only"):
        hook.update_metadata(META, fields={"name": "x", field: f"/api/v1/samples/{SAMPLE}"})
    with pytest.raises(ValueError, match="read-only"):
        hook.update_sample_metadata(SAMPLE, fields={field: "x"})
    assert use_mock.call_count == 0


def test_update_metadata_sends_only_the_given_fields(hook, use_mock):
    patch = use_mock.patch(
        f"{BASE}/api/v1/metadata/{META}", json={"$uri": f"/api/v1/metadata/{META}"}, headers=JSON
    )
    hook.update_metadata(META, fields={"starred": True, "external_sample_id": "LIMS-9"})
    assert patch.last_request.json() == {"starred": True, "external_sample_id": "LIMS-9"}
    assert use_mock.call_count == 1  # no custom: nothing to merge, no GET


def test_update_metadata_merges_custom_over_the_current_keys(hook, use_mock):
    use_mock.get(
        f"{BASE}/api/v1/metadata/{META}",
        headers=JSON,
        json={
            "$uri": f"/api/v1/metadata/{META}",
            "sample": {"$ref": f"/api/v1/samples/{SAMPLE}"},
            "custom": {"facility": "North", "qc_verdict": "fail"},
        },
    )
    patch = use_mock.patch(f"{BASE}/api/v1/metadata/{META}", json={}, headers=JSON)
    hook.update_metadata(META, fields={"custom": {"qc_verdict": "pass"}})
    assert patch.last_request.json() == {"custom": {"facility": "North", "qc_verdict": "pass"}}
    hook.update_metadata(META, fields={"custom": {"qc_verdict": "pass"}}, merge_custom=False)
    assert patch.last_request.json() == {"custom": {"qc_verdict": "pass"}}


def test_update_sample_metadata_finds_the_record_through_the_sample(hook, use_mock):
    use_mock.get(
        f"{BASE}/api/v1/samples/{SAMPLE}",
        json={"metadata": {"$ref": f"/api/v1/metadata/{META}"}},
        headers=JSON,
    )
    patch = use_mock.patch(f"{BASE}/api/v1/metadata/{META}", json={"name": "n"}, headers=JSON)
    assert hook.update_sample_metadata(SAMPLE, fields={"name": "n"}, merge_custom=False) == {"name": "n"}
    assert "sample" not in patch.last_request.json()


# -- tags ------------------------------------------------------------------------------------------


def _sample(*tag_ids):
    return {"$uri": f"/api/v1/samples/{SAMPLE}", "tags": [{"$ref": f"/api/v1/tags/{t}"} for t in tag_ids]}


def _tags(**names):
    return [{"$uri": f"/api/v1/tags/{i}", "name": n} for n, i in names.items()]


def _tag_listing(by_uri, by_name):
    """GET /tags answering ``$uri`` lookups with ``by_uri`` and name lookups with ``by_name``."""

    def answer(request, context):
        records = by_uri if "$uri" in query(request)["where"] else by_name
        context.headers["X-Total-Count"] = str(len(records))
        return records

    return answer


def test_tag_sample_with_a_new_name_sends_every_tag_by_name(hook, use_mock):
    use_mock.get(f"{BASE}/api/v1/samples/{SAMPLE}", json=_sample(TAG_A), headers=JSON)
    use_mock.get(f"{BASE}/api/v1/tags", json=_tag_listing(_tags(outbreak=TAG_A), []))  # "qc-pass" is new
    patch = use_mock.patch(f"{BASE}/api/v1/samples/{SAMPLE}", json=_sample(TAG_A, TAG_B), headers=JSON)
    hook.tag_sample(SAMPLE, tags=["qc-pass"])
    assert patch.last_request.json() == {"tags": [{"name": "outbreak"}, {"name": "qc-pass"}]}


def test_tag_sample_with_existing_tags_sends_refs_and_removes(hook, use_mock):
    use_mock.get(f"{BASE}/api/v1/samples/{SAMPLE}", json=_sample(TAG_A, ID), headers=JSON)
    use_mock.get(
        f"{BASE}/api/v1/tags",
        json=_tag_listing(_tags(outbreak=TAG_A, **{"qc-fail": ID}), _tags(**{"qc-pass": TAG_B})),
    )
    patch = use_mock.patch(f"{BASE}/api/v1/samples/{SAMPLE}", json=_sample(TAG_A, TAG_B), headers=JSON)
    hook.tag_sample(SAMPLE, tags=["qc-pass"], remove=["qc-fail"])
    assert patch.last_request.json() == {
        "tags": [{"$ref": f"/api/v1/tags/{TAG_A}"}, {"$ref": f"/api/v1/tags/{TAG_B}"}]
    }


def test_tag_sample_already_tagged_sends_no_patch(hook, use_mock):
    use_mock.get(f"{BASE}/api/v1/samples/{SAMPLE}", json=_sample(TAG_A), headers=JSON)
    use_mock.get(f"{BASE}/api/v1/tags", json=_tags(outbreak=TAG_A), headers=JSON)
    assert hook.tag_sample(SAMPLE, tags=["outbreak"]) == _sample(TAG_A)
    assert [r.method for r in use_mock.request_history] == ["GET", "GET"]


def test_tag_sample_refuses_bad_names_before_any_request(hook, use_mock):
    with pytest.raises(TypeError, match="list of tag names"):
        hook.tag_sample(SAMPLE, tags="qc-pass")
    with pytest.raises(ValueError, match="1 to 30"):
        hook.tag_sample(SAMPLE, tags=["x" * 40])
    assert use_mock.call_count == 0


def test_tag_sample_refuses_to_drop_tags_it_cannot_read(hook, use_mock):
    use_mock.get(f"{BASE}/api/v1/samples/{SAMPLE}", json=_sample(TAG_A, ID), headers=JSON)
    use_mock.get(f"{BASE}/api/v1/tags", json=_tag_listing(_tags(outbreak=TAG_A), []))  # ID: unreadable
    with pytest.raises(ValueError, match=f"tags \\['{ID}'\\] this API key cannot read") as info:
        hook.tag_sample(SAMPLE, tags=["qc-pass"])  # new: would be sent by name, dropping ID
    assert not isinstance(info.value, OneCodexAPIError)
    assert "PATCH" not in [r.method for r in use_mock.request_history]


# -- classification results through results_uri ---------------------------------------------------

RESULTS = {"n_reads": 10, "host_tax_ids": ["9606"], "table": [{"tax_id": "562", "readcount_w_children": 9}]}


def test_classification_results_come_gzipped_from_results_uri_without_auth(hook, use_mock):
    use_mock.get(
        f"{BASE}/api/v1/classifications/{ID}", json={"$uri": "x", "results_uri": PRESIGNED}, headers=JSON
    )
    blob = use_mock.get(PRESIGNED, content=gzip.compress(json.dumps(RESULTS).encode()))
    assert hook.get_classification_results(ID) == RESULTS
    assert "Authorization" not in blob.last_request.headers and "X-API-Key" not in blob.last_request.headers
    assert f"/api/v1/classifications/{ID}/results" not in [
        urlsplit(r.url).path for r in use_mock.request_history
    ]


@pytest.mark.parametrize("results_uri", [None, "expired"])
def test_classification_results_fall_back_to_the_results_route(hook, use_mock, results_uri):
    link = PRESIGNED if results_uri else None
    use_mock.get(f"{BASE}/api/v1/classifications/{ID}", json={"$uri": "x", "results_uri": link}, headers=JSON)
    use_mock.get(PRESIGNED, status_code=403, content=b"<Error><Code>AccessDenied</Code></Error>")
    use_mock.get(f"{BASE}/api/v1/classifications/{ID}/results", json=RESULTS, headers=JSON)
    assert hook.get_classification_results(ID) == RESULTS
    assert urlsplit(use_mock.last_request.url).path.endswith("/results")


def test_get_sample_metadata_follows_the_sample_reference(hook, use_mock):
    use_mock.get(
        f"{BASE}/api/v1/samples/{SAMPLE}",
        json={"metadata": {"$ref": f"/api/v1/metadata/{META}"}},
        headers=JSON,
    )
    use_mock.get(
        f"{BASE}/api/v1/metadata/{META}",
        json={"$uri": f"/api/v1/metadata/{META}", "custom": {}},
        headers=JSON,
    )
    assert hook.get_sample_metadata(SAMPLE)["$uri"] == f"/api/v1/metadata/{META}"
    use_mock.get(f"{BASE}/api/v1/samples/{SAMPLE}", json={"metadata": None}, headers=JSON)
    with pytest.raises(ValueError, match="has no metadata record"):
        hook.get_sample_metadata(SAMPLE)


@pytest.mark.parametrize("resource", ["alignments", "panels", "analyses", "workflows"])
def test_fetch_results_uses_the_results_route_except_for_classifications(hook, use_mock, resource):
    use_mock.get(f"{BASE}/api/v1/{resource}/{ID}/results", json={"ok": resource}, headers=JSON)
    assert hook.fetch_results(resource, ID) == {"ok": resource}
    with pytest.raises(ValueError, match="resource must be one of"):
        hook.fetch_results("samples", ID)


def test_download_document_checks_the_announced_size(hook, use_mock, tmp_path):
    use_mock.get(f"{BASE}/api/v1/documents/{ID}", json={"filename": "report.pdf", "size": 5}, headers=JSON)
    use_mock.post(
        f"{BASE}/api/v1/documents/{ID}/download_uri",
        json={"download_uri": PRESIGNED, "expires_in_hours": 1},
        headers=JSON,
    )
    use_mock.get(PRESIGNED, content=b"%PDF-")
    got = hook.download_document(ID, destination=tmp_path)
    assert got == {
        "filename": "report.pdf",
        "uri": f"file://{tmp_path}/report.pdf",
        "size": 5,
        "sha256": __import__("hashlib").sha256(b"%PDF-").hexdigest(),
    }
    use_mock.get(PRESIGNED, content=b"%PDF-1.7 longer")
    from airflow_provider_onecodex.api.downloads import OneCodexDownloadSizeError

    with pytest.raises(OneCodexDownloadSizeError):
        hook.download_document(ID, destination=tmp_path / "again")
    assert not (tmp_path / "again" / "report.pdf").exists()


@pytest.mark.parametrize("name", ["../escape.tsv", "a/b.tsv", "..", ""])
def test_server_file_names_cannot_escape_the_destination(hook, use_mock, tmp_path, name):
    from airflow_provider_onecodex.api.errors import MalformedRecordError, is_transient

    use_mock.get(
        f"{BASE}/api/v1/analyses/{ID}/file_details",
        headers=JSON,
        json={"files": [{"filename": name, "filepath": name, "size": 1, "url": PRESIGNED}]},
    )
    with pytest.raises(MalformedRecordError, match="unusable file name") as info:
        hook.download_analysis_files(ID, destination=tmp_path)
    assert not is_transient(info.value)  # the same answer comes again: never retried
    assert use_mock.call_count == 1  # nothing downloaded


def test_declared_methods_read_as_methods_with_their_route_and_arguments():
    """Route declarations are real methods: help() shows the route, the signature the arguments."""
    import inspect
    import pydoc

    text = pydoc.render_doc(OneCodexHook, renderer=pydoc.plaintext)
    assert "get_alignment_results(self, alignment_id: 'str')" in text
    assert "``GET /api/v1/alignments/{id}/results``: coverage" in text
    assert "list_public_samples(self, **listing: 'Any')" in text
    assert "``GET /api/v1/samples/public``." in text
    tag = inspect.signature(OneCodexHook.tag_sample).parameters
    assert [(n, p.kind.name) for n, p in tag.items()] == [
        ("self", "POSITIONAL_OR_KEYWORD"),
        ("sample_id", "POSITIONAL_OR_KEYWORD"),
        ("tags", "KEYWORD_ONLY"),
        ("remove", "KEYWORD_ONLY"),
    ]
    assert OneCodexHook.get_job_by_name.__doc__.startswith("The one job named exactly ``name``")


def test_declared_methods_take_their_arguments_by_name(hook, use_mock):
    path = f"/api/v1/alignments/{ID}/results"
    use_mock.get(BASE + path, json={"value": 1}, headers=JSON)
    assert hook.get_alignment_results(alignment_id=ID) == {"value": 1}
    assert hook.get_results(resource="alignments", analysis_id=ID) == {"value": 1}
    with pytest.raises(TypeError, match="alignment_id"):
        hook.get_alignment_results()
    with pytest.raises(TypeError, match="positional"):
        hook.tag_sample(SAMPLE, ["qc-pass"])  # tags is keyword-only
    assert use_mock.call_count == 2
