"""Upload rules and the upload operation, driven by scripted effects (no I/O)."""

from __future__ import annotations

import bz2
import gzip

import pytest

from airflow_provider_onecodex.api import fastx
from airflow_provider_onecodex.api.errors import (
    OneCodexConnectionError,
    OneCodexNotFoundError,
    OneCodexResponseError,
    OneCodexServerError,
)
from airflow_provider_onecodex.api.fastx import MiB, SequenceFile, check_file, choose_chunk_size, order_pair
from airflow_provider_onecodex.api.ops import ApiCall, Listing, run_op
from airflow_provider_onecodex.api.transfer import TransferProgress
from airflow_provider_onecodex.api.uploads import (
    S3Put,
    SampleCreated,
    build_request,
    cancel_upload,
    upload_sample,
)

FASTQ = b"@r1\nACGT\n+\nIIII\n"
FASTA = b">r1\nACGT\n"
SID = "0123456789abcdef"
PROJECT = "fedcba9876543210"


def fq(name: str, size: int = 100) -> SequenceFile:
    return SequenceFile(name, size, "fastq", None)


# -- file rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size", "head", "expected"),
    [
        ("s.fastq", len(FASTQ), FASTQ, ("fastq", None)),
        ("s.fq.gz", 50, gzip.compress(FASTQ), ("fastq", "gzip")),
        ("s.fa.bz2", 50, bz2.compress(FASTA), ("fasta", "bzip2")),
        ("S 1 (a)[b]{c}.fasta", len(FASTA), b"\n" + FASTA, ("fasta", None)),
    ],
)
def test_accepted_files(name, size, head, expected):
    checked = check_file(name, size, head)
    assert (checked.format, checked.compression) == expected


@pytest.mark.parametrize(
    ("name", "size", "head", "error", "match"),
    [
        ("s.txt", 10, FASTQ, ValueError, r"must end in \.fa"),
        ("s.fastq", 0, b"", ValueError, "is empty"),
        ("run/s.fastq", 10, FASTQ, ValueError, "must not contain '/'"),
        ("échantillon.fastq", 10, FASTQ, ValueError, "must be ASCII"),
        ("-s.fastq", 10, FASTQ, ValueError, "does not match One Codex's pattern"),
        ("s.fastq", 25 * 1000**3, FASTQ, ValueError, r"25\.0 GB; One Codex takes files up to 20 GB"),
        ("s.fastq", len(FASTA), FASTA, ValueError, "holds FASTA but its name says FASTQ"),
        ("s.fastq", 20, gzip.compress(FASTQ), ValueError, "is gzip but its name says not compressed"),
        ("s.fastq.gz", len(FASTQ), FASTQ, ValueError, "is not compressed but its name says gzip"),
        ("s.fastq", 9, b"hello you", ValueError, "neither FASTA"),
        ("s.fastq.gz", 20, gzip.compress(b""), ValueError, "holds no sequences"),
        ("s.fastq.gz", 5, b"\x1f\x8bxxx", ValueError, "not a valid gzip stream"),
        ("s.fastq", "10", FASTQ, TypeError, "size must be a byte count"),
        (None, 10, FASTQ, TypeError, "file name must be a string"),
    ],
)
def test_refused_files(name, size, head, error, match):
    with pytest.raises(error, match=match):
        check_file(name, size, head, "source")


def test_pairs_are_ordered_like_the_official_client():
    r1, r2 = fq("x_R1_001.fastq"), fq("x_R2_001.fastq")
    assert order_pair(r2, r1) == (r1, r2)
    assert order_pair(fq("s_1.fq"), fq("s_2.fq"))[0].name == "s_1.fq"
    with pytest.raises(ValueError, match="need _R1/_1 and _R2/_2"):
        order_pair(fq("a.fastq"), fq("b.fastq"))
    with pytest.raises(ValueError, match="both be FASTQ"):
        order_pair(SequenceFile("x_R1.fa", 5, "fasta", None), r2)


@pytest.mark.parametrize(
    ("size", "chunk"),
    [(1, 10), (10_000 * 10 * MiB - 1, 20), (9_999 * 10 * MiB, 10), (9_999 * 100 * MiB, 100)],
)
def test_chunk_size_rule(size, chunk):
    assert choose_chunk_size(size) == chunk * MiB


def test_chunk_size_rule_has_a_ceiling():
    with pytest.raises(ValueError, match="too large"):
        choose_chunk_size(10_000 * 100 * MiB)


def test_sniffing_looks_at_bounded_output():
    bomb = gzip.compress(b"@" + b"A" * (50 * MiB))
    assert fastx.sniff(bomb[: fastx.SNIFF_BYTES], "b.fq.gz") == ("fastq", "gzip")


# -- request checks -------------------------------------------------------------------------------


def test_request_checks_metadata_tags_and_ids():
    req = build_request(
        fq("a_R2.fq"),
        fq("a_R1.fq"),
        metadata={"name": "A", "custom": {"run": 7}},
        tags=["lab", "lab", "x"],
        project_id=PROJECT,
        external_sample_id="run7-A",
    )
    assert (req.r1.name, req.r1_role, req.r2_role) == ("a_R1.fq", "paired_source", "source")
    assert req.metadata == {"name": "A", "custom": {"run": 7}, "external_sample_id": "run7-A"}
    assert req.tags == ["lab", "x"]
    assert build_request(fq("a.fq"), metadata={"external_sample_id": "k"}).external_sample_id == "k"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metadata": {"custom": {"a": {"b": 1}}}}, TypeError, r"metadata\['custom'\] must be a flat dict"),
        ({"metadata": {"colour": "red"}}, ValueError, "unknown metadata fields"),
        ({"tags": "lab"}, TypeError, "tags must be a list"),
        ({"tags": ["x" * 31]}, ValueError, "1 to 30 characters"),
        ({"project_id": "nope"}, ValueError, "project_id must be a One Codex id"),
        ({"external_sample_id": "x" * 61}, ValueError, "at most 60 characters"),
        (
            {"external_sample_id": "a", "metadata": {"external_sample_id": "b"}},
            ValueError,
            "differs from external_sample_id",
        ),
    ],
)
def test_request_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        build_request(fq("a.fq"), **kwargs)


# -- the operation --------------------------------------------------------------------------------


class Script:
    """Answers effects in order; records them."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.seen = []

    def __call__(self, effect):
        self.seen.append(effect)
        if isinstance(effect, (SampleCreated, S3Put)):
            return None
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def kinds(self):
        out = []
        for e in self.seen:
            if isinstance(e, ApiCall):
                out.append(f"{e.method} {e.path.rsplit('/', 1)[-1]}")
            elif isinstance(e, S3Put):
                out.append(f"S3 {e.role}")
            else:
                out.append(type(e).__name__)
        return out


INIT = {
    "sample_id": SID,
    "s3_bucket": "bucket",
    "file_id": "k/r1",
    "paired_end_file_id": "k/r2",
    "upload_aws_access_key_id": "AKIA",
    "upload_aws_secret_access_key": "secret",
    "callback_url": "/api/v1/samples/confirm",
}


def sample(status):
    return {"$uri": f"/api/v1/samples/{SID}", "status": status}


def test_new_paired_upload_creates_first_then_r2_then_r1_then_callback():
    req = build_request(fq("a_R1.fq"), fq("a_R2.fq"), tags=["t"], project_id=PROJECT)
    script = Script({"sample_id": SID}, INIT, {"sample_id": SID})
    assert run_op(upload_sample(req), script) == SID
    assert script.kinds() == [
        "POST preupload",
        "SampleCreated",
        "POST init_multipart_upload",
        "S3 paired_source",
        "S3 source",
        "POST confirm",
    ]
    pre, init, cb = (e for e in script.seen if isinstance(e, ApiCall))
    assert pre.retried is False and cb.retried is False
    assert pre.json_body["project"] == {"$ref": f"/api/v1/projects/{PROJECT}"}
    assert pre.json_body["tags"] == [{"name": "t"}]
    assert init.json_body == {
        "filename": "a_R1.fq",
        "sample_id": SID,
        "external_sample_id": None,
        "paired_end_filename": "a_R2.fq",
    }
    assert cb.json_body == {"s3_path": "s3://bucket/k/r1", "filename": "a_R1.fq"}
    put = script.seen[3]
    assert put.key == "k/r2" and put.chunk_size == 10 * MiB and "secret" not in repr(put)


def test_external_id_finds_an_uploaded_sample_and_uploads_nothing():
    req = build_request(fq("a.fq"), external_sample_id="k1")
    script = Script([{"sample": {"$ref": f"/api/v1/samples/{SID}"}}], sample("available"))
    assert run_op(upload_sample(req), script) == SID
    assert script.kinds() == ["Listing", f"GET {SID}", "SampleCreated"]
    assert script.seen[0] == Listing("metadata", where={"external_sample_id": "k1"}, max_records=10)


def test_external_id_resumes_an_awaiting_sample():
    req = build_request(fq("a.fq"), external_sample_id="k1")
    script = Script([{"sample": {"$ref": f"/api/v1/samples/{SID}"}}], sample("awaiting_data"), INIT, {})
    assert run_op(upload_sample(req), script) == SID
    assert "POST preupload" not in script.kinds()
    assert script.kinds()[-2:] == ["S3 source", "POST confirm"]


def test_deleted_matches_are_ignored_and_duplicates_refused():
    req = build_request(fq("a.fq"), external_sample_id="k1")
    gone = OneCodexNotFoundError(404, "GET", "/api/v1/samples/x", "gone")
    refs = [{"sample": {"$ref": f"/api/v1/samples/{SID}"}}] * 2
    script = Script(refs, gone, sample("deleted"), {"sample_id": SID}, INIT, {})
    assert run_op(upload_sample(req), script) == SID
    assert "POST preupload" in script.kinds()
    two = Script(refs, sample("available"), sample("validating"))
    with pytest.raises(ValueError, match="2 samples have external_sample_id 'k1'"):
        run_op(upload_sample(req), two)


def test_preupload_with_unknown_outcome_looks_before_anything_else():
    req = build_request(fq("a.fq"), external_sample_id="k1")
    dropped = OneCodexConnectionError(None, "POST", "/api/v1/samples/preupload", "reset")
    script = Script(
        [], dropped, [{"sample": {"$ref": f"/api/v1/samples/{SID}"}}], sample("awaiting_data"), INIT, {}
    )
    assert run_op(upload_sample(req), script) == SID
    assert script.kinds().count("POST preupload") == 1
    without_key = Script(dropped)
    with pytest.raises(OneCodexConnectionError):
        run_op(upload_sample(build_request(fq("a.fq"))), without_key)
    assert without_key.kinds() == ["POST preupload"]


def test_callback_with_unknown_outcome_is_resent_only_if_not_processed():
    req = build_request(fq("a.fq"))
    dropped = OneCodexServerError(502, "POST", "/api/v1/samples/confirm", "bad gateway")
    done = Script({"sample_id": SID}, INIT, dropped, sample("importing"))
    assert run_op(upload_sample(req), done) == SID
    assert done.kinds()[-2:] == ["POST confirm", f"GET {SID}"]
    lost = Script({"sample_id": SID}, INIT, dropped, sample("awaiting_data"), {})
    assert run_op(upload_sample(req), lost) == SID
    assert lost.kinds().count("POST confirm") == 2


def test_given_sample_id_skips_creation_and_refuses_deleted():
    req = build_request(fq("a.fq"), metadata={"name": "x"})
    script = Script(sample("awaiting_data"), INIT, {})
    assert run_op(upload_sample(req, SID), script) == SID
    assert script.kinds()[:3] == [f"GET {SID}", "SampleCreated", "POST init_multipart_upload"]
    with pytest.raises(ValueError, match="is deleted"):
        run_op(upload_sample(req, SID), Script(sample("deleted")))


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        ({**INIT, "callback_url": "https://elsewhere/cb"}, "callback_url is not a path"),
        ({**INIT, "paired_end_file_id": None}, "no paired_end_file_id"),
        ({k: v for k, v in INIT.items() if k != "s3_bucket"}, "missing or empty"),
    ],
)
def test_bad_init_answers_stop_before_any_byte_moves(answer, match):
    req = build_request(fq("a_R1.fq"), fq("a_R2.fq"))
    script = Script({"sample_id": SID}, answer)
    with pytest.raises(OneCodexResponseError, match=match):
        run_op(upload_sample(req), script)
    assert not any(isinstance(e, S3Put) for e in script.seen)


def test_cancel_upload_treats_already_successful_as_success():
    assert run_op(cancel_upload(SID), Script({"message": "ok", "success": True}))["cancelled"] is True
    too_late = OneCodexResponseError(
        400, "POST", "/api/v1/samples/cancel_upload", "Upload already successful"
    )
    assert run_op(cancel_upload(SID), Script(too_late)) == {
        "cancelled": False,
        "message": "Upload already successful",
    }
    answer = {"message": "Upload already successful", "success": False}
    assert run_op(cancel_upload(SID), Script(answer))["cancelled"] is False
    with pytest.raises(OneCodexResponseError, match="refused"):
        run_op(cancel_upload(SID), Script({"message": "no", "success": False}))
    with pytest.raises(ValueError):
        run_op(cancel_upload("x"), Script())


def test_progress_lines_at_most_every_tenth_or_30_seconds():
    progress = TransferProgress(1000, "sample x: a.fq", start=0.0)
    lines = [progress.add(10, now=i * 0.1) for i in range(99)]
    assert sum(1 for line in lines if line) == 9
    slow = TransferProgress(1000, "slow", start=0.0)
    assert slow.add(1, 29.0) is None
    line = slow.add(1, 31.0)
    assert line is not None and line.startswith("slow: 2 B of 1000 B (0 %), ") and "ETA" in line


def test_run_folder_files_pair_by_their_read_token():
    names = [
        "S1_R2_001.fastq.gz",
        "S1_R1_001.fastq.gz",
        "S2_1.fq",
        "S2_2.fq",
        "S3_R1.fq",
        "notes.txt",
        "x.fa",
    ]
    pairs, singles = fastx.pair_run_files(names)
    assert pairs == [("S1_R1_001.fastq.gz", "S1_R2_001.fastq.gz"), ("S2_1.fq", "S2_2.fq")]
    assert singles == ["S3_R1.fq", "x.fa"]
    assert [fastx.sample_key(n) for n in ("S1_R1_001.fastq.gz", "S2_1.fq", "x.fa")] == ["S1", "S2", "x"]
