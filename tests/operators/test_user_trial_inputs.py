"""Inputs a first user tried that once slipped through: each now fails clearly before any request."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.errors import OneCodexRateLimitError
from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from airflow_provider_onecodex.operators.onecodex import (
    OneCodexFetchResultsOperator,
    OneCodexGetAlignmentOperator,
    OneCodexGetRecordOperator,
    OneCodexListRecordsOperator,
    OneCodexUpdateMetadataOperator,
)
from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor
from airflow_provider_onecodex.testing.faults import Fault
from tests._reliability import ALIGNMENTS, GOOD_ID, SAMPLE_ID, connect  # noqa: F401  (connect: a fixture)


@pytest.mark.parametrize("analysis_type", ["bogus", "Alignment", "alignments", ""])
def test_unknown_analysis_type_is_refused(fresh_sim, connect, analysis_type) -> None:
    conn = connect(fresh_sim)
    with pytest.raises(ValueError) as raised:  # a literal: when the DAG is parsed
        OneCodexAnalysisSensor(
            task_id="a", sample_id=SAMPLE_ID, analysis_type=analysis_type, onecodex_conn_id=conn, timeout=5
        )
    assert str(raised.value) == (
        "analysis_type must be one of ['alignment', 'assembly_run', 'classification', 'control', "
        f"'functional', 'mlst', 'panel', 'report', 'typing', 'workflow'], got {analysis_type!r}"
    )
    assert fresh_sim.state.count() == 0


@pytest.mark.parametrize("number", [float("nan"), float("inf")])
def test_non_finite_numbers_in_metadata_fields_are_refused(fresh_sim, connect, number) -> None:
    conn = connect(fresh_sim)
    op = OneCodexUpdateMetadataOperator(
        task_id="m", sample_id=SAMPLE_ID, fields={"custom": {"v": number}}, onecodex_conn_id=conn
    )
    with pytest.raises(ValueError, match="fields must hold finite numbers only"):
        op.execute({})
    assert fresh_sim.state.count() == 0


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda c: OneCodexGetRecordOperator(task_id="g", resource="samples", record_id="XYZ", onecodex_conn_id=c), "record_id"),
        (lambda c: OneCodexGetAlignmentOperator(task_id="g", alignment_id="XYZ", onecodex_conn_id=c), "alignment_id"),
        (lambda c: OneCodexFetchResultsOperator(task_id="f", resource="alignments", analysis_id="XYZ", onecodex_conn_id=c), "analysis_id"),
    ],
)  # fmt: skip
def test_id_errors_name_the_argument_the_user_set(fresh_sim, connect, make, argument) -> None:
    with pytest.raises(ValueError, match=f"^{argument} must be .*'XYZ'"):
        make(connect(fresh_sim)).execute({})
    assert fresh_sim.state.count() == 0


def test_a_listing_variant_the_route_lacks_is_refused(fresh_sim, connect) -> None:
    op = OneCodexListRecordsOperator(
        task_id="l", resource="tags", variant="public", onecodex_conn_id=connect(fresh_sim)
    )
    with pytest.raises(ValueError, match="variant must be one of \\[\\] or None for tags, got 'public'"):
        op.execute({})
    assert fresh_sim.state.count() == 0


def test_where_text_that_is_not_json_says_so(fresh_sim, connect) -> None:
    op = OneCodexListRecordsOperator(
        task_id="l", resource="alignments", where="{bad", onecodex_conn_id=connect(fresh_sim)
    )
    with pytest.raises(ValueError, match="where must be a JSON object; its text is not valid JSON"):
        op.execute({})
    assert fresh_sim.state.count() == 0


def test_a_key_pasted_with_a_newline_still_authenticates(fresh_sim, connect) -> None:
    conn = connect(fresh_sim, password=f"  {fresh_sim.state.api_key}\n")
    assert OneCodexHook(conn).test_connection()[0] is True


def test_a_long_retry_after_says_why_it_was_not_retried(fresh_sim, connect) -> None:
    fresh_sim.state.faults.script(ALIGNMENTS, [Fault.http_error(429, retry_after=7200)])
    with pytest.raises(OneCodexRateLimitError) as info:
        OneCodexHook(connect(fresh_sim)).get_alignment(GOOD_ID)
    assert "Retry-After of 7200 s exceeds max_retry_after (60 s): not retried" in str(info.value)
    assert info.value.throttled is True
    assert fresh_sim.state.count() == 1


@pytest.mark.parametrize("rank", ["kingdomz", "Species", "species "])
def test_a_rank_one_codex_does_not_use_fails_when_the_dag_is_parsed(rank) -> None:
    from airflow_provider_onecodex.api.results import RANKS

    with pytest.raises(ValueError) as raised:
        OneCodexFetchResultsOperator(task_id="f", resource="classifications", analysis_id=GOOD_ID, rank=rank)
    assert str(raised.value) == f"rank must be one of {sorted(RANKS)} or None for every rank, got {rank!r}"


def test_every_rank_of_the_recorded_results_is_accepted() -> None:
    for rank in ("superkingdom", "phylum", "class", "order", "family", "genus", "species", "no rank", None):
        op = OneCodexFetchResultsOperator(task_id="f", resource="classifications", analysis_id=GOOD_ID, rank=rank)
        assert op.rank == rank


def test_a_number_as_record_id_fails_when_the_dag_is_parsed() -> None:
    with pytest.raises(TypeError) as raised:
        OneCodexGetRecordOperator(task_id="g", resource="samples", record_id=123)
    assert str(raised.value) == "record_id must be a One Codex id (16 lowercase hex characters), got 123"


def test_an_xcom_reference_as_record_id_waits_for_the_run() -> None:
    from airflow.sdk import DAG

    with DAG("d", schedule=None):
        first = OneCodexGetRecordOperator(task_id="first", resource="samples", record_id=SAMPLE_ID)
        second = OneCodexGetRecordOperator(task_id="second", resource="samples", record_id=first.output)
    assert second.record_id is not None
