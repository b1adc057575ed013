"""Run the per-sample workflow whenever One Codex has a new available sample (event-driven).

The asset ``onecodex_new_samples`` is watched by :class:`OneCodexNewSampleTrigger` in the
triggerer: one asset event per sample that newly becomes ``available`` (the event's ``extra``
holds ``{"payload": {"sample_id", "status", "filename", "created_at", ...}}``). This DAG is
scheduled on that asset, so each new sample starts a run within a poll interval, with no sensor
holding a worker slot in between. For the samples named in the run's triggering events it:

1. waits until the sample is classified (``available`` with a primary classification);
2. starts an alignment job run against ``ONECODEX_EXAMPLE_ALIGNMENT_TAX_ID`` (``OneCodexRunJobOperator``,
   ``reuse_existing=True``: a sample that already has a successful alignment of this job and
   reference starts nothing new);
3. waits for the sample's alignments (a failed one is reported, not fatal);
4. fetches the primary classification's results (stored under ``results_folder`` when large);
5. prints a QC line per sample: top species, host fraction, alignment outcomes.

If events arrive faster than the scheduler creates runs, Airflow may hand one run several events;
the tasks are mapped over every sample they name, so none is skipped. ``ONECODEX_EXAMPLE_POLL_INTERVAL``
(seconds, default 60) sets the watcher's and the sensors' interval; the demo uses 1-2 s.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_onecodex.operators.jobs import OneCodexRunJobOperator
from airflow_provider_onecodex.operators.onecodex import OneCodexFetchResultsOperator
from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor, OneCodexSampleSensor
from airflow_provider_onecodex.triggers.events import OneCodexNewSampleTrigger

POLL_INTERVAL = float(os.environ.get("ONECODEX_EXAMPLE_POLL_INTERVAL", "60"))
ALIGNMENT_JOB = os.environ.get("ONECODEX_EXAMPLE_ALIGNMENT_JOB", "Alignment Run")
ALIGNMENT_TAX_ID = os.environ.get("ONECODEX_EXAMPLE_ALIGNMENT_TAX_ID", "1280")  # S. aureus
AIRFLOW_HOME = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")

NEW_SAMPLES = Asset(
    "onecodex_new_samples",
    watchers=[
        AssetWatcher(
            name="onecodex_new_sample_watcher",
            trigger=OneCodexNewSampleTrigger(
                onecodex_conn_id="onecodex_default", poll_interval=POLL_INTERVAL
            ),
        )
    ],
)


@task
def samples_from_events(triggering_asset_events: Any = None) -> list[str]:
    """The sample ids named by this run's asset events (usually one), in event order."""
    ids: list[str] = []
    for event in (triggering_asset_events or {}).get(NEW_SAMPLES, []):
        payload = (event.extra or {}).get("payload") or {}
        if payload.get("kind") == "sample" and payload.get("sample_id") not in ids:
            ids.append(payload["sample_id"])
    print(f"new One Codex samples: {ids}")
    return ids


@task
def classification_of(sample: dict[str, Any]) -> str:
    from airflow_provider_onecodex.api.ids import id_from_uri

    ident = id_from_uri(sample["primary_classification"])
    if ident is None:
        raise ValueError(f"sample {sample.get('$uri')} has no primary_classification")
    return ident


@task(trigger_rule="none_failed")
def qc(sample_ids: list[str], classifications: Any, alignments: Any) -> list[dict[str, Any]]:
    """One QC line per sample: top species, host fraction and how its alignments ended."""
    from airflow_provider_onecodex.api.results import summary_of

    lines = []
    for sample_id, results, records in zip(
        sample_ids, list(classifications[:]), list(alignments[:]), strict=True
    ):
        summary = summary_of("classifications", results)
        failed = [a for a in records or [] if a.get("success") is not True]
        top = summary["top_species"][0]["name"] if summary["top_species"] else None
        verdict = "review" if failed or not top else "pass"
        lines.append({"sample_id": sample_id, "verdict": verdict, "top_species": top,
                      "host_fraction": summary.get("host_fraction"), "alignments": len(records or []),
                      "failed_alignments": len(failed)})  # fmt: skip
        print(f"QC {sample_id}: {verdict} (top species {top}, {len(failed)} failed alignments)")
    return lines


with DAG(
    dag_id="onecodex_on_new_sample",
    description="Per-sample workflow started by One Codex news (AssetWatcher + OneCodexNewSampleTrigger)",
    schedule=NEW_SAMPLES,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["onecodex", "example", "event-driven"],
    default_args={"onecodex_conn_id": "onecodex_default"},
) as onecodex_on_new_sample:
    sample_ids = samples_from_events()
    waits = {"poke_interval": POLL_INTERVAL, "timeout": 3600, "mode": "reschedule"}
    classified = OneCodexSampleSensor.partial(
        task_id="wait_for_classification", wait_for_primary_classification=True, **waits
    ).expand(sample_id=sample_ids)
    started = OneCodexRunJobOperator.partial(
        task_id="start_alignment",
        job_name=ALIGNMENT_JOB,
        job_args={"tax_id": ALIGNMENT_TAX_ID},
        wait_for_completion=False,  # the sensor below waits for every alignment of the sample
        reuse_existing=True,
        map_index_template="{{ task.sample_id }}",
    ).expand(sample_id=sample_ids)
    aligned = OneCodexAnalysisSensor.partial(
        task_id="wait_for_alignments", resource="alignments", failure_policy="report", min_count=0, **waits
    ).expand(sample_id=sample_ids)
    started >> aligned
    fetched = OneCodexFetchResultsOperator.partial(
        task_id="fetch_classification_results",
        resource="classifications",
        destination=f"file://{AIRFLOW_HOME}/onecodex-results",
    ).expand(analysis_id=classification_of.expand(sample=classified.output))
    qc(sample_ids, fetched.output, aligned.output)
