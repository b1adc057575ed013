"""Upload a sequencing run into One Codex, quality-check its samples and write the verdict back.

0. upload the run folder ``params.run_folder`` (any ``ObjectStoragePath`` URL or local path; empty =
   no upload): one sample per R1/R2 pair of FASTQ files (or single file), uploaded in parallel with
   ``OneCodexUploadSampleOperator`` (``external_sample_id`` = ``<run name>-<sample>``, so a re-run
   of the DAG uploads nothing twice), each waited until ``available``, then an alignment job run
   per uploaded sample (``OneCodexRunJobOperator``, job ``params.alignment_job_name`` against
   ``params.alignment_tax_id``) started and waited;

For each uploaded sample and each sample created in the run's data interval (or each id in
``params.sample_ids``):

1. wait until the sample is ``available`` with a primary classification, and until its
   classifications and alignments are complete (one mapped sensor per sample; a failed alignment
   is reported, not fatal);
2. fetch the primary classification's results and every succeeded alignment's coverage statistics
   (results larger than 48 KiB of JSON are written to ``params.results_folder``, else the Variable
   ``onecodex_results_folder``, else ``$AIRFLOW_HOME/onecodex-results``, and XCom gets their
   location, size, SHA-256 and a summary: top taxa, coverage);
3. decide a QC verdict: ``fail`` when host reads exceed ``params.max_host_fraction`` or nothing
   microbial was classified, ``review`` when an alignment failed, else ``pass``;
4. write it back: metadata ``custom.qc_verdict`` (other custom keys are kept) and a ``qc-<verdict>``
   tag replacing any earlier ``qc-*`` tag.

Scheduled runs look at samples created in their data interval. Manual runs (``airflow dags test``,
the UI's trigger button) have no meaningful interval: they look back ``params.lookback_hours``
from the moment they run.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_onecodex.operators.jobs import OneCodexRunJobOperator
from airflow_provider_onecodex.operators.onecodex import (
    OneCodexFetchResultsOperator,
    OneCodexTagSampleOperator,
    OneCodexUpdateMetadataOperator,
)
from airflow_provider_onecodex.operators.uploads import OneCodexUploadSampleOperator
from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor, OneCodexSampleSensor

AIRFLOW_HOME = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
DEFAULT_RESULTS_FOLDER = f"file://{AIRFLOW_HOME}/onecodex-results"
VERDICTS = ("pass", "review", "fail")
SAMPLE_ID_PATTERN = "^[0-9a-f]{16}$"


def _items(values: Any) -> list[Any]:
    """A mapped task's results as a list, in map-index order (one slice request, not one per item)."""
    return [] if values is None else list(values[:])


@task
def find_run_files(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One ``OneCodexUploadSampleOperator`` kwargs dict per sample of ``params.run_folder``."""
    from airflow_provider_onecodex.api.fastx import pair_run_files, sample_key
    from airflow_provider_onecodex.upload_transfer import source_path

    params = params or {}
    if not params.get("run_folder"):
        return []
    folder = source_path(params["run_folder"], "params.run_folder")
    run = params.get("run_name") or folder.name
    pairs, singles = pair_run_files([p.name for p in folder.iterdir() if p.is_file()])
    files = [(r1, r2) for r1, r2 in pairs] + [(name, None) for name in singles]
    uploads = [
        {
            "source": str(folder / first),
            "paired_source": str(folder / second) if second else None,
            "external_sample_id": f"{run}-{sample_key(first)}"[:60],
            "metadata": {"name": sample_key(first), "custom": {"run": run}},
        }
        for first, second in files
    ]
    print(f"{len(uploads)} samples to upload from {folder}: {[u['external_sample_id'] for u in uploads]}")
    return uploads


@task
def ids_of(records: Any) -> list[str]:
    """The ids of uploaded sample records."""
    from airflow_provider_onecodex.api.ids import record_id

    return [i for i in (record_id(r) for r in _items(records) if isinstance(r, dict)) if i]


@task(trigger_rule="all_done")  # a failed upload fails its own task; the others are still checked
def find_samples(
    uploaded: Any = None, params: dict[str, Any] | None = None, dag_run: Any = None, **context: Any
) -> list[str]:
    """Ids of the samples to check: the uploaded ones, plus ``params.sample_ids`` or else the
    samples created in the window."""
    from airflow_provider_onecodex.api.ids import record_id, validate_ids
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    params = params or {}
    new = [i for i in (record_id(r) for r in _items(uploaded) if isinstance(r, dict)) if i]
    if new:
        print(f"uploaded samples: {new}")
    if params.get("sample_ids"):
        given = validate_ids(params["sample_ids"], "params.sample_ids", resource="samples")
        return new + [i for i in given if i not in new]
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if (
        str(getattr(dag_run, "run_type", "")) not in ("scheduled", "backfill")
        or not start
        or not end
        or start >= end
    ):
        end = getattr(dag_run, "run_after", None) or end or pendulum.now("UTC")
        start = end - pendulum.duration(hours=float(params.get("lookback_hours", 24)))
    window = [start.isoformat(), end.isoformat()]  # RFC 3339 with offsets, as One Codex requires
    samples = OneCodexHook().list_samples(
        where={"created_at": {"$between": window}},
        sort={"created_at": False},
        max_records=int(params.get("max_samples", 100)),
    )
    ids = [i for i in (record_id(s) for s in samples) if i]
    print(f"{len(ids)} samples created between {window[0]} and {window[1]}: {ids}")
    return new + [i for i in ids if i not in new]


@task
def plan(samples: list[dict[str, Any]], alignments: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One entry per sample: its primary classification and its alignments (failed ones included)."""
    from airflow_provider_onecodex.api.ids import id_from_uri, record_id

    return [
        {
            "sample_id": record_id(sample),
            "classification_id": id_from_uri(sample["primary_classification"]),
            "alignments": [
                {
                    "id": record_id(a),
                    "tax_id": a.get("tax_id"),
                    "success": a.get("success") is True,
                    "error_msg": a.get("error_msg") or None,
                }
                for a in records
            ],
        }
        for sample, records in zip(_items(samples), _items(alignments), strict=True)
    ]


@task
def classification_ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["classification_id"] for e in entries]


@task
def succeeded_alignment_ids(entries: list[dict[str, Any]]) -> list[str]:
    return [a["id"] for e in entries for a in e["alignments"] if a["success"]]


def qc_verdict(
    classification: dict[str, Any], alignments: list[dict[str, Any]], max_host_fraction: float
) -> tuple[str, list[str]]:
    """``(verdict, reasons)`` from a classification summary and the sample's alignment entries."""
    fail, review = [], []
    host = classification.get("host_fraction")
    if host is not None and host > max_host_fraction:
        fail.append(f"host reads {host:.1%} > {max_host_fraction:.0%}")
    if not classification.get("top_taxa"):
        fail.append("no microbial reads classified")
    for a in alignments:
        if not a["success"]:
            review.append(f"alignment {a['id']} (tax_id {a['tax_id']}) failed: {a['error_msg']}")
    if fail:
        return "fail", fail + review
    return ("review", review) if review else ("pass", [])


@task(trigger_rule="none_failed")
def decide(
    plan_samples: list[dict[str, Any]],
    classification_results: list[Any],
    alignment_ids: list[str],
    alignment_results: list[Any] | None,
    params: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One QC verdict per sample, printed as a table."""
    from airflow_provider_onecodex.api.results import summary_of

    params = params or {}
    if not plan_samples:  # nothing found: the run succeeds and says so
        print("One Codex QC: no samples to check in this run; nothing to do.")
        return []
    coverage = {
        aid: summary_of("alignments", v)
        for aid, v in zip(alignment_ids, _items(alignment_results), strict=True)
    }
    verdicts = []
    for entry, value in zip(plan_samples, _items(classification_results), strict=True):
        summary = summary_of("classifications", value)
        verdict, reasons = qc_verdict(
            summary, entry["alignments"], float(params.get("max_host_fraction", 0.5))
        )
        top = summary["top_species"][0] if summary["top_species"] else None
        verdicts.append(
            {
                "sample_id": entry["sample_id"],
                "verdict": verdict,
                "reasons": reasons,
                "top_taxon": top["name"] if top else None,
                "host_fraction": summary.get("host_fraction"),
                "stored_results": value.get("uri") if isinstance(value, dict) and "sha256" in value else None,
                "alignments": {
                    a["id"]: coverage[a["id"]].get("average_coverage")
                    for a in entry["alignments"]
                    if a["id"] in coverage
                },
            }
        )
    print("One Codex QC verdicts:")
    for v in verdicts:
        print(
            f"  {v['sample_id']}  {v['verdict']:<6}  top species: {v['top_taxon']}  {'; '.join(v['reasons'])}"
        )
    return verdicts


def metadata_kwargs(verdict: dict[str, Any]) -> dict[str, Any]:
    """``OneCodexUpdateMetadataOperator`` arguments that record a verdict in ``custom``."""
    custom = {"qc_verdict": verdict["verdict"], "qc_reasons": "; ".join(verdict["reasons"])[:500] or None}
    return {"sample_id": verdict["sample_id"], "fields": {"custom": custom}}


def tag_kwargs(verdict: dict[str, Any]) -> dict[str, Any]:
    """``OneCodexTagSampleOperator`` arguments: ``qc-<verdict>``, dropping the other verdicts' tags."""
    others = [f"qc-{v}" for v in VERDICTS if v != verdict["verdict"]]
    return {"sample_id": verdict["sample_id"], "tags": [f"qc-{verdict['verdict']}"], "remove": others}


with DAG(
    dag_id="onecodex_sample_workflow",
    description="QC new One Codex samples (classification + alignments) and write the verdict back",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["onecodex", "example"],
    params={
        "sample_ids": Param([], type="array", items={"type": "string", "pattern": SAMPLE_ID_PATTERN}),
        "lookback_hours": Param(24, type="number", exclusiveMinimum=0),
        "max_samples": Param(100, type="integer", minimum=1, maximum=1000),
        "max_host_fraction": Param(0.5, type="number", minimum=0, maximum=1),
        # None: the Variable onecodex_results_folder (shared storage such as s3://... on a
        # multi-machine deployment), else DEFAULT_RESULTS_FOLDER (file://: one machine only).
        "results_folder": Param(None, type=["null", "string"], minLength=1),
        "run_folder": Param(
            "", type="string", description="sequencer run folder to upload first; empty: none"
        ),
        "alignment_job_name": Param("Alignment Run", type="string", minLength=1),
        "alignment_tax_id": Param("1280", type="string", pattern="^[0-9]+$"),
        "run_name": Param(
            "", type="string", description="run name in external_sample_id; default: folder name"
        ),
    },
    default_args={"onecodex_conn_id": "onecodex_default"},
) as onecodex_sample_workflow:
    waits = {"poke_interval": 1, "timeout": 300, "mode": "poke"}  # short polls: the demo's waits are seconds
    results_folder = (  # the run's param, else the deployment's Variable, else a local folder
        "{{ params.results_folder or var.value.get('onecodex_results_folder', '"
        + DEFAULT_RESULTS_FOLDER
        + "') }}"
    )
    by_sample = {"map_index_template": "{{ task.sample_id }}"}  # the UI lists mapped tasks by id
    by_analysis = {"map_index_template": "{{ task.analysis_id }}"}
    uploaded = OneCodexUploadSampleOperator.partial(
        task_id="upload_sample",
        poke_interval=1,
        timeout=300,
        retries=2,
        map_index_template="{{ task.external_sample_id }}",
    ).expand_kwargs(find_run_files())

    # an alignment of each uploaded sample against params.alignment_tax_id (crash-safe job runs)
    aligned_runs = OneCodexRunJobOperator.partial(
        task_id="run_alignment",
        job_name="{{ params.alignment_job_name }}",
        job_args={"tax_id": "{{ params.alignment_tax_id }}"},
        reuse_existing=True,  # a re-run of the DAG reuses a successful alignment instead of paying again
        poke_interval=1,
        timeout=300,
        map_index_template="{{ task.sample_id }}",
    ).expand(sample_id=ids_of(uploaded.output))

    sample_ids = find_samples(uploaded.output)
    aligned_runs >> sample_ids
    ready = OneCodexSampleSensor.partial(
        task_id="wait_for_sample", wait_for_primary_classification=True, **waits, **by_sample
    ).expand(sample_id=sample_ids)
    classified = OneCodexAnalysisSensor.partial(
        # /analyses records carry no pre-signed results_uri, so none reaches XCom
        task_id="wait_for_classifications",
        resource="analyses",
        analysis_type="classification",
        **waits,
        **by_sample,
    ).expand(sample_id=sample_ids)
    aligned = OneCodexAnalysisSensor.partial(
        task_id="wait_for_alignments",
        resource="alignments",
        failure_policy="report",
        min_count=0,
        **waits,
        **by_sample,
    ).expand(sample_id=sample_ids)
    ready >> [classified, aligned]

    entries = plan(ready.output, aligned.output)
    classified >> entries
    aligned_ids = succeeded_alignment_ids(entries)
    classification_results = OneCodexFetchResultsOperator.partial(
        task_id="fetch_classification_results",
        resource="classifications",
        destination=results_folder,
        **by_analysis,
    ).expand(analysis_id=classification_ids(entries))
    alignment_results = OneCodexFetchResultsOperator.partial(
        task_id="fetch_alignment_results",
        resource="alignments",
        destination=results_folder,
        **by_analysis,
    ).expand(analysis_id=aligned_ids)

    verdicts = decide(entries, classification_results.output, aligned_ids, alignment_results.output)
    OneCodexUpdateMetadataOperator.partial(task_id="write_qc_verdict", **by_sample).expand_kwargs(
        verdicts.map(metadata_kwargs)
    )
    OneCodexTagSampleOperator.partial(task_id="tag_qc_verdict", **by_sample).expand_kwargs(
        verdicts.map(tag_kwargs)
    )
