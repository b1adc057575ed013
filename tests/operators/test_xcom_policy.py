"""Every value an operator pushes follows the XCom size policy, not only results; ``file://``
destinations are warned about when tasks run on several machines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_onecodex.operators.onecodex import (
    OneCodexGetRecordOperator,
    OneCodexListRecordsOperator,
)

SAMPLE = "a1b2c3d4e5f60718"


@pytest.fixture
def big_alignment(onecodex_simulator, onecodex_connection) -> str:
    """An alignment whose record is about 1 MB (large ``job_args``)."""
    return onecodex_simulator.state.add_alignment(
        SAMPLE, tax_id="1280", complete_after=0, job_args={"notes": "x" * 1_000_000}
    )


def test_a_1_mb_record_fails_before_pushing_with_size_limit_and_fix(big_alignment) -> None:
    op = OneCodexGetRecordOperator(task_id="get_alignment", resource="alignments", record_id=big_alignment)
    with pytest.raises(AirflowFailException) as info:
        op.execute({})
    message = str(info.value)
    size = int(message.split(" is ", 1)[1].split(" bytes", 1)[0])
    assert size > 1_000_000
    assert message == (
        f"The XCom value of task get_alignment is {size} bytes of JSON, more than xcom_max_bytes=49152: "
        "not pushed to XCom. Set destination= to a folder (e.g. 'file:///data/onecodex' or "
        "'s3://bucket/prefix') so the value is written there and XCom gets its location and a "
        "summary, narrow the request (where=, max_records=), or raise xcom_max_bytes."
    )


def test_a_large_record_goes_to_the_destination_with_a_summary(big_alignment, tmp_path) -> None:
    op = OneCodexGetRecordOperator(
        task_id="get_alignment", resource="alignments", record_id=big_alignment, destination=str(tmp_path)
    )
    pointer = op.execute({"run_id": "manual__1", "ti": None})
    assert set(pointer) == {"uri", "size", "sha256", "summary"}
    assert pointer["uri"] == f"file://{tmp_path}/adhoc_airflow-get_alignment-manual__1.json"
    record = json.loads(Path(pointer["uri"].removeprefix("file://")).read_bytes())
    assert record["job_args"]["notes"] == "x" * 1_000_000 and pointer["size"] > 1_000_000
    assert pointer["summary"] == {
        "kind": "record",
        "count": 1,
        "ids": [big_alignment],
        "resources": ["alignments"],
    }


def test_a_list_over_the_limit_goes_to_storage_and_small_ones_stay_in_xcom(
    onecodex_simulator, onecodex_connection, tmp_path
) -> None:
    small = OneCodexListRecordsOperator(task_id="list", resource="samples").execute({})
    assert isinstance(small, list) and len(small) > 1
    stored = OneCodexListRecordsOperator(
        task_id="list", resource="samples", xcom_max_bytes=200, destination=f"file://{tmp_path}"
    ).execute({})
    assert stored["summary"]["kind"] == "records" and stored["summary"]["count"] == len(small)
    assert json.loads(Path(stored["uri"].removeprefix("file://")).read_bytes()) == small


def test_a_file_destination_under_a_multi_machine_executor_is_warned_about(
    big_alignment, tmp_path, monkeypatch, capfd
) -> None:
    op = OneCodexGetRecordOperator(
        task_id="get_alignment", resource="alignments", record_id=big_alignment, destination=str(tmp_path)
    )
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    op.execute({})
    logs = "".join(capfd.readouterr())
    assert (
        f"Writing to file://{tmp_path} on this worker's disk, but the executor is CeleryExecutor: other "
        "tasks may run on other machines and not see it. Use shared storage (s3://, gs://, a shared "
        "mount) as destination." in " ".join(logs.split())
    ), logs
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    op.execute({})
    assert "on this worker's disk" not in "".join(capfd.readouterr())


def test_downloads_to_a_file_destination_under_celery_are_warned_about(
    onecodex_simulator, onecodex_connection, onecodex_manual_clock, tmp_path, monkeypatch, capfd
) -> None:
    from airflow_provider_onecodex.operators.onecodex import OneCodexDownloadFilesOperator

    onecodex_manual_clock.advance(100)  # the classification is complete: its files exist
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "KubernetesExecutor")
    files = OneCodexDownloadFilesOperator(
        task_id="download",
        analysis_id="c1a5000000000001",
        destination=str(tmp_path),
        resource="classifications",
    ).execute({})
    assert files and all(Path(f["uri"].removeprefix("file://")).is_file() for f in files)
    logs = " ".join("".join(capfd.readouterr()).split())
    assert (
        f"Writing to file://{tmp_path} on this worker's disk, but the executor is KubernetesExecutor" in logs
    )
