"""Sample uploads (sync only): :class:`OneCodexUploadsHook`, part of ``OneCodexHook``.

Every decision is in :mod:`airflow_provider_onecodex.api.uploads` and :mod:`~.api.fastx`; the byte
moving (sources read as streams, the S3 multipart step with boto3) is in
:mod:`airflow_provider_onecodex.upload_transfer`. This hook sequences the operation's effects:
``SampleCreated`` (tell the caller), ``S3Put`` (the transfer) and the API calls
(:meth:`OneCodexBaseHook.run`'s executor).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from airflow_provider_onecodex import upload_transfer as transfer
from airflow_provider_onecodex.api.ops import run_op
from airflow_provider_onecodex.api.uploads import S3Put, SampleCreated, build_request
from airflow_provider_onecodex.api.uploads import cancel_upload as cancel_upload_op
from airflow_provider_onecodex.api.uploads import upload_sample as upload_sample_op
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook
from airflow_provider_onecodex.upload_transfer import source_path

log = logging.getLogger(__name__)


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
        files = {role: transfer.read_source(path, role) for role, path in paths.items()}
        request = build_request(
            files["source"],
            files.get("paired_source"),
            metadata=metadata,
            tags=tags,
            project_id=project_id,
            external_sample_id=external_sample_id,
        )
        boto3 = transfer.boto3_module()
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
                    s3_clients[effect.access_key_id] = transfer.s3_client(boto3, effect, self.config)
                client = s3_clients[effect.access_key_id]
                transfer.put_file(client, effect, paths[effect.role], files[effect.role], created[-1], log)
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


__all__ = ["OneCodexUploadsHook", "source_path"]
