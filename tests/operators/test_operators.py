"""The get and list operators against the simulator: XCom values, templating, validation, links."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_onecodex.links.onecodex import OneCodexLink
from airflow_provider_onecodex.operators.onecodex import (
    OneCodexDownloadFilesOperator,
    OneCodexGetAlignmentOperator,
    OneCodexGetRecordOperator,
    OneCodexListAlignmentsOperator,
    OneCodexListRecordsOperator,
    OneCodexTagSampleOperator,
    OneCodexUpdateMetadataOperator,
)

DEMO_SAMPLE = "a1b2c3d4e5f60718"
PUBLIC_SAMPLE = "c3d4e5f60718293a"
DONE_ALIGNMENT = "a1a1000000000028"
CLASSIFICATION = "c1a5000000000002"


pytestmark = pytest.mark.usefixtures("onecodex_connection")  # onecodex_default -> ``sim``


def render(op: Any, **context: Any) -> None:
    """Render the operator's template fields as the task runner does before ``execute``."""
    op.render_template_fields(context)


# -- get ---------------------------------------------------------------------------------------


def test_get_record_returns_the_record(sim) -> None:
    op = OneCodexGetRecordOperator(task_id="get", resource="classifications", record_id=CLASSIFICATION)
    record = op.execute({})
    served = sim.state.get_json("classifications", CLASSIFICATION)
    # As served, except that the pre-signed results_uri lost its signature on the way to XCom.
    assert record == {**served, "results_uri": served["results_uri"].split("?")[0]}
    assert json.loads(json.dumps(record)) == record  # XCom-ready plain JSON
    assert sim.state.count(f"/api/v1/classifications/{CLASSIFICATION}") == 1


def test_get_record_accepts_a_uri(sim) -> None:
    op = OneCodexGetRecordOperator(
        task_id="get", resource="samples", record_id=f"/api/v1/samples/{DEMO_SAMPLE}"
    )
    assert op.execute({})["filename"] == sim.state.get_json("samples", DEMO_SAMPLE)["filename"]


def test_get_alignment_renders_its_id_and_returns_the_record(sim) -> None:
    op = OneCodexGetAlignmentOperator(task_id="get", alignment_id="{{ params.alignment }}")
    render(op, params={"alignment": DONE_ALIGNMENT})
    assert op.execute({}) == sim.state.get_json("alignments", DONE_ALIGNMENT)


def test_get_of_a_missing_record_is_a_404(sim) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_onecodex.api.errors import OneCodexNotFoundError

    op = OneCodexGetAlignmentOperator(task_id="get", alignment_id="0b0b0b0b0b0b0b0b")
    with pytest.raises(AirflowFailException, match="404 on GET /api/v1/alignments/0b0b0b0b0b0b0b0b") as info:
        op.execute({})
    assert isinstance(info.value, OneCodexNotFoundError)  # still the typed error, but no task retry


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422])
def test_errors_retrying_cannot_fix_fail_without_task_retries(status, sim) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    sim.state.faults.script(path_regex=r"^/api/v1/alignments", faults=[{"status": status}])
    op = OneCodexGetAlignmentOperator(task_id="get", alignment_id=DONE_ALIGNMENT)
    with pytest.raises(AirflowFailException) as info:
        op.execute({})
    assert f"{status} on GET /api/v1/alignments/{DONE_ALIGNMENT}" in str(info.value)
    assert info.value.status == status
    again = pickle.loads(pickle.dumps(info.value))  # pickles as the plain One Codex error
    assert str(again) == str(info.value) and type(again) is type(info.value).__bases__[0]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_errors_stay_retryable(status, sim, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_onecodex.api.errors import OneCodexAPIError

    sim.state.faults.script(path_regex=r"^/api/v1/alignments", faults=[{"status": status}] * 5)
    op = OneCodexGetAlignmentOperator(task_id="get", alignment_id=DONE_ALIGNMENT)
    monkeypatch.setattr("time.sleep", lambda s: None)  # the client's own backoff
    with pytest.raises(OneCodexAPIError) as info:
        op.execute({})
    assert not isinstance(info.value, AirflowFailException)  # Airflow's task retries apply
    assert info.value.status == status


# -- list --------------------------------------------------------------------------------------


def test_list_records_with_where_sort_and_max_records(sim) -> None:
    op = OneCodexListRecordsOperator(
        task_id="list",
        resource="analyses",
        where={"analysis_type": "classification", "complete": True},
        sort={"created_at": False},
        max_records=2,
        per_page=1,
    )
    records = op.execute({})
    assert len(records) == 2
    assert {r["analysis_type"] for r in records} == {"classification"}
    assert records[0]["created_at"] <= records[1]["created_at"]
    assert sim.state.count("/api/v1/analyses") == 2  # per_page=1: two pages, then it stops


def test_list_alignments_of_a_sample_and_reference(sim) -> None:
    op = OneCodexListAlignmentsOperator(task_id="list", sample_id=DEMO_SAMPLE, tax_id="562")
    records = op.execute({})
    assert [(r["$uri"], r["tax_id"]) for r in records] == [("/api/v1/alignments/a1a1000000000562", "562")]


def test_list_public_variant(sim) -> None:
    op = OneCodexListRecordsOperator(task_id="list", resource="samples", variant="public")
    records = op.execute({})
    assert [r["$uri"] for r in records] == [f"/api/v1/samples/{PUBLIC_SAMPLE}"]
    assert sim.state.count("/api/v1/samples/public") == 1


# -- templating --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "fields"),
    [
        (OneCodexGetRecordOperator, {"resource", "record_id", "onecodex_conn_id"}),
        (OneCodexGetAlignmentOperator, {"alignment_id", "onecodex_conn_id"}),
        (OneCodexListRecordsOperator, {"resource", "where", "sort", "max_records", "onecodex_conn_id"}),
        (OneCodexListAlignmentsOperator, {"sample_id", "tax_id", "where", "sort", "onecodex_conn_id"}),
    ],
)
def test_template_fields_cover_ids_filters_and_conn_id(operator: type, fields: set[str]) -> None:
    assert fields <= set(operator.template_fields)


def test_where_rendered_from_jinja_json_text(sim) -> None:
    op = OneCodexListAlignmentsOperator(
        task_id="list",
        sample_id="{{ params.sample }}",
        where='{"tax_id": {"$in": {{ params.taxa | tojson }}}, "complete": true}',
        sort='{"created_at": {{ params.newest_first | tojson }}}',
        max_records="{{ params.limit }}",
    )
    render(op, params={"sample": PUBLIC_SAMPLE, "taxa": ["28901", "1280"], "newest_first": True, "limit": 5})
    assert op.where == '{"tax_id": {"$in": ["28901", "1280"]}, "complete": true}'
    records = op.execute({})
    assert [r["$uri"] for r in records] == [f"/api/v1/alignments/{DONE_ALIGNMENT}"]


def test_conn_id_is_templated(sim, onecodex_connection) -> None:
    onecodex_connection(conn_id="onecodex_staging")
    op = OneCodexGetAlignmentOperator(
        task_id="get", alignment_id=DONE_ALIGNMENT, onecodex_conn_id="onecodex_{{ params.env }}"
    )
    render(op, params={"env": "staging"})
    assert op.execute({})["$uri"].endswith(DONE_ALIGNMENT)
    assert op.hook.onecodex_conn_id == "onecodex_staging"


# -- validation before any request ---------------------------------------------------------------

BAD: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (
        lambda: OneCodexGetRecordOperator(task_id="t", resource="alignment", record_id=DONE_ALIGNMENT),
        ValueError,
        "resource must be one of",
    ),
    (
        lambda: OneCodexGetRecordOperator(task_id="t", resource=7, record_id=DONE_ALIGNMENT),
        TypeError,
        "resource must be a string",
    ),
    (
        lambda: OneCodexGetRecordOperator(task_id="t", resource="samples", record_id="A1B2C3D4E5F60718"),
        ValueError,
        "record_id must be a One Codex id (16 lowercase hex characters), got 'A1B2C3D4E5F60718'",
    ),
    (
        lambda: OneCodexGetRecordOperator(
            task_id="t", resource="samples", record_id=f"/api/v1/tags/{DEMO_SAMPLE}"
        ),
        ValueError,
        "record_id must be an id or a /api/v1/samples/<id> URI",
    ),
    (
        lambda: OneCodexGetAlignmentOperator(task_id="t", alignment_id=None),
        TypeError,
        "alignment_id must be a One Codex id (16 lowercase hex characters), got None",
    ),
    (
        lambda: OneCodexListRecordsOperator(task_id="t", resource="alignments", where="{'complete': True}"),
        ValueError,
        "where must be a JSON object; its text is not valid JSON",
    ),
    (
        lambda: OneCodexListRecordsOperator(task_id="t", resource="alignments", where=["complete"]),
        TypeError,
        "where must be a JSON object (dict), got ['complete']",
    ),
    (
        lambda: OneCodexListRecordsOperator(task_id="t", resource="alignments", sort={"created_at": "desc"}),
        ValueError,
        "sort['created_at'] must be true (descending) or false (ascending), got 'desc'",
    ),
    (
        lambda: OneCodexListRecordsOperator(task_id="t", resource="alignments", max_records=0),
        ValueError,
        "max_records must be a positive int or None, got 0",
    ),
    (
        lambda: OneCodexListRecordsOperator(task_id="t", resource="alignments", max_records="many"),
        TypeError,
        "max_records must be a positive int or None, got 'many'",
    ),
    (
        lambda: OneCodexListRecordsOperator(task_id="t", resource="alignments", per_page=5000),
        ValueError,
        "per_page",
    ),
    (
        lambda: OneCodexListRecordsOperator(task_id="t", resource="tags", variant="everyone"),
        ValueError,
        "variant must be one of [] or None for tags, got 'everyone'",
    ),
    (
        lambda: OneCodexListAlignmentsOperator(task_id="t", sample_id="nope"),
        ValueError,
        "sample_id must be a One Codex id (16 lowercase hex characters), got 'nope'",
    ),
    (
        lambda: OneCodexListAlignmentsOperator(task_id="t", sample_id=DEMO_SAMPLE, tax_id="E. coli"),
        ValueError,
        "tax_id must be an NCBI taxonomy id such as '1280', got 'E. coli'",
    ),
    (
        lambda: OneCodexListAlignmentsOperator(task_id="t", sample_id=DEMO_SAMPLE, where={"sample": "x"}),
        ValueError,
        "give sample_id or a 'sample' filter in where, not both",
    ),
]


@pytest.mark.parametrize(("make", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_arguments_are_refused_before_any_request(make, error, message, sim) -> None:
    """A literal bad id fails when the DAG is parsed (the operator is built); every other bad
    argument fails the task without retries (AirflowFailException), before any request."""
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises((error, AirflowFailException)) as raised:
        make().execute({})
    assert isinstance(raised.value, error)  # at parse time a plain error, at run time both
    assert message in str(raised.value)
    assert sim.state.count() == 0


def test_a_literal_bad_id_fails_at_dag_parse_time_a_templated_one_at_run_time(sim) -> None:
    with pytest.raises(ValueError, match="alignment_id must be a One Codex id"):
        OneCodexGetAlignmentOperator(task_id="t", alignment_id="not-an-id")
    templated = OneCodexGetAlignmentOperator(task_id="t", alignment_id="{{ params.alignment_id }}")
    assert templated.alignment_id == "{{ params.alignment_id }}"


def _upload(**kwargs: Any) -> Any:
    from airflow_provider_onecodex.operators.uploads import OneCodexUploadSampleOperator

    return OneCodexUploadSampleOperator(task_id="u", source="reads.fastq", **kwargs)


PARSE_TIME = [
    (
        lambda: OneCodexListRecordsOperator(task_id="t", resource="sampels"),
        ValueError,
        "resource must be one of [",
    ),
    (
        lambda: OneCodexGetAlignmentOperator(task_id="t", alignment_id=DONE_ALIGNMENT, xcom_max_bytes=-1),
        ValueError,
        "xcom_max_bytes must be >= 0 bytes, got -1",
    ),
    (
        lambda: OneCodexListRecordsOperator(task_id="t", resource="samples", xcom_max_bytes="lots"),
        TypeError,
        "xcom_max_bytes must be a number of bytes (int), got 'lots'",
    ),
    (
        lambda: OneCodexUpdateMetadataOperator(
            task_id="t", sample_id=DEMO_SAMPLE, fields={}, merge_custom="no"
        ),
        TypeError,
        "merge_custom must be True or False, got 'no'",
    ),
    (
        lambda: OneCodexDownloadFilesOperator(task_id="t", analysis_id=CLASSIFICATION),
        TypeError,
        "OneCodexDownloadFilesOperator needs destination=",
    ),
    (lambda: _upload(project_id="nope"), ValueError, "project_id must be a One Codex id"),
    (lambda: _upload(wait_until_available="yes"), TypeError, "wait_until_available must be True or False"),
]


@pytest.mark.parametrize(("make", "error", "message"), PARSE_TIME, ids=[m for _, _, m in PARSE_TIME])
def test_literal_bad_arguments_fail_when_the_dag_is_parsed(make, error, message) -> None:
    with pytest.raises(error) as raised:
        make()
    assert message in str(raised.value)


def test_templated_arguments_are_checked_when_the_task_runs() -> None:
    listing = OneCodexListRecordsOperator(
        task_id="t", resource="{{ params.resource }}", xcom_max_bytes="{{ params.limit }}"
    )
    assert (listing.resource, listing.xcom_max_bytes) == ("{{ params.resource }}", "{{ params.limit }}")
    files = OneCodexDownloadFilesOperator(
        task_id="t", analysis_id=CLASSIFICATION, destination="{{ params.folder }}"
    )
    assert (files.resource, files.destination) == ("analyses", "{{ params.folder }}")


# -- extra link ----------------------------------------------------------------------------------


def test_extra_link_is_set_by_execute(sim) -> None:
    from airflow.sdk.types import TaskInstanceKey

    ti_key = TaskInstanceKey(dag_id="d", task_id="get", run_id="r", try_number=1, map_index=-1)
    op = OneCodexGetAlignmentOperator(task_id="get", alignment_id=DONE_ALIGNMENT)
    assert OneCodexLink() in op.operator_extra_links
    assert OneCodexLink().get_link(op, ti_key=ti_key) == ""
    op.execute({})
    assert OneCodexLink().get_link(op, ti_key=ti_key) == f"{sim.base_url}/analysis/{DONE_ALIGNMENT}"

    classification = OneCodexGetRecordOperator(
        task_id="c", resource="classifications", record_id=CLASSIFICATION
    )
    classification.execute({})
    assert OneCodexLink().get_link(classification, ti_key=ti_key) == (
        f"{sim.base_url}/classification/{CLASSIFICATION}"
    )
    sample = OneCodexGetRecordOperator(task_id="s", resource="samples", record_id=DEMO_SAMPLE)
    sample.execute({})
    # A sample links to its primary classification's page, as the sample sensor does.
    assert OneCodexLink().get_link(sample, ti_key=ti_key) == f"{sim.base_url}/classification/c1a5000000000001"


def test_sample_writing_operators_and_metadata_records_link_to_their_sample(sim) -> None:
    from airflow.sdk.types import TaskInstanceKey

    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    ti_key = TaskInstanceKey(dag_id="d", task_id="t", run_id="r", try_number=1, map_index=-1)
    page = f"{sim.base_url}/classification/c1a5000000000001"
    tag = OneCodexTagSampleOperator(task_id="tag", sample_id=DEMO_SAMPLE, tags=["qc-pass"])
    metadata = OneCodexUpdateMetadataOperator(
        task_id="meta", sample_id=DEMO_SAMPLE, fields={"custom": {"qc_verdict": "pass"}}
    )
    for op in (tag, metadata):
        assert OneCodexLink() in op.operator_extra_links
        op.execute({})
        assert OneCodexLink().get_link(op, ti_key=ti_key) == page
    metadata_id = OneCodexHook().get_sample_metadata(DEMO_SAMPLE)["$uri"].rsplit("/", 1)[1]
    record = OneCodexGetRecordOperator(task_id="m", resource="metadata", record_id=metadata_id)
    record.execute({})
    assert OneCodexLink().get_link(record, ti_key=ti_key) == page


def test_the_linked_page_exists_on_the_simulator(sim) -> None:
    import requests

    op = OneCodexGetAlignmentOperator(task_id="get", alignment_id=DONE_ALIGNMENT)
    op.execute({})
    page = requests.get(OneCodexLink().get_link(op, ti_key=None), timeout=5)  # type: ignore[arg-type]
    assert page.status_code == 200 and DONE_ALIGNMENT in page.text


def test_records_without_a_web_page_have_no_extra_link_at_all() -> None:
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG("links", schedule=None) as dag:
        OneCodexGetRecordOperator(task_id="tag", resource="tags", record_id="7a90000000000001")
        OneCodexGetRecordOperator(task_id="sample", resource="samples", record_id=DEMO_SAMPLE)
        OneCodexGetRecordOperator(task_id="templated", resource="{{ params.r }}", record_id=DEMO_SAMPLE)
    links = {
        task["__var"]["task_id"]: task["__var"].get("_operator_extra_links")
        for task in DagSerialization.to_dict(dag)["dag"]["tasks"]
    }
    assert links == {
        "tag": None,  # no "Extra Links" heading with nothing under it
        "sample": {"One Codex": "_link_OneCodexLink"},
        "templated": {"One Codex": "_link_OneCodexLink"},  # known only after rendering
    }
