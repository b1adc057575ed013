"""The example sample workflow's own logic (QC rule, XCom shapes), without running Airflow."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from airflow_provider_onecodex.testing import results as generated

DAG_FILE = Path(__file__).resolve().parents[2] / "dags_examples" / "onecodex_sample_workflow.py"


@pytest.fixture(scope="module")
def workflow():
    spec = importlib.util.spec_from_file_location("onecodex_sample_workflow_under_test", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def entry(*alignments):
    return {"sample_id": "a" * 16, "classification_id": "c" * 16, "alignments": list(alignments)}


def aln(i, success=True):
    return {
        "id": i * 16,
        "tax_id": "562",
        "success": success,
        "error_msg": None if success else "low coverage",
    }


@pytest.mark.parametrize(
    ("summary", "alignments", "verdict"),
    [
        ({"host_fraction": 0.1, "top_taxa": [{}]}, [aln("1")], "pass"),
        ({"host_fraction": 0.1, "top_taxa": [{}]}, [aln("1"), aln("2", False)], "review"),
        ({"host_fraction": 0.6, "top_taxa": [{}]}, [aln("2", False)], "fail"),
        ({"host_fraction": 0.0, "top_taxa": []}, [], "fail"),
    ],
)
def test_qc_rule(workflow, summary, alignments, verdict):
    got, reasons = workflow.qc_verdict(summary, alignments, 0.5)
    assert got == verdict and bool(reasons) == (verdict != "pass")


def test_decide_reads_stored_and_inline_results_and_no_alignments(workflow):
    small = generated.classification_results("c" * 16, {"dominant": "562"})
    stored = {
        "uri": "file:///r.json",
        "size": 1,
        "sha256": "0",
        "rows": 1,
        "summary": {"host_fraction": 0.9, "top_taxa": [{}], "top_species": []},
    }
    verdicts = workflow.decide.function([entry(), entry(aln("1", False))], [small, stored], [], None)
    assert [v["verdict"] for v in verdicts] == ["pass", "fail"]
    assert (
        verdicts[0]["top_taxon"] == "Escherichia coli" and verdicts[1]["stored_results"] == "file:///r.json"
    )


def test_write_back_arguments(workflow):
    verdict = {"sample_id": "a" * 16, "verdict": "review", "reasons": ["x" * 600]}
    fields = workflow.metadata_kwargs(verdict)["fields"]
    assert fields == {"custom": {"qc_verdict": "review", "qc_reasons": "x" * 500}}
    assert workflow.tag_kwargs(verdict) == {
        "sample_id": "a" * 16,
        "tags": ["qc-review"],
        "remove": ["qc-pass", "qc-fail"],
    }
