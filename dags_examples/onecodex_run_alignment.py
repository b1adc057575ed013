"""Start a One Codex alignment of a sample against a reference, wait for it, fetch it, summarise.

For ``params.sample_id`` and the reference ``params.tax_id``: run the job named
``params.job_name`` ("Alignment Run") with ``job_args={"tax_id": ...}``, wait in the triggerer
(deferrable), fetch the alignment record and its results, and print a summary. The run is
crash-safe: a retry of ``run_alignment`` reconnects to the analysis it started instead of paying
for a second one.

The defaults fit the bundled simulator's demo scenario. On the real One Codex, check the argument
names of your alignment job (its ``job_args_schema``) before running it: they are not documented.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_onecodex.operators.jobs import OneCodexRunJobOperator
from airflow_provider_onecodex.operators.onecodex import (
    OneCodexFetchResultsOperator,
    OneCodexGetAlignmentOperator,
)

DEMO_SAMPLE_ID = "a1b2c3d4e5f60718"


@task
def analysis_id(record: dict[str, Any]) -> str:
    """The id of the finished analysis (last segment of its ``$uri``)."""
    return str(record["$uri"]).rsplit("/", 1)[-1]


@task
def summarize(run: dict[str, Any], alignment: dict[str, Any], results: Any) -> dict[str, Any]:
    """The started analysis, its outcome, its reference, and its coverage (from the results, in
    XCom or stored: ``summary_of`` reads either form)."""
    from airflow_provider_onecodex.api.results import summary_of

    stats = summary_of("alignments", results)
    summary = {
        "analysis_id": str(run["$uri"]).rsplit("/", 1)[-1],
        "status": "succeeded" if run.get("success") is True else "failed",
        "tax_id": alignment.get("tax_id"),
        "job_args": run.get("job_args"),
        "genome_name": stats.get("genome_name"),
        "average_coverage": stats.get("average_coverage"),
    }
    print(
        f"One Codex alignment {summary['analysis_id']} against tax_id {summary['tax_id']} "
        f"({summary['genome_name']}): {summary['status']}, average coverage {summary['average_coverage']}"
    )
    return summary


with DAG(
    dag_id="onecodex_run_alignment",
    description="Start a One Codex alignment run, wait for it (deferred), fetch it and summarise",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["onecodex", "example"],
    params={
        "sample_id": Param(DEMO_SAMPLE_ID, type="string", pattern="^[0-9a-f]{16}$"),
        "tax_id": Param("1280", type="string", pattern="^[0-9]+$"),
        "job_name": Param("Alignment Run", type="string", minLength=1),
    },
    default_args={"onecodex_conn_id": "onecodex_default"},
) as dag:
    run = OneCodexRunJobOperator(
        task_id="run_alignment",
        job_name="{{ params.job_name }}",
        sample_id="{{ params.sample_id }}",
        job_args={"tax_id": "{{ params.tax_id }}"},
        deferrable=True,
        poke_interval=2,
        timeout=1800,
        retries=2,
    )
    ident = analysis_id(run.output)
    alignment = OneCodexGetAlignmentOperator(task_id="fetch_alignment", alignment_id=ident)
    results = OneCodexFetchResultsOperator(task_id="fetch_results", resource="alignments", analysis_id=ident)
    summarize(run.output, alignment.output, results.output)
