"""Moving a sample's bytes: the sources read as streams (any ``ObjectStoragePath``) and the S3
multipart step of an upload (boto3, the ``airflow-provider-onecodex[upload]`` extra, as One Codex's
own client does), and :class:`SampleUpload`, the executor of an upload operation's own effects. No
decision here: those are in :mod:`airflow_provider_onecodex.api.uploads`; the One Codex calls go to
the executor of :meth:`~airflow_provider_onecodex.hooks.samples.OneCodexSamplesHook.upload_sample`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.fastx import SNIFF_BYTES, SequenceFile, check_file
from airflow_provider_onecodex.api.ops import Effect, run_op
from airflow_provider_onecodex.api.transfer import TransferProgress
from airflow_provider_onecodex.api.uploads import (
    S3Put,
    S3TransferError,
    SampleCreated,
    UploadOp,
    cancel_upload,
)

log = logging.getLogger(__name__)

SOURCE_BLOCK = 8 * 1024 * 1024  # bytes fetched per read from remote storage (fsspec block size)
UPLOAD_EXTRA_HINT = "pip install 'airflow-provider-onecodex[upload]'"


def boto3_module() -> Any:
    """boto3, or an ImportError naming the extra that installs it."""
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


def read_source(path: Any, what: str) -> SequenceFile:
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


def s3_client(boto3: Any, put: S3Put, config: ClientConfig) -> Any:
    """An S3 client with the keys of one init; botocore retries each request (part) as the
    connection's ``max_retries`` says, with its own backoff."""
    from botocore.config import Config

    endpoint = config.upload_s3_endpoint_url
    return boto3.session.Session().client(
        "s3",
        aws_access_key_id=put.access_key_id,
        aws_secret_access_key=put.secret_access_key,
        endpoint_url=endpoint,
        config=Config(
            retries={"total_max_attempts": config.retry.max_attempts, "mode": "standard"},
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            s3={"addressing_style": "path"} if endpoint else None,
        ),
    )


def put_file(client: Any, put: S3Put, path: Any, file: SequenceFile, sample_id: str) -> None:
    """Stream ``path`` (``file`` as checked) to S3 in parts of ``put.chunk_size`` bytes, SSE AES256,
    logging progress (every 10 %).

    :raises S3TransferError: the S3 step failed (its code and message, never the bucket or key).
    """
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


class SampleUpload:
    """One upload's sources, read and checked when built (:func:`source_path`, :func:`read_source`:
    before any request), and :meth:`run`, which performs the upload operation's own effects.

    :param source: the file; ``paired_source``: the other file of a pair, or ``None``.
    """

    def __init__(self, source: object, paired_source: object = None) -> None:
        self.paths = {"source": source_path(source, "source")}
        if paired_source is not None:
            self.paths["paired_source"] = source_path(paired_source, "paired_source")
        self.files = {role: read_source(path, role) for role, path in self.paths.items()}

    def run(
        self,
        op: UploadOp[str],
        perform: Callable[[Effect], Any],
        config: ClientConfig,
        *,
        on_sample_id: Callable[[str], None] | None = None,
        cancel_on_failure: bool = False,
    ) -> str:
        """Drive ``op`` (:func:`airflow_provider_onecodex.api.uploads.upload_sample`): ``SampleCreated``
        goes to ``on_sample_id``, each ``S3Put`` to :func:`put_file` (one boto3 client per init's keys,
        closed at the end), any other effect to ``perform`` (the hook's executor). On failure, with
        ``cancel_on_failure``, the last sample created is cancelled (a failed cancel is only logged).

        :raises ImportError: boto3 is missing, before any request.
        """
        boto3 = boto3_module()
        created: list[str] = []
        clients: dict[str, Any] = {}

        def execute(effect: Any) -> Any:
            if isinstance(effect, SampleCreated):
                created.append(effect.sample_id)
                if on_sample_id is not None:
                    on_sample_id(effect.sample_id)
            elif isinstance(effect, S3Put):
                if effect.access_key_id not in clients:  # one client per init (same keys for a pair)
                    clients[effect.access_key_id] = s3_client(boto3, effect, config)
                role = effect.role
                put_file(
                    clients[effect.access_key_id], effect, self.paths[role], self.files[role], created[-1]
                )
            else:
                return perform(effect)
            return None

        try:
            return run_op(op, execute)  # type: ignore[arg-type]
        except BaseException:
            if cancel_on_failure and created:
                _cancel_quietly(created[-1], perform)
            raise
        finally:
            for client in clients.values():
                client.close()


def _cancel_quietly(sample_id: str, perform: Callable[[Effect], Any]) -> None:
    try:
        outcome = run_op(cancel_upload(sample_id), perform)  # type: ignore[arg-type]
    except Exception as exc:  # the upload's own error matters more
        log.warning("Could not cancel the upload of sample %s: %s", sample_id, exc)
    else:
        log.info("Cancelled the upload of sample %s: %s", sample_id, outcome["message"])
