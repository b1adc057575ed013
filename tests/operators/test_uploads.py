"""OneCodexUploadSampleOperator against the simulator: waits in poke and deferrable modes, retries."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_provider_onecodex.api.uploads import S3TransferError
from airflow_provider_onecodex.operators.uploads import SAMPLE_ID_KEY, OneCodexUploadSampleOperator
from tests._modes import MemoryStateStore as Store
from tests._modes import first_event

READS = b"".join(b"@read%d\nACGTACGTAC\n+\nIIIIIIIIII\n" % i for i in range(50))


class FakeTI:
    """What the operator reads of a task instance: try number, map index, its own XComs."""

    def __init__(self, try_number: int = 1) -> None:
        self.try_number, self.map_index, self.task_id = try_number, -1, "upload"
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = json.loads(json.dumps(value))

    def xcom_pull(self, task_ids: str, key: str, map_indexes: int) -> Any:
        assert (task_ids, map_indexes) == (self.task_id, self.map_index)
        return self.xcoms.get(key)


@pytest.fixture
def fast_uploads(onecodex_simulator, onecodex_connection):
    book = onecodex_simulator.state.uploads
    book.import_seconds = book.validate_seconds = 0.2
    return onecodex_simulator


@pytest.fixture
def files(tmp_path):
    (tmp_path / "A_R1.fastq.gz").write_bytes(gzip.compress(READS))
    (tmp_path / "A_R2.fastq.gz").write_bytes(gzip.compress(READS))
    return tmp_path


def make(files, **kwargs):
    kwargs.setdefault("source", str(files / "A_R1.fastq.gz"))
    kwargs.setdefault("paired_source", str(files / "A_R2.fastq.gz"))
    return OneCodexUploadSampleOperator(task_id="upload", poke_interval=0.1, timeout=30, **kwargs)


def test_poke_mode_uploads_and_returns_the_available_sample(fast_uploads, files):
    ti = FakeTI()
    record = make(files, metadata={"name": "A"}).execute({"ti": ti, "task_state_store": Store()})
    assert record["status"] == "available" and record["filename"] == "A_R1.fastq.gz"
    assert record["$uri"].endswith(ti.xcoms[SAMPLE_ID_KEY])


@pytest.mark.parametrize("airflow", ["3.3", "3.2"])  # 3.2: no task_state_store, the id comes from XCom
def test_deferrable_mode_reuses_the_sample_trigger(fast_uploads, files, airflow):
    ti = FakeTI()
    context = {"ti": ti, "task_state_store": Store()} if airflow == "3.3" else {"ti": ti}
    with pytest.raises(TaskDeferred) as deferred:
        make(files, deferrable=True).execute(context)
    assert type(deferred.value.trigger).__name__ == "OneCodexSampleTrigger"
    event = asyncio.run(first_event(deferred.value.trigger))  # rebuilt from its serialization
    fresh = make(files, deferrable=True)  # the task resumes in a new process
    record = fresh.resume_execution(deferred.value.method_name, {"event": event.payload}, context)
    assert record["status"] == "available" and record["$uri"].endswith(ti.xcoms[SAMPLE_ID_KEY])


def test_failed_validation_fails_the_task_with_error_msg(fast_uploads, files):
    fast_uploads.state.uploads.bad_filenames.add("A_R1.fastq.gz")
    with pytest.raises(AirflowFailException, match=r"failed_validation: A_R1\.fastq\.gz failed validation"):
        make(files).execute({"ti": FakeTI(), "task_state_store": Store()})


def test_a_task_retry_uploads_into_the_sample_of_the_first_try(fast_uploads, files):
    sim, store = fast_uploads, Store()
    before = len(sim.state.samples)
    sim.state.s3.fail_parts(50)
    with pytest.raises(S3TransferError):
        make(files, retries=1).execute({"ti": FakeTI(try_number=1), "task_state_store": store})
    first = store.values[SAMPLE_ID_KEY]
    assert fast_uploads.state.samples[first].status == "awaiting_data"  # kept for the retry
    sim.state.s3.fail_parts(0)
    record = make(files, retries=1).execute({"ti": FakeTI(try_number=2), "task_state_store": store})
    assert record["$uri"].endswith(first) and len(sim.state.samples) == before + 1


def test_the_last_try_cancels_its_upload(fast_uploads, files):
    sim, store = fast_uploads, Store()
    sim.state.s3.fail_parts(50)
    with pytest.raises(S3TransferError):
        make(files, retries=0).execute({"ti": FakeTI(), "task_state_store": store})
    assert sim.state.samples[store.values[SAMPLE_ID_KEY]].status == "deleted"
    assert sim.state.count("/api/v1/samples/cancel_upload") == 1


def test_without_waiting_the_record_is_returned_at_once(fast_uploads, files):
    record = make(files, wait_until_available=False).execute({"ti": FakeTI()})
    assert record["status"] == "importing"


def test_external_sample_id_across_dag_runs(fast_uploads, files):
    first = make(files, external_sample_id="run-1-A").execute({"ti": FakeTI(), "task_state_store": Store()})
    again = make(files, external_sample_id="run-1-A").execute({"ti": FakeTI(), "task_state_store": Store()})
    assert again["$uri"] == first["$uri"]
    assert fast_uploads.state.count("/api/v1/samples/preupload") == 1


def test_templated_fields_render(files):
    op = make(
        files,
        source="{{ params.folder }}/A_R1.fastq.gz",
        metadata='{"name": "{{ params.name }}"}',
        external_sample_id="{{ params.name }}-x",
    )
    op.render_template_fields({"params": {"folder": str(files), "name": "A"}})
    assert op.source == f"{files}/A_R1.fastq.gz"
    assert op.metadata == '{"name": "A"}' and op.external_sample_id == "A-x"


def test_reschedule_mode_is_refused(files):
    with pytest.raises(ValueError, match="does not take mode='reschedule'"):
        make(files, mode="reschedule")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("Empty_R1.fastq", b"", "is empty"),
        ("Wrong_R1.txt", READS, "must end in .fa, .fna, .fasta, .fq, .fastq"),
        ("Plain_R1.fastq.gz", READS, "is not compressed but its name says gzip"),
    ],
)
def test_a_bad_file_fails_without_spending_task_retries(fast_uploads, files, name, content, message):
    (files / name).write_bytes(content)
    before = fast_uploads.state.count()
    with pytest.raises(AirflowFailException, match=message) as failed:
        make(files, source=str(files / name), paired_source=None, retries=2).execute(
            {"ti": FakeTI(), "task_state_store": Store()}
        )
    assert isinstance(failed.value, ValueError)  # `except ValueError` in user code still catches it
    assert fast_uploads.state.count() == before  # refused before any request


def test_a_storage_airflow_cannot_open_fails_naming_the_source_and_what_to_install(fast_uploads, files):
    before = fast_uploads.state.count()
    with pytest.raises(AirflowFailException, match="install the Airflow provider of s3:// storage") as failed:
        make(files, source="s3://nobucket/none_R1.fastq.gz", paired_source=None, retries=2).execute(
            {"ti": FakeTI(), "task_state_store": Store()}
        )
    assert isinstance(failed.value, ValueError)
    assert "source 's3://nobucket/none_R1.fastq.gz'" in str(failed.value)
    assert fast_uploads.state.count() == before  # refused before any request


def test_a_second_run_with_the_same_external_sample_id_says_it_uploads_nothing(fast_uploads, files, caplog):
    make(files, external_sample_id="run7-A", wait_until_available=False).execute(
        {"ti": FakeTI(), "task_state_store": Store()}
    )
    fast_uploads.state.uploads.import_seconds = 0
    caplog.clear()
    with caplog.at_level("INFO"):
        make(files, external_sample_id="run7-A", wait_until_available=False).execute(
            {"ti": FakeTI(), "task_state_store": Store()}
        )
    assert "already holds this upload" in caplog.text
    assert "Uploading" not in caplog.text
