"""Every example DAG succeeds, and says so, when there is nothing to do."""

from __future__ import annotations

import json


def _load_dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def _connect(monkeypatch, sim) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_ONECODEX_DEFAULT",
        json.dumps({"conn_type": "onecodex", "host": sim.base_url, "password": sim.api_key}),
    )


def test_sample_workflow_with_no_samples_succeeds_and_says_so(
    airflow_db, onecodex_simulator_factory, monkeypatch, tmp_path, capsys
):
    account = {"user": "a11ce5e7b0b1c2d3"}
    users = [{"id": "a11ce5e7b0b1c2d3", "email": "lab@example.org", "username": "lab"}]
    sim = onecodex_simulator_factory(
        scenario={"api_key": "5" * 32, "account": account, "users": users}  # an account with no samples
    )
    _connect(monkeypatch, sim)
    run = _load_dag("onecodex_sample_workflow").test(run_conf={"results_folder": f"file://{tmp_path}"})
    states = {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}
    assert str(run.state) == "success", states
    assert states[("decide", -1)] == "success"
    assert run.get_task_instance("decide").xcom_pull(task_ids="decide") == []
    assert "One Codex QC: no samples to check in this run; nothing to do." in capsys.readouterr().out


def test_alignment_workflows_on_a_sample_without_alignments_succeed(
    airflow_db, onecodex_simulator, monkeypatch, capsys
):
    sample = onecodex_simulator.state.add_sample("empty.fastq.gz")  # no analyses at all
    _connect(monkeypatch, onecodex_simulator)
    for dag_id in ("onecodex_alignment_workflow", "onecodex_alignment_workflow_deferrable"):
        run = _load_dag(dag_id).test(run_conf={"sample_id": sample})
        states = {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}
        assert str(run.state) == "success", (dag_id, states)
        summary = run.get_task_instance("summarize").xcom_pull(task_ids="summarize")
        assert summary == {"alignments": [], "counts": {"succeeded": 0, "failed": 0, "pending": 0}}
    assert "the sample has no alignments" in capsys.readouterr().out
