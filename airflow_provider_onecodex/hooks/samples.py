"""Samples, their metadata and tags (:mod:`~.api.tags`, :mod:`~.api.metadata`) and uploads (sync only;
decisions: :mod:`~.api.uploads`, byte moving: :mod:`~.upload_transfer`). Listings: ``list_records``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_onecodex import upload_transfer as transfer
from airflow_provider_onecodex.api import metadata, tags, uploads
from airflow_provider_onecodex.api.records import Metadata, Sample, Tag
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook, Route

if TYPE_CHECKING:
    from os import PathLike

    from upath import UPath  # an ObjectStoragePath is one


class OneCodexSamplesHook(OneCodexBaseHook):
    """``/api/v1/samples`` (uploads too), ``/api/v1/metadata``, ``/api/v1/tags``."""

    get_sample = Route[Sample]("samples/{id}")
    get_metadata = Route[Metadata]("metadata/{id}")
    get_tag = Route[Tag]("tags/{id}")
    list_samples = Route[list[Sample]]("samples", "the key's own")
    list_public_samples = Route[list[Sample]]("samples/public")
    list_organization_samples = Route[list[Sample]]("samples/organization")
    list_metadata = Route[list[Metadata]]("metadata")
    list_tags = Route[list[Tag]]("tags")
    get_sample_metadata = Route[Metadata](metadata.get_sample_metadata)
    tag_sample = Route[Sample](tags.tag_sample, "Tag names new to the account are created.", kw_only=1)
    update_metadata = Route[Metadata](metadata.update_metadata, kw_only=1)
    update_sample_metadata = Route[Metadata](metadata.update_sample_metadata, kw_only=1)

    cancel_upload = Route[dict[str, Any]](uploads.cancel_upload)

    def upload_sample(
        self,
        source: str | PathLike[str] | UPath,
        *,
        paired_source: str | PathLike[str] | UPath | None = None,
        metadata: Mapping[str, Any] | str | None = None,
        tags: list[str] | None = None,
        project_id: str | None = None,
        external_sample_id: str | None = None,
        sample_id: str | None = None,
        on_sample_id: Callable[[str], None] | None = None,
        cancel_on_failure: bool = False,
    ) -> str:
        """Upload a FASTA/FASTQ file (or a paired FASTQ pair) into one One Codex sample; return its id.

        Routes: ``GET /api/v1/metadata`` (``external_sample_id`` lookup), ``POST /api/v1/samples/preupload``,
        ``POST /api/v1/samples/init_multipart_upload``, S3 multipart (parts of 10-100 MiB, SSE ``AES256``),
        ``POST <callback_url>``. Sources are streamed: memory stays about one part (10 MiB up to ~97 GiB).

        :param source: the file, or one of a pair: an ``ObjectStoragePath``, a URL (``file://``, ``s3://``,
            ``gs://``...) or a local path.
        :param paired_source: the other file of a paired-end pair (both FASTQ; R1/R2 are told apart by
            ``_R1``/``_1`` and ``_R2``/``_2`` in their names).
        :param metadata: metadata fields of the new sample, a dict or its JSON text (as a metadata PATCH;
            flat ``custom``).
        :param tags: tag names (created when new).
        :param project_id: project of the new sample.
        :param external_sample_id: idempotency key (at most 60 characters, stored as metadata): a sample
            with it is reused (resumed if its upload never finished, else returned as is), so a re-run of
            the whole DAG creates no second sample.
        :param sample_id: upload into this existing sample (pre-uploaded, or created by an earlier
            attempt); its metadata, tags and project are not sent again.
        :param on_sample_id: called with the sample id once it exists, before any byte moves (persist it
            so a retry resumes into the same sample).
        :param cancel_on_failure: ``POST /api/v1/samples/cancel_upload`` when the upload fails (only on
            the last attempt: a cancelled sample cannot be resumed).
        :raises TypeError, ValueError: bad arguments or files; ``ImportError``: no boto3 (the ``upload``
            extra); both before any request. :raises OneCodexAPIError: a One Codex call failed.
        :raises S3TransferError: the S3 step failed.
        """
        upload = transfer.SampleUpload(source, paired_source)  # the files are checked before any request
        request = uploads.build_request(
            **upload.files,
            metadata=metadata,
            tags=tags,
            project_id=project_id,
            external_sample_id=external_sample_id,
        )
        op = uploads.upload_sample(request, sample_id)
        return upload.run(
            op, self._perform, self.config, on_sample_id=on_sample_id, cancel_on_failure=cancel_on_failure
        )
