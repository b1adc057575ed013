"""Sample uploads (sync only): :class:`OneCodexUploadsHook`, part of ``OneCodexHook``.

Every decision is in :mod:`airflow_provider_onecodex.api.uploads` and :mod:`~.api.fastx`; this hook
reads the sources (as streams) and performs the operation's two upload effects, ``SampleCreated``
(tell the caller) and ``S3Put`` (move the bytes with boto3, the ``airflow-provider-onecodex[upload]``
extra, as One Codex's own client does); the API effects go to :meth:`OneCodexBaseHook.run`'s
executor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from airflow_provider_onecodex.api.fastx import SNIFF_BYTES, SequenceFile, check_file
from airflow_provider_onecodex.api.ops import run_op
from airflow_provider_onecodex.api.transfer import TransferProgress
from airflow_provider_onecodex.api.uploads import S3Put, S3TransferError, SampleCreated, build_request
from airflow_provider_onecodex.api.uploads import cancel_upload as cancel_upload_op
from airflow_provider_onecodex.api.uploads import upload_sample as upload_sample_op
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook

log = logging.getLogger(__name__)

SOURCE_BLOCK = 8 * 1024 * 1024  # bytes fetched per read from remote storage (fsspec block size)
UPLOAD_EXTRA_HINT = "pip install 'airflow-provider-onecodex[upload]'"


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise ImportError(
            f"uploading samples needs boto3, which the 'upload' extra installs: {UPLOAD_EXTRA_HINT}"
        ) from None
    return boto3


def source_path(source: object, name: str = "source") -> Any:
    """``source`` as a readable path: an ``ObjectStoragePath`` or other universal_pathlib ``UPath``
    is used as is; a URL (``file://``, ``s3://``, ``gs://``...) or a local path becomes an
    ``ObjectStoragePath``.

    :raises TypeError: not a path. :raises ValueError: empty.
    """
    from upath import UPath

    from airflow_provider_onecodex.storage import storage_path

    if isinstance(source, UPath):
        return source
    return storage_path(source, name=name)


def _read_file(path: Any, what: str) -> SequenceFile:
    """Check one source from its name, size and first bytes (one short read, nothing kept)."""
    try:
        size = path.stat().st_size
        with path.open("rb", block_size=SOURCE_BLOCK) as stream:
            head = stream.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise ValueError(f"{what}: {path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"{what}: {path} is a folder, not a file") from None
    return check_file(path.name, size, head, what)


class OneCodexUploadsHook(OneCodexBaseHook):
    """``POST /api/v1/samples/preupload``, ``init_multipart_upload``, the S3 step, the callback,
    ``cancel_upload``."""

    def upload_sample(
        self,
        source: object,
        *,
        paired_source: object = None,
        metadata: object = None,
        tags: object = None,
        project_id: object = None,
        external_sample_id: object = None,
        sample_id: str | None = None,
        on_sample_id: Callable[[str], None] | None = None,
        cancel_on_failure: bool = False,
    ) -> str:
        """Upload a FASTA/FASTQ file (or a paired FASTQ pair) into one One Codex sample; return its id.

        Routes: ``GET /api/v1/metadata`` (``external_sample_id`` lookup), ``POST
        /api/v1/samples/preupload``, ``POST /api/v1/samples/init_multipart_upload``, S3 multipart
        (parts of 10-100 MiB, ``ServerSideEncryption: AES256``), ``POST <callback_url>``. Memory stays
        about one part (10 MiB for files up to ~97 GiB) whatever the file size: sources are streamed.

        :param source: the file, or one file of a pair: an ``ObjectStoragePath``, a URL
            (``file://``, ``s3://``, ``gs://``...) or a local path.
        :param paired_source: the other file of a paired-end pair (both FASTQ; R1/R2 are told
            apart by ``_R1``/``_1`` and ``_R2``/``_2`` in their names).
        :param metadata: metadata fields for the new sample (as a metadata PATCH; flat ``custom``).
        :param tags: tag names (created when new).
        :param project_id: project of the new sample.
        :param external_sample_id: idempotency key (at most 60 characters, stored as metadata): an
            existing sample with it is reused (resumed if its upload never finished, returned as is
            if it did), so a re-run of the whole DAG creates no second sample.
        :param sample_id: upload into this existing sample (pre-uploaded, or created by an earlier
            attempt); its metadata, tags and project are not sent again.
        :param on_sample_id: called with the sample id once it exists, before any byte moves
            (persist it so a retry resumes into the same sample).
        :param cancel_on_failure: ``POST /api/v1/samples/cancel_upload`` when the upload fails (do it
            only on the last attempt: a cancelled sample cannot be resumed).
        :raises TypeError, ValueError: bad arguments or files, before any request.
        :raises ImportError: boto3 is missing (the ``upload`` extra), before any request.
        :raises OneCodexAPIError: a One Codex call failed; boto3 errors for the S3 step.
        """
        paths = {"source": source_path(source, "source")}
        if paired_source is not None:
            paths["paired_source"] = source_path(paired_source, "paired_source")
        files = {role: _read_file(path, role) for role, path in paths.items()}
        request = build_request(
            files["source"],
            files.get("paired_source"),
            metadata=metadata,
            tags=tags,
            project_id=project_id,
            external_sample_id=external_sample_id,
        )
        boto3 = _boto3()
        created: list[str] = []
        s3_clients: dict[str, Any] = {}

        def perform(effect: Any) -> Any:
            if isinstance(effect, SampleCreated):
                created.append(effect.sample_id)
                if on_sample_id is not None:
                    on_sample_id(effect.sample_id)
                return None
            if isinstance(effect, S3Put):
                if effect.access_key_id not in s3_clients:  # one client per init (same keys for a pair)
                    s3_clients[effect.access_key_id] = self._s3_client(boto3, effect)
                client = s3_clients[effect.access_key_id]
                self._put(client, effect, paths[effect.role], files[effect.role], created[-1])
                return None
            return self._perform(effect)

        try:
            return run_op(upload_sample_op(request, sample_id), perform)  # type: ignore[arg-type]
        except BaseException:
            if cancel_on_failure and created:
                self._cancel_quietly(created[-1])
            raise
        finally:
            for client in s3_clients.values():
                client.close()

    def cancel_upload(self, sample_id: str) -> dict[str, Any]:
        """``POST /api/v1/samples/cancel_upload``: ``{"cancelled": bool, "message"}``; an upload
        that already succeeded gives ``cancelled: False`` (not an error)."""
        return self.run(cancel_upload_op(sample_id))  # type: ignore[arg-type]

    def _cancel_quietly(self, sample_id: str) -> None:
        try:
            outcome = self.cancel_upload(sample_id)
        except Exception as exc:  # the upload's own error matters more
            log.warning("Could not cancel the upload of sample %s: %s", sample_id, exc)
        else:
            log.info("Cancelled the upload of sample %s: %s", sample_id, outcome["message"])

    def _s3_client(self, boto3: Any, put: S3Put) -> Any:
        """An S3 client with the keys of one init; botocore retries each request (part) as the
        connection's ``max_retries`` says, with its own backoff."""
        from botocore.config import Config

        endpoint = self.config.upload_s3_endpoint_url
        return boto3.session.Session().client(
            "s3",
            aws_access_key_id=put.access_key_id,
            aws_secret_access_key=put.secret_access_key,
            endpoint_url=endpoint,
            config=Config(
                retries={"total_max_attempts": self.config.retry.max_attempts, "mode": "standard"},
                connect_timeout=self.config.connect_timeout,
                read_timeout=self.config.read_timeout,
                s3={"addressing_style": "path"} if endpoint else None,
            ),
        )

    def _put(self, client: Any, put: S3Put, path: Any, file: SequenceFile, sample_id: str) -> None:
        from boto3.s3.transfer import TransferConfig

        transfer = TransferConfig(
            multipart_threshold=put.chunk_size,
            multipart_chunksize=put.chunk_size,
            use_threads=False,  # one part in memory at a time
        )
        label = f"sample {sample_id}: {file.name}"
        progress = TransferProgress(file.size, label, time.monotonic())

        def on_bytes(n: int) -> None:
            line = progress.add(n, time.monotonic())
            if line:
                log.info("Uploading %s", line)

        log.info("Uploading %s (%d bytes, parts of %d MiB)", label, file.size, put.chunk_size >> 20)
        try:
            with path.open("rb", block_size=SOURCE_BLOCK) as stream:
                client.upload_fileobj(
                    _Reader(stream),
                    put.bucket,
                    put.key,
                    ExtraArgs={"ServerSideEncryption": "AES256"},
                    Config=transfer,
                    Callback=on_bytes,
                )
        except Exception as exc:
            raise S3TransferError(f"uploading {label} to S3 failed: {_s3_reason(exc)}") from None
        log.info("Uploaded %s", progress.describe(time.monotonic()))


def _s3_reason(exc: BaseException) -> str:
    """The S3 error code and message, or the exception type: never its text, which can hold the
    bucket and key (``S3UploadFailedError``: "Failed to upload <file> to <bucket>/<key>")."""
    from botocore.exceptions import BotoCoreError, ClientError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ClientError):
            error = seen.response.get("Error", {})
            retries = seen.response.get("ResponseMetadata", {}).get("RetryAttempts")
            after = f" after {retries} retries" if retries else ""
            return f"{error.get('Code', 'error')}: {error.get('Message', '')}{after}".strip()
        if isinstance(seen, BotoCoreError):
            return type(seen).__name__  # e.g. EndpointConnectionError: its text names the URL
        seen = seen.__cause__ or seen.__context__
    return type(exc).__name__


class _Reader:
    """A read-only, non-seekable view of a stream, so s3transfer reads it part by part in order
    (and never asks for its length by seeking, which some remote file objects do badly)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


__all__ = ["OneCodexUploadsHook", "source_path"]
