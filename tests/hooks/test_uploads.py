"""OneCodexHook.upload_sample over real HTTP: the simulator's upload routes and moto's S3 server."""

from __future__ import annotations

import gzip
import os
import sys

import pytest

from airflow_provider_onecodex.api.uploads import S3TransferError
from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from airflow_provider_onecodex.testing.uploads import BUCKET

READS = b"".join(b"@read%d\nACGTACGTAC\n+\nIIIIIIIIII\n" % i for i in range(200))
PROJECT = "fedcba9876543210"
PART_FAILED = r"single\.fastq to S3 failed: InternalError: injected part failure after 1 retries"


@pytest.fixture
def hook(onecodex_connection) -> OneCodexHook:
    return OneCodexHook()


@pytest.fixture
def run_folder(tmp_path):
    """A sequencer run folder: one paired sample (gzipped) and one single-end sample."""
    (tmp_path / "S1_R1_001.fastq.gz").write_bytes(gzip.compress(READS))
    (tmp_path / "S1_R2_001.fastq.gz").write_bytes(gzip.compress(READS.replace(b"ACGT", b"TTGA")))
    (tmp_path / "single.fastq").write_bytes(READS)
    return tmp_path


def s3_objects(sim, sample_id):
    listed = sim.state.s3.client().list_objects_v2(Bucket=BUCKET, Prefix=f"{sample_id}/")
    return {o["Key"].rsplit("/", 1)[-1]: o["Key"] for o in listed.get("Contents", [])}


def test_single_upload_from_a_local_path_goes_to_available_and_classifies(
    hook, run_folder, onecodex_simulator, onecodex_manual_clock
):
    sim = onecodex_simulator
    seen = []
    sample_id = hook.upload_sample(
        str(run_folder / "single.fastq"),
        metadata={"name": "single", "custom": {"run": "r7"}},
        tags=["run-r7"],
        project_id=PROJECT,
        on_sample_id=seen.append,
    )
    assert seen == [sample_id]
    key = s3_objects(sim, sample_id)["single.fastq"]
    head = sim.state.s3.client().head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(READS) and head["ServerSideEncryption"] == "AES256"
    statuses = []
    for _ in range(3):
        statuses.append(hook.get_sample(sample_id)["status"])
        onecodex_manual_clock.advance(1.0)
    assert statuses == ["importing", "validating", "available"]
    record = hook.get_sample(sample_id)
    assert record["filename"] == "single.fastq" and record["size"] == len(READS)
    assert record["project"] == {"$ref": f"/api/v1/projects/{PROJECT}"}
    metadata = hook.get_sample_metadata(sample_id)
    assert metadata["name"] == "single" and metadata["custom"] == {"run": "r7"}
    assert [t["name"] for t in hook.list_tags(where={"name": "run-r7"})] == ["run-r7"]
    classification = record["primary_classification"]["$ref"].rsplit("/", 1)[-1]
    assert hook.get_classification(classification)["complete"] is False
    onecodex_manual_clock.advance(2.0)
    assert hook.get_classification(classification)["complete"] is True


def test_paired_upload_from_file_urls_sends_r2_first_and_names_r1(hook, run_folder, onecodex_simulator):
    sim = onecodex_simulator
    sample_id = hook.upload_sample(
        f"file://{run_folder}/S1_R2_001.fastq.gz", paired_source=f"file://{run_folder}/S1_R1_001.fastq.gz"
    )
    assert set(s3_objects(sim, sample_id)) == {"S1_R1_001.fastq.gz", "S1_R2_001.fastq.gz"}
    record = hook.get_sample(sample_id)
    assert record["filename"] == "S1_R1_001.fastq.gz"
    assert record["size"] == sum(os.path.getsize(run_folder / n) for n in s3_objects(sim, sample_id))


def test_upload_from_an_s3_path(hook, onecodex_simulator):
    """An ``s3://`` source read as a stream through fsspec (s3fs), here from moto."""
    from upath import UPath

    sim = onecodex_simulator
    s3 = sim.state.s3.client()
    s3.create_bucket(Bucket="lab-runs")
    s3.put_object(Bucket="lab-runs", Key="run9/P1_R1.fq", Body=READS)
    s3.put_object(Bucket="lab-runs", Key="run9/P1_R2.fq", Body=READS)
    options = {"endpoint_url": sim.state.s3.endpoint_url, "key": "k", "secret": "s"}
    sample_id = hook.upload_sample(
        UPath("s3://lab-runs/run9/P1_R1.fq", **options),
        paired_source=UPath("s3://lab-runs/run9/P1_R2.fq", **options),
    )
    assert set(s3_objects(sim, sample_id)) == {"P1_R1.fq", "P1_R2.fq"}


@pytest.mark.parametrize("fault", [{"kind": "reset", "after": True}, 503], ids=["dropped-after", "503"])
def test_a_callback_with_unknown_outcome_leaves_one_sample(hook, run_folder, onecodex_simulator, fault):
    sim = onecodex_simulator
    sim.state.faults.script("/api/v1/samples/confirm_upload", [fault])
    before = len(sim.state.samples)
    sample_id = hook.upload_sample(run_folder / "single.fastq")
    assert len(sim.state.samples) == before + 1
    assert hook.get_sample(sample_id)["status"] == "importing"
    # processed once: a dropped answer is found by looking; a 503 before processing is resent once
    assert sim.state.count("/api/v1/samples/preupload") == 1
    assert sim.state.count("/api/v1/samples/confirm_upload") == (2 if fault == 503 else 1)


def test_a_retry_after_failed_parts_resumes_into_the_same_sample(hook, run_folder, onecodex_simulator):
    sim = onecodex_simulator
    sim.state.s3.fail_parts(50)  # more than botocore's attempts: the task attempt fails
    before = len(sim.state.samples)
    seen: list[str] = []
    with pytest.raises(S3TransferError, match=PART_FAILED) as failed:
        hook.upload_sample(run_folder / "single.fastq", on_sample_id=seen.append)
    key = sim.state.uploads.targets[seen[0]].file_id
    assert key not in str(failed.value) and BUCKET not in str(failed.value)  # no S3 key in errors
    assert hook.get_sample(seen[0])["status"] == "awaiting_data"
    sim.state.s3.fail_parts(1)  # transient: botocore's retry (max_retries=1) gets through
    assert hook.upload_sample(run_folder / "single.fastq", sample_id=seen[0]) == seen[0]
    assert len(sim.state.samples) == before + 1
    assert hook.get_sample(seen[0])["status"] == "importing"


def test_external_sample_id_makes_a_rerun_create_nothing(hook, run_folder, onecodex_simulator):
    sim = onecodex_simulator
    first = hook.upload_sample(run_folder / "single.fastq", external_sample_id="run7-single")
    before, inits = len(sim.state.samples), sim.state.count("/api/v1/samples/init_multipart_upload")
    again = hook.upload_sample(run_folder / "single.fastq", external_sample_id="run7-single")
    assert again == first and len(sim.state.samples) == before
    assert sim.state.count("/api/v1/samples/init_multipart_upload") == inits
    assert sim.state.count("/api/v1/samples/preupload") == 1


def test_cancel_on_failure_and_cancel_after_success(hook, run_folder, onecodex_simulator):
    sim = onecodex_simulator
    sim.state.s3.fail_parts(50)
    seen: list[str] = []
    with pytest.raises(S3TransferError, match=PART_FAILED):
        hook.upload_sample(run_folder / "single.fastq", on_sample_id=seen.append, cancel_on_failure=True)
    cancelled = hook.get_sample(seen[0])
    assert (cancelled["status"], cancelled["error_msg"]) == ("deleted", "Upload cancelled")
    sim.state.s3.fail_parts(0)
    done = hook.upload_sample(run_folder / "single.fastq")
    assert hook.cancel_upload(done) == {"cancelled": False, "message": "Upload already successful"}


def test_a_file_the_scenario_marks_bad_fails_validation(
    hook, run_folder, onecodex_simulator, onecodex_manual_clock
):
    onecodex_simulator.state.uploads.bad_filenames.add("single.fastq")
    sample_id = hook.upload_sample(run_folder / "single.fastq")
    onecodex_manual_clock.advance(5)
    record = hook.get_sample(sample_id)
    assert record["status"] == "failed_validation" and "single.fastq" in record["error_msg"]
    assert record["primary_classification"] is None


def _bad_inputs(tmp_path):
    (tmp_path / "reads.txt").write_bytes(READS)
    (tmp_path / "empty.fastq").write_bytes(b"")
    (tmp_path / "x_R1.fasta").write_bytes(b">a\nACGT\n")
    (tmp_path / "x_R2.fasta").write_bytes(b">a\nACGT\n")
    (tmp_path / "back\\slash.fastq").write_bytes(READS)
    (tmp_path / "échantillon.fastq").write_bytes(READS)
    with open(tmp_path / "huge.fastq", "wb") as f:
        f.truncate(25 * 1000**3)  # sparse: 25 GB announced, nothing written
    ok = tmp_path / "ok.fastq"
    ok.write_bytes(READS)
    return {
        "wrong extension": ({"source": tmp_path / "reads.txt"}, ValueError, r"must end in \.fa"),
        "empty file": ({"source": tmp_path / "empty.fastq"}, ValueError, "is empty"),
        "FASTA for paired": (
            {"source": tmp_path / "x_R1.fasta", "paired_source": tmp_path / "x_R2.fasta"},
            ValueError,
            "must both be FASTQ",
        ),
        "name with a separator": ({"source": tmp_path / "back\\slash.fastq"}, ValueError, "must not contain"),
        "non-ASCII name": ({"source": tmp_path / "échantillon.fastq"}, ValueError, "must be ASCII"),
        "25 GB": (
            {"source": tmp_path / "huge.fastq"},
            ValueError,
            "25.0 GB; One Codex takes files up to 20 GB",
        ),
        "nested custom": (
            {"source": ok, "metadata": {"custom": {"qc": {"reads": 1}}}},
            TypeError,
            r"metadata\['custom'\] must be a flat dict",
        ),
        "missing file": ({"source": tmp_path / "nope.fastq"}, ValueError, "does not exist"),
        "bad tags": ({"source": ok, "tags": "lab"}, TypeError, "tags must be a list"),
        "not a path": ({"source": 42}, TypeError, "source must be a path"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "wrong extension",
        "empty file",
        "FASTA for paired",
        "name with a separator",
        "non-ASCII name",
        "25 GB",
        "nested custom",
        "missing file",
        "bad tags",
        "not a path",
    ],
)
def test_bad_input_fails_before_any_request(hook, tmp_path, onecodex_simulator, case):
    kwargs, error, match = _bad_inputs(tmp_path)[case]
    source = kwargs.pop("source")
    with pytest.raises(error, match=match):
        hook.upload_sample(source, **kwargs)
    assert onecodex_simulator.state.requests == []


def test_missing_boto3_names_the_extra_before_any_request(hook, run_folder, onecodex_simulator, monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ImportError, match=r"airflow-provider-onecodex\[upload\]"):
        hook.upload_sample(run_folder / "single.fastq")
    assert onecodex_simulator.state.requests == []


def test_logs_show_progress_but_never_keys(hook, onecodex_simulator, tmp_path, caplog):
    """Progress lines name the sample and file; no S3 key, bucket secret or credential appears."""
    import logging

    big = tmp_path / "big.fastq"
    big.write_bytes(READS * 3000)  # ~7 MiB: several progress lines
    caplog.set_level(logging.INFO, logger="airflow_provider_onecodex.upload_transfer")
    sample_id = hook.upload_sample(big)
    target = onecodex_simulator.state.uploads.targets[sample_id]
    text = caplog.text
    progress = [r for r in caplog.records if "%)" in r.getMessage()]
    assert 5 <= len(progress) <= 11, [r.getMessage() for r in progress]  # every 10 %, not per chunk
    assert f"sample {sample_id}: big.fastq" in text and "MiB/s" in text and "ETA" in text
    assert target.file_id not in text and BUCKET not in text and "AKIA" not in text
