"""Record shapes and answers the recorded bodies and the official client's models call for:
``expand=all``, 405 with ``Allow``, ``error_msg``/``results_uri`` of successes, metadata PATCH
rules, zstd results, the new routes, and listings answered from indexes."""

from __future__ import annotations

import gzip
import json

import pytest
import requests
import zstandard

from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from bench.scenarios import make_bulk_scenario

MAIN_SAMPLE, CLS_2S, ALN_OK = "a1b2c3d4e5f60718", "c1a5000000000001", "a1a1000000001280"
CLS_NO_URI = "c1a5000000000003"  # a success with error_msg null and no results_uri (demo)
METADATA = "3e7a000000000001"


def call(sim, method, path, **kwargs):
    return requests.request(
        method, f"{sim.base_url}/api/v1/{path}", auth=(sim.api_key, ""), timeout=10, **kwargs
    )


def get(sim, path, **params):
    response = call(sim, "GET", path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_expand_all_inlines_references_one_level(onecodex_simulator):
    sample = get(onecodex_simulator, f"samples/{MAIN_SAMPLE}", expand="all")
    assert sample["metadata"]["$uri"] == f"/api/v1/metadata/{METADATA}"
    assert sample["metadata"]["sample"] == {"$ref": f"/api/v1/samples/{MAIN_SAMPLE}"}  # one level only
    assert sample["owner"]["email"] == "alice.nguyen@example.org"
    assert [t["name"] for t in sample["tags"]] == ["outbreak", "isolate", "WGS"]
    assert sample["primary_classification"]["$uri"] == f"/api/v1/classifications/{CLS_2S}"
    listed = get(
        onecodex_simulator,
        "alignments",
        expand="all",
        where=json.dumps({"$uri": f"/api/v1/alignments/{ALN_OK}"}),
    )
    assert listed[0]["job"]["name"] == "Alignment Run" and listed[0]["sample"]["$uri"].endswith(MAIN_SAMPLE)
    # without expand: references stay references
    assert get(onecodex_simulator, f"samples/{MAIN_SAMPLE}")["owner"] == {
        "$ref": "/api/v1/users/a11ce5e7b0b1c2d3"
    }


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", f"samples/{MAIN_SAMPLE}", "GET, PATCH"),
        ("DELETE", "tags/7a90000000000001", "GET"),
        ("PUT", "metadata", "GET"),
        ("GET", "documents/d0c0000000000001/download_uri", "POST"),
    ],
)
def test_405_names_the_allowed_methods(onecodex_simulator, method, path, allow):
    response = call(onecodex_simulator, method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json()["status"] == 405


def test_shapes_the_official_client_needs(onecodex_simulator, onecodex_manual_clock):
    sample = get(onecodex_simulator, f"samples/{MAIN_SAMPLE}")
    metadata = get(onecodex_simulator, f"metadata/{METADATA}")
    assert "updated_at" not in sample and "updated_at" not in metadata  # never null: left out
    assert all(
        j["draft"] in (True, False) and j["job_args_schema"] == {} for j in get(onecodex_simulator, "jobs")
    )
    pending = get(onecodex_simulator, f"alignments/{ALN_OK}")
    assert (pending["complete"], pending["error_msg"], pending["updated_at"]) == (False, None, None)
    onecodex_manual_clock.advance(100)
    assert get(onecodex_simulator, f"alignments/{ALN_OK}")["error_msg"] == ""
    without = get(onecodex_simulator, f"classifications/{CLS_NO_URI}")
    assert (without["success"], without["error_msg"], without["results_uri"]) == (True, None, None)
    rows = get(onecodex_simulator, f"classifications/{CLS_2S}/results")["table"]
    assert all(r["filtered_readcount"] == r["readcount"] for r in rows)
    assert all(r["filtered_readcount_w_children"] == r["readcount_w_children"] for r in rows)


def test_the_provider_reads_results_with_and_without_results_uri(
    onecodex_simulator, onecodex_manual_clock, onecodex_connection
):
    onecodex_manual_clock.advance(100)
    hook = OneCodexHook()
    state = onecodex_simulator.state
    for analysis_id, second in (
        (CLS_2S, "/_files/"),
        (CLS_NO_URI, f"/api/v1/classifications/{CLS_NO_URI}/results"),
    ):
        state.reset_counters()
        results = hook.get_classification_results(analysis_id)
        assert results == get(onecodex_simulator, f"classifications/{analysis_id}/results")
        paths = [r.path for r in state.requests][:2]
        assert paths[0] == f"/api/v1/classifications/{analysis_id}" and paths[1].startswith(second)


def test_results_uri_is_zstd_and_the_gzip_copy_stays_served(onecodex_simulator, onecodex_manual_clock):
    onecodex_manual_clock.advance(100)
    state = onecodex_simulator.state
    expected = get(onecodex_simulator, f"classifications/{CLS_2S}/results")
    link = get(onecodex_simulator, f"classifications/{CLS_2S}")["results_uri"]
    body = requests.get(link, timeout=10).content
    assert json.loads(zstandard.ZstdDecompressor().decompress(body)) == expected
    gz = requests.get(state.presign(f"classifications/{CLS_2S}/results.json.gz"), timeout=10).content
    assert json.loads(gzip.decompress(gz)) == expected


def test_metadata_patch_nulls_unknown_fields_and_enumerations(onecodex_simulator):
    sim = onecodex_simulator
    before = get(sim, f"metadata/{METADATA}")
    changed = call(
        sim, "PATCH", f"metadata/{METADATA}", json={"custom": None, "starred": None, "colour": "blue"}
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["custom"] is None and after["starred"] == before["starred"] and "colour" not in after
    assert "updated_at" in after
    for field, value in (
        ("platform", "Illumina NextSeq 2000"),
        ("library_type", "RNA"),
        ("sample_type", "Soil"),
    ):
        refused = call(sim, "PATCH", f"metadata/{METADATA}", json={field: value})
        assert refused.status_code == 400 and field in refused.json()["message"]
    assert (
        call(sim, "PATCH", f"metadata/{METADATA}", json={"platform": "Element AVITI"}).json()["platform"]
        == "Element AVITI"
    )
    demo = get(sim, "metadata")
    assert {m["platform"] for m in demo} <= {
        "Illumina NovaSeq 6000",
        "Illumina NextSeq",
        "Illumina MiSeq",
        "Element AVITI",
    }


@pytest.mark.parametrize(
    ("route", "key"),
    [
        ("projects", "project_name"),
        ("webhooks", "post_url"),
        ("assets", "filename"),
        ("functional_profiles", "job"),
        ("mlsts", "job"),
        ("workflows", "job"),
    ],
)
def test_new_routes_list_and_get(onecodex_simulator, route, key):
    (record,) = get(onecodex_simulator, route)
    assert key in record
    assert get(onecodex_simulator, record["$uri"].removeprefix("/api/v1/")) == record
    assert call(onecodex_simulator, "GET", f"{route}/0000000000000000").status_code == 404


def test_the_provider_reads_assets(onecodex_simulator, onecodex_connection):
    (asset,) = OneCodexHook().list_records("assets")
    assert asset["status"] == "available"


@pytest.fixture
def big(onecodex_simulator_factory):
    return onecodex_simulator_factory(make_bulk_scenario(50_000, seed=3, n_samples=1_000))


def test_uri_and_sample_lookups_render_only_what_they_return(big, monkeypatch):
    state = big.state
    rendered = []
    render = state.render

    def counting(resource, record):
        rendered.append(record.id)
        return render(resource, record)

    monkeypatch.setattr(state, "render", counting)
    wanted = list(state.analyses)[1000:1100]
    where = {"$uri": {"$in": [f"/api/v1/alignments/{i}" for i in wanted]}, "complete": {"$in": [True, False]}}
    found = get(big, "alignments", where=json.dumps(where), per_page=1000)
    assert [r["$uri"].rsplit("/", 1)[1] for r in found] == wanted and len(rendered) == 100

    rendered.clear()
    sample = state.analyses[wanted[0]].sample
    of_sample = get(big, "alignments", where=json.dumps({"sample": sample}), per_page=1000)
    assert len(of_sample) == 50 == len(rendered)
    assert all(r["sample"] == {"$ref": f"/api/v1/samples/{sample}"} for r in of_sample)

    rendered.clear()  # nothing to filter or sort: only the page asked for is rendered
    assert len(get(big, "alignments", per_page=20, page=7)) == 20 and len(rendered) == 20
