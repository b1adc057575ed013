"""Wait for a sample's One Codex alignments, fetch them, and summarise them downstream.

For the sample in ``params.sample_id``: list its alignments, wait for each to complete (one mapped
sensor per alignment), fetch every record, then summarise (id, reference ``tax_id``, status,
timing) whatever the waits' outcome, so a failed alignment is reported rather than hidden.

Two DAGs come from this file:
- ``onecodex_alignment_workflow``: sensors in poke mode;
- ``onecodex_alignment_workflow_deferrable``: the same waits deferred to the triggerer, where one
  shared poller batches every waiting alignment into listing requests.

The default ``sample_id`` is the demo sample of the bundled simulator scenario; trigger the DAG
with ``{"sample_id": "<your 16-hex sample id>"}`` to run it on your own data.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_onecodex.operators.onecodex import (
    OneCodexGetAlignmentOperator,
    OneCodexListAlignmentsOperator,
)
from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

DEMO_SAMPLE_ID = "a1b2c3d4e5f60718"


@task
def alignment_ids(records: list[dict[str, Any]]) -> list[str]:
    """The ids of listed alignment records (last segment of each ``$uri``)."""
    return [record["$uri"].rsplit("/", 1)[-1] for record in records]


@task(trigger_rule="all_done")
def summarize(records: list[dict[str, Any] | None]) -> dict[str, Any]:
    """One line per alignment: id, reference tax_id, status, seconds from creation to update."""
    rows = []
    for record in records or []:  # None when the sample has no alignments: nothing was mapped
        if not record:
            continue
        status = "pending"
        if record.get("complete") is True:
            status = "succeeded" if record.get("success") is True else "failed"
        created, updated = record.get("created_at"), record.get("updated_at")
        seconds = None
        if created and updated:
            seconds = (pendulum.parse(updated) - pendulum.parse(created)).total_seconds()  # type: ignore[operator,union-attr]
        rows.append(
            {
                "alignment_id": record["$uri"].rsplit("/", 1)[-1],
                "tax_id": record.get("tax_id"),
                "status": status,
                "error_msg": record.get("error_msg") or None,
                "seconds_to_complete": seconds,
            }
        )
    counts = {s: sum(r["status"] == s for r in rows) for s in ("succeeded", "failed", "pending")}
    print(
        "One Codex alignment summary:"
        if rows
        else "One Codex alignment summary: the sample has no alignments"
    )
    for r in rows:
        line = f"  {r['alignment_id']}  tax_id={r['tax_id']}  {r['status']}"
        if r["error_msg"]:
            line += f"  ({r['error_msg']})"
        print(line)
    return {"alignments": rows, "counts": counts}


def _workflow(dag_id: str, deferrable: bool) -> DAG:
    with DAG(
        dag_id=dag_id,
        description="Wait for a sample's One Codex alignments and summarise them",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        tags=["onecodex", "example"],
        params={
            "sample_id": Param(DEMO_SAMPLE_ID, type="string", pattern="^[0-9a-f]{16}$"),
        },
        default_args={"onecodex_conn_id": "onecodex_default"},
    ) as dag:
        listed = OneCodexListAlignmentsOperator(
            task_id="list_alignments", sample_id="{{ params.sample_id }}", max_records=500
        )
        ids = alignment_ids(listed.output)
        waits = OneCodexAlignmentSensor.partial(
            task_id="wait_for_alignment",
            poke_interval=2,
            timeout=300,
            mode="poke",
            deferrable=deferrable,
            map_index_template="{{ task.alignment_id }}",  # the UI lists waits by alignment id
        ).expand(alignment_id=ids)
        fetched = OneCodexGetAlignmentOperator.partial(
            task_id="fetch_alignment", trigger_rule="all_done", map_index_template="{{ task.alignment_id }}"
        ).expand(alignment_id=ids)
        waits >> fetched
        summarize(fetched.output)
    return dag


onecodex_alignment_workflow = _workflow("onecodex_alignment_workflow", deferrable=False)
onecodex_alignment_workflow_deferrable = _workflow("onecodex_alignment_workflow_deferrable", deferrable=True)
