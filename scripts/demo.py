"""`make demo`: run the example alignment DAGs against the local One Codex API simulator.

Starts the simulator (demo scenario: three alignments of sample a1b2c3d4e5f60718; two succeed, one
fails), points ``onecodex_default`` at it through ``AIRFLOW_CONN_ONECODEX_DEFAULT``, migrates a
project-local Airflow home (``.airflow/``), runs each DAG with ``airflow dags test``, prints the
per-alignment summary and the task states, stops the simulator, and exits non-zero when anything
did not behave as designed.

Then, on a fresh simulator, it writes a tiny sequencer run folder (two paired FASTQ samples) and runs
``onecodex_sample_workflow``: the pairs are uploaded (to the simulator's S3, moto), each sample waits
until ``available`` and classified, and every sample of the last day is QC'd (a1b2c3d4e5f60718 gets
"review" for its failed alignment, d4e5f60718293a4b and the uploaded ones "pass"); the verdicts are
read back from the simulator's API: metadata ``custom.qc_verdict`` and a ``qc-*`` tag.
Last, ``onecodex_run_alignment`` starts an alignment of a1b2c3d4e5f60718 against tax_id 1280
through ``POST /jobs/{id}/run``, waits deferred, fetches it; the demo checks one analysis was made.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".airflow"
BIN = Path(sys.executable).parent
DAGS = ("onecodex_alignment_workflow", "onecodex_alignment_workflow_deferrable")
# What the demo scenario must produce: alignment id -> (status, tax_id).
EXPECTED = {
    "a1a1000000001280": ("succeeded", "1280"),
    "a1a1000000000562": ("succeeded", "562"),
    "a1a1000000001639": ("failed", "1639"),
}


def start_simulator(api_key: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_onecodex.testing.simulator", "--port", "0",
         "--scenario", "demo", "--api-key", api_key],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"demo: the simulator did not start (first line: {url!r})")
    return proc, url


def airflow_env(url: str, api_key: str, **extra: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    env.update(
        AIRFLOW_HOME=str(HOME),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags_examples"),
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        AIRFLOW_CONN_ONECODEX_DEFAULT=json.dumps(
            {"conn_type": "onecodex", "host": url, "password": api_key, "extra": extra}
        ),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def read_run(dag_id: str, env: dict[str, str], xcom_tasks: list[str]) -> dict[str, Any]:
    """Task states and the return values of ``xcom_tasks`` of the DAG's last run.

    Read from the metadata DB in a fresh process (the demo has no API server running); XCom rows
    are read as stored (JSON), by their task id and map index.
    """
    code = f"""
import json
from sqlalchemy import text
from airflow.models import DagRun, TaskInstance
from airflow.utils.session import create_session
with create_session() as s:
    run = s.query(DagRun).filter(DagRun.dag_id == {dag_id!r}).order_by(DagRun.id.desc()).first()
    tis = s.query(TaskInstance).filter(TaskInstance.dag_id == {dag_id!r}, TaskInstance.run_id == run.run_id).all()
    states = {{f"{{t.task_id}}[{{t.map_index}}]" if t.map_index >= 0 else t.task_id: str(t.state) for t in tis}}
    rows = s.execute(text("SELECT task_id, map_index, value FROM xcom WHERE dag_id = :d AND run_id = :r "
                          "AND key = 'return_value'"), {{"d": {dag_id!r}, "r": run.run_id}}).all()
    xcoms = {{f"{{t}}[{{m}}]" if m >= 0 else t: v for t, m, v in rows if t in {xcom_tasks!r}}}
    print(json.dumps({{"run_state": str(run.state), "states": states, "xcoms": xcoms}}, default=str))
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["xcoms"] = {k: json.loads(v) if isinstance(v, str) else v for k, v in result["xcoms"].items()}
    return result


def check_run(dag_id: str, env: dict[str, str]) -> list[str]:
    """Print the finished run and return the problems found."""
    result = read_run(dag_id, env, ["summarize"])
    summary = result["xcoms"].get("summarize")
    print(f"\n== {dag_id}: run {result['run_state']}")
    for task_id, state in sorted(result["states"].items()):
        print(f"  {task_id:28} {state}")
    problems = []
    rows = {r["alignment_id"]: r for r in (summary or {}).get("alignments", [])}
    if rows:
        print("  summary:")
        for r in rows.values():
            extra = f"  error_msg: {r['error_msg']}" if r["error_msg"] else ""
            print(f"    {r['alignment_id']}  tax_id={r['tax_id']:<5} {r['status']:<10} "
                  f"{r['seconds_to_complete']} s{extra}")  # fmt: skip
    for alignment_id, (status, tax_id) in EXPECTED.items():
        row = rows.get(alignment_id)
        if row is None or row["status"] != status or row["tax_id"] != tax_id:
            problems.append(f"{dag_id}: alignment {alignment_id} expected {status}/{tax_id}, got {row}")
    waits = sorted(v for k, v in result["states"].items() if k.startswith("wait_for_alignment"))
    if waits != ["failed", "success", "success"]:
        problems.append(f"{dag_id}: wait states {waits}, expected one failed and two succeeded")
    if result["states"].get("summarize") != "success":
        problems.append(f"{dag_id}: summarize ended {result['states'].get('summarize')}")
    return problems


SAMPLE_DAG = "onecodex_sample_workflow"
# What the sample workflow must write back: sample id -> (metadata id, QC verdict).
EXPECTED_VERDICTS = {
    "a1b2c3d4e5f60718": ("3e7a000000000001", "review"),  # one of its alignments failed
    "d4e5f60718293a4b": ("3e7a000000000004", "pass"),
}


RUN_FOLDER = HOME / "sequencer-run"
RUN_SAMPLES = ("S1", "S2")  # paired FASTQ each, uploaded by the workflow


def write_run_folder() -> Path:
    """A tiny sequencer run: ``S<n>_R1_001.fastq.gz`` and ``S<n>_R2_001.fastq.gz`` per sample."""
    RUN_FOLDER.mkdir(parents=True, exist_ok=True)
    for n, sample in enumerate(RUN_SAMPLES):
        for read in ("R1", "R2"):
            reads = b"".join(
                b"@%s:%d/%s\nACGTTGCAAGCT\n+\nIIIIIIIIIIII\n" % (sample.encode(), i, read[1:].encode())
                for i in range(500 + 100 * n)
            )
            (RUN_FOLDER / f"{sample}_{read}_001.fastq.gz").write_bytes(gzip.compress(reads))
    return RUN_FOLDER


def read_sample_run(env: dict[str, str]) -> dict[str, Any]:
    """Task states and the XComs of the upload, QC and fetch tasks of the last sample-workflow run."""
    return read_run(SAMPLE_DAG, env, ["upload_sample", "decide", "fetch_classification_results"])


def check_sample_run(env: dict[str, str], url: str, api_key: str) -> list[str]:
    """The QC verdicts were decided as designed and landed in One Codex (read back through the API)."""
    result = read_sample_run(env)
    print(f"\n== {SAMPLE_DAG}: run {result['run_state']}")
    for task_id, state in sorted(result["states"].items()):
        print(f"  {task_id:34} {state}")
    problems = [f"{SAMPLE_DAG}: {t} ended {s}" for t, s in result["states"].items() if s != "success"]
    verdicts = {v["sample_id"]: v for v in result["xcoms"].get("decide") or []}
    for v in verdicts.values():
        reasons = f"; {'; '.join(v['reasons'])}" if v["reasons"] else ""
        print(f"  QC {v['sample_id']}: {v['verdict']:<6} top species {v['top_taxon']}{reasons}")
    stored = [
        v
        for k, v in result["xcoms"].items()
        if k.startswith("fetch_") and isinstance(v, dict) and "sha256" in v
    ]
    for pointer in stored:
        path = Path(pointer["uri"].removeprefix("file://"))
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        print(f"  stored {pointer['analysis_id']} results: {pointer['size']} bytes at {pointer['uri']}")
        if digest != pointer["sha256"]:
            problems.append(f"{SAMPLE_DAG}: {path} is missing or does not match its sha256")
    if not stored:
        problems.append(
            f"{SAMPLE_DAG}: no classification results were written to storage (> 48 KiB expected)"
        )

    session = requests.Session()
    session.auth = (api_key, "")
    uploaded = [v for k, v in result["xcoms"].items() if k.startswith("upload_sample")]
    if len(uploaded) != len(RUN_SAMPLES):
        problems.append(f"{SAMPLE_DAG}: {len(uploaded)} samples uploaded, expected {len(RUN_SAMPLES)}")
    for record in sorted(uploaded, key=lambda r: r["filename"]):
        sample_id = record["$uri"].rsplit("/", 1)[-1]
        now = session.get(f"{url}/api/v1/samples/{sample_id}", timeout=10).json()
        classification = (now.get("primary_classification") or {}).get("$ref", "")
        done = classification and session.get(f"{url}{classification}", timeout=10).json().get("complete")
        verdict = verdicts.get(sample_id, {}).get("verdict")
        print(
            f"  uploaded {record['filename']} (+ R2) -> sample {sample_id}: {now['status']}, "
            f"{record['size']} bytes, primary classification {'complete' if done else 'pending'}, QC {verdict}"
        )
        if now["status"] != "available" or not done or verdict != "pass":
            problems.append(
                f"{SAMPLE_DAG}: uploaded sample {sample_id} ended {now['status']}/{done}/{verdict}"
            )
    tags = {t["$uri"]: t["name"] for t in session.get(f"{url}/api/v1/tags", timeout=10).json()}
    for sample_id, (metadata_id, verdict) in EXPECTED_VERDICTS.items():
        if verdicts.get(sample_id, {}).get("verdict") != verdict:
            problems.append(
                f"{SAMPLE_DAG}: sample {sample_id} expected verdict {verdict}, got {verdicts.get(sample_id)}"
            )
        custom = session.get(f"{url}/api/v1/metadata/{metadata_id}", timeout=10).json().get("custom", {})
        sample = session.get(f"{url}/api/v1/samples/{sample_id}", timeout=10).json()
        names = sorted(tags.get(t["$ref"], t["$ref"]) for t in sample.get("tags", []))
        print(
            f"  One Codex now has {sample_id}: custom.qc_verdict={custom.get('qc_verdict')!r}, tags {names}"
        )
        if custom.get("qc_verdict") != verdict:
            problems.append(
                f"{SAMPLE_DAG}: metadata {metadata_id} has qc_verdict {custom.get('qc_verdict')!r}, not {verdict!r}"
            )
        if [n for n in names if n.startswith("qc-")] != [f"qc-{verdict}"]:
            problems.append(
                f"{SAMPLE_DAG}: sample {sample_id} has tags {names}, expected exactly one qc-{verdict}"
            )
    return problems


def run_sample_workflow(url: str, api_key: str) -> list[str]:
    # uploads go to the simulator's S3 (moto); only a simulator's connection sets this extra
    s3 = requests.get(f"{url}/_sim/uploads", timeout=30).json()["s3_endpoint_url"]
    env = airflow_env(url, api_key, upload_s3_endpoint_url=s3)
    conf = json.dumps({"run_folder": str(write_run_folder()), "run_name": "demo-run"})
    print(f"\n== airflow dags test {SAMPLE_DAG} --conf '{conf}'  (log: .airflow/{SAMPLE_DAG}.log)")
    started = time.monotonic()
    with open(HOME / f"{SAMPLE_DAG}.log", "w") as log:
        run = subprocess.run(
            ["airflow", "dags", "test", SAMPLE_DAG, "--conf", conf],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    print(f"   exit code {run.returncode} after {time.monotonic() - started:.0f} s")
    return check_sample_run(env, url, api_key)


RUN_DAG = "onecodex_run_alignment"
ALIGNMENT_JOB = "1d0b0000000000a1"  # "Alignment Run" in the demo scenario


def run_alignment_workflow(env: dict[str, str], url: str, api_key: str) -> list[str]:
    """Start an alignment through the API, wait (deferred), fetch; check exactly one run was made."""
    print(f"\n== airflow dags test {RUN_DAG}  (log: .airflow/{RUN_DAG}.log)")
    session = requests.Session()
    session.auth = (api_key, "")
    where = json.dumps({"job": ALIGNMENT_JOB, "sample": "a1b2c3d4e5f60718"})
    listing = f"{url}/api/v1/analyses"
    before = {a["$uri"] for a in session.get(listing, params={"where": where}, timeout=10).json()}
    started = time.monotonic()
    with open(HOME / f"{RUN_DAG}.log", "w") as log:
        run = subprocess.run(["airflow", "dags", "test", RUN_DAG], env=env, stdout=log, stderr=subprocess.STDOUT)
    print(f"   exit code {run.returncode} after {time.monotonic() - started:.0f} s")
    result = read_run(RUN_DAG, env, ["summarize"])
    print(f"  run {result['run_state']}")
    for task_id, state in sorted(result["states"].items()):
        print(f"  {task_id:28} {state}")
    problems = [f"{RUN_DAG}: {t} ended {s}" for t, s in result["states"].items() if s != "success"]
    summary = result["xcoms"].get("summarize") or {}
    new = {a["$uri"] for a in session.get(listing, params={"where": where}, timeout=10).json()} - before
    print(f"  started analysis {summary.get('analysis_id')}: {summary.get('status')} "
          f"(tax_id {summary.get('tax_id')}, job_args {summary.get('job_args')})")  # fmt: skip
    if new != {f"/api/v1/analyses/{summary.get('analysis_id')}"}:
        problems.append(f"{RUN_DAG}: expected exactly the started analysis to be new, got {sorted(new)}")
    if summary.get("status") != "succeeded" or summary.get("tax_id") != "1280":
        problems.append(f"{RUN_DAG}: summary {summary}")
    return problems


def main() -> int:
    HOME.mkdir(exist_ok=True)
    api_key = secrets.token_hex(16)  # a fresh 32-character key for this demo only
    problems: list[str] = []
    sim, url = start_simulator(api_key)
    try:
        print(f"One Codex simulator at {url}")
        env = airflow_env(url, api_key)
        subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
        for dag_id in DAGS:
            # The scenario's clock starts with the simulator: restart it so each DAG really waits.
            sim.terminate()
            sim.wait(timeout=10)
            sim, url = start_simulator(api_key)
            env = airflow_env(url, api_key)
            print(f"\n== airflow dags test {dag_id}  (log: .airflow/{dag_id}.log)")
            started = time.monotonic()
            with open(HOME / f"{dag_id}.log", "w") as log:
                run = subprocess.run(
                    ["airflow", "dags", "test", dag_id], env=env, stdout=log, stderr=subprocess.STDOUT
                )
            print(f"   exit code {run.returncode} after {time.monotonic() - started:.0f} s")
            problems += check_run(dag_id, env)
        # A fresh simulator again: the sample workflow finds the samples created in the last day.
        sim.terminate()
        sim.wait(timeout=10)
        sim, url = start_simulator(api_key)
        problems += run_sample_workflow(url, api_key)
        problems += run_alignment_workflow(airflow_env(url, api_key), url, api_key)
    finally:
        sim.terminate()
        try:
            code = sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sim.kill()
            code = -9
        if code != 0:
            problems.append(f"the simulator exited with {code} on SIGTERM")
    if problems:
        print("\nDEMO FAILED:\n  " + "\n  ".join(problems))
        return 1
    print("\nDemo OK: every alignment was waited on; the failed one is reported with its error_msg.")
    print("         The run folder's samples were uploaded, became available and were classified;")
    print("         the sample workflow's QC verdicts are in One Codex (metadata and tags).")
    print("         The alignment run started exactly one analysis and waited for it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
