"""The run-alignment example DAG end to end with ``dag.test()``: one alignment started for the
params given, deferred wait, record and results fetched, summary."""

from __future__ import annotations


def test_run_alignment_dag_starts_one_analysis_and_summarizes(airflow_db, onecodex_simulator, onecodex_connection):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    assert not bag.import_errors, bag.import_errors
    before = set(onecodex_simulator.state.analyses)
    run = bag.get_dag("onecodex_run_alignment").test(run_conf={"tax_id": "562"})

    assert str(run.state) == "success"
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert set(states.values()) == {"success"}, states
    (new,) = set(onecodex_simulator.state.analyses) - before
    started = onecodex_simulator.state.analyses[new]
    assert (started.job, started.sample, started.tax_id) == ("1d0b0000000000a1", "a1b2c3d4e5f60718", "562")
    summary = run.get_task_instance("summarize").xcom_pull(task_ids="summarize")
    assert summary["analysis_id"] == new and summary["status"] == "succeeded" and summary["tax_id"] == "562"
    assert summary["genome_name"].startswith("Escherichia coli") and summary["average_coverage"] > 0
