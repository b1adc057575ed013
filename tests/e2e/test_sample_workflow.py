"""The sample QC workflow end to end with ``dag.test()`` against the simulator over loopback HTTP."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import requests

MAIN, STOOL = "a1b2c3d4e5f60718", "d4e5f60718293a4b"


def _load_dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def _api(sim, path: str):
    response = requests.get(f"{sim.base_url}/api/v1/{path}", auth=(sim.api_key, ""), timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def test_sample_workflow_writes_qc_verdicts_back(airflow_db, onecodex_simulator, onecodex_connection, tmp_path):
    sim = onecodex_simulator
    folder = tmp_path / "results"
    run = _load_dag("onecodex_sample_workflow").test(run_conf={"results_folder": f"file://{folder}"})

    states = {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}
    assert str(run.state) == "success", states
    assert sorted(m for (t, m) in states if t == "wait_for_sample") == [0, 1]  # found by created_at
    labels = {ti.rendered_map_index for ti in run.get_task_instances() if ti.task_id == "wait_for_sample"}
    assert labels == {MAIN, STOOL}  # map_index_template: the UI lists the waits by sample id

    verdicts = {v["sample_id"]: v for v in run.get_task_instance("decide").xcom_pull(task_ids="decide")}
    assert {k: v["verdict"] for k, v in verdicts.items()} == {MAIN: "review", STOOL: "pass"}
    assert "a1a1000000001639" in verdicts[MAIN]["reasons"][0]  # the failed alignment is the reason
    assert verdicts[MAIN]["top_taxon"] == "Listeria monocytogenes"
    assert set(verdicts[MAIN]["alignments"]) == {"a1a1000000001280", "a1a1000000000562"}

    # The stool classification (> 48 KiB) went to storage; the isolate's (smaller) came through XCom.
    ti = run.get_task_instance("fetch_classification_results", map_index=0)
    fetched = {
        v["analysis_id"]: v  # every value says what it is: analysis, sample, resource
        for v in ti.xcom_pull(task_ids="fetch_classification_results", map_indexes=[0, 1])
    }
    assert {a: (v["sample_id"], v["resource"]) for a, v in fetched.items()} == {
        "c1a5000000000001": (MAIN, "classifications"),
        "c1a5000000000004": (STOOL, "classifications"),
    }
    stored = fetched["c1a5000000000004"]
    content = Path(stored["uri"].removeprefix("file://")).read_bytes()
    assert stored["uri"].startswith(f"file://{folder}/")
    assert len(content) == stored["size"] > 49152
    assert hashlib.sha256(content).hexdigest() == stored["sha256"]
    assert stored["rows"] == len(json.loads(content)["table"])
    assert stored["summary"]["top_species"][0]["name"] == verdicts[STOOL]["top_taxon"]
    assert "table" in fetched["c1a5000000000001"]["results"]  # the value itself

    # The verdicts landed in One Codex: custom metadata merged, tags replaced per verdict.
    main_meta = _api(sim, "metadata/3e7a000000000001")["custom"]
    assert main_meta["qc_verdict"] == "review" and main_meta["facility"] == "North lab"
    assert _api(sim, "metadata/3e7a000000000004")["custom"]["qc_verdict"] == "pass"
    tags = {t["$uri"]: t["name"] for t in _api(sim, "tags")}
    main_tags = {tags[t["$ref"]] for t in _api(sim, f"samples/{MAIN}")["tags"]}
    assert main_tags == {"outbreak", "isolate", "WGS", "qc-review"}
    assert {tags[t["$ref"]] for t in _api(sim, f"samples/{STOOL}")["tags"]} == {"WGS", "qc-pass"}
    # Pre-signed downloads never carried One Codex credentials.
    files = [r for r in sim.state.requests if r.path.startswith("/_files/")]
    assert files and not any(r.auth for r in files)


def test_sample_workflow_uploads_a_run_folder_once(
    airflow_db, onecodex_simulator, onecodex_connection, tmp_path
):
    """The run folder's pairs become samples (available, classified, QC'd); a re-run uploads nothing."""
    import gzip

    sim = onecodex_simulator
    book = sim.state.uploads
    book.import_seconds = book.validate_seconds = book.classification_seconds = 0.3
    run_folder = tmp_path / "run-42"
    run_folder.mkdir()
    reads = b"".join(b"@r%d\nACGTTGCA\n+\nIIIIIIII\n" % i for i in range(100))
    for sample in ("S1", "S2"):
        for read in ("R1", "R2"):
            (run_folder / f"{sample}_{read}_001.fastq.gz").write_bytes(gzip.compress(reads))
    (run_folder / "SampleSheet.csv").write_text("not uploaded\n")
    conf = {"run_folder": str(run_folder), "results_folder": f"file://{tmp_path / 'results'}"}
    dag = _load_dag("onecodex_sample_workflow")

    run = dag.test(run_conf=conf)
    states = {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}
    assert str(run.state) == "success", states
    records = run.get_task_instance("upload_sample", map_index=0).xcom_pull(
        task_ids="upload_sample", map_indexes=[0, 1]
    )
    uploaded = {r["filename"]: r["$uri"].rsplit("/", 1)[-1] for r in records}
    assert set(uploaded) == {"S1_R1_001.fastq.gz", "S2_R1_001.fastq.gz"}
    assert {r["status"] for r in records} == {"available"}
    verdicts = {
        v["sample_id"]: v["verdict"] for v in run.get_task_instance("decide").xcom_pull(task_ids="decide")
    }
    assert {verdicts[i] for i in uploaded.values()} == {"pass"}
    alignments = [a for a in sim.state.analyses.values() if a.analysis_type == "alignment"]
    assert sorted(a.sample for a in alignments if a.sample in uploaded.values()) == sorted(uploaded.values())
    for filename, sample_id in uploaded.items():
        meta = _api(
            sim, f"metadata/{_api(sim, f'samples/{sample_id}')['metadata']['$ref'].rsplit('/', 1)[-1]}"
        )
        assert meta["external_sample_id"] == f"run-42-{filename.split('_')[0]}"

    before = len(sim.state.samples)
    again = dag.test(run_conf=conf)
    assert str(again.state) == "success"
    assert len(sim.state.samples) == before and sim.state.count("/api/v1/samples/preupload") == 2
