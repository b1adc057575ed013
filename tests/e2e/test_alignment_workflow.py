"""The example DAGs run end to end with ``dag.test()`` against the simulator over loopback HTTP."""

from __future__ import annotations

import pytest

EXPECTED = {
    "a1a1000000001280": ("succeeded", "1280", None),
    "a1a1000000000562": ("succeeded", "562", None),
    "a1a1000000001639": ("failed", "1639", "Reference genome coverage too low to call an alignment."),
}


def _load_dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


@pytest.mark.parametrize("dag_id", ["onecodex_alignment_workflow", "onecodex_alignment_workflow_deferrable"])
def test_example_dag_waits_fetches_and_summarizes(dag_id, airflow_db, onecodex_simulator, onecodex_connection):
    dag = _load_dag(dag_id)
    run = dag.test()

    states = {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}
    waits = sorted(s for (task, _), s in states.items() if task == "wait_for_alignment")
    assert waits == ["failed", "success", "success"]
    labels = {ti.task_id: set() for ti in run.get_task_instances() if ti.map_index >= 0}
    for ti in run.get_task_instances():
        if ti.map_index >= 0:
            labels[ti.task_id].add(ti.rendered_map_index)
    assert labels == {"wait_for_alignment": set(EXPECTED), "fetch_alignment": set(EXPECTED)}
    assert states[("summarize", -1)] == "success"
    assert str(run.state) == "success"  # the summary is the leaf and runs whatever the waits' outcome

    summary = run.get_task_instance("summarize").xcom_pull(task_ids="summarize")
    rows = {row["alignment_id"]: row for row in summary["alignments"]}
    assert {k: (r["status"], r["tax_id"], r["error_msg"]) for k, r in rows.items()} == EXPECTED
    assert summary["counts"] == {"succeeded": 2, "failed": 1, "pending": 0}
    # The succeeded alignments really completed after their scenario delays (3 s and 6 s).
    assert rows["a1a1000000000562"]["seconds_to_complete"] >= 6
