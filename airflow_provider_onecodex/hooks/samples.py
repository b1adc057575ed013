"""Samples, their metadata and tags (:mod:`~airflow_provider_onecodex.api.tags`,
:mod:`~airflow_provider_onecodex.api.metadata`). Listings: see ``list_records``."""

from __future__ import annotations

from typing import Any, cast

from airflow_provider_onecodex.api import metadata
from airflow_provider_onecodex.api.records import Metadata, Sample, Tag
from airflow_provider_onecodex.api.tags import tag_sample
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook


class OneCodexSamplesHook(OneCodexBaseHook):
    """``/api/v1/samples``, ``/api/v1/metadata``, ``/api/v1/tags``."""

    def get_sample(self, sample_id: str) -> Sample:
        """``GET /api/v1/samples/{id}``."""
        return cast(Sample, self.get_record("samples", sample_id))

    def list_samples(self, **listing: Any) -> list[Sample]:
        """``GET /api/v1/samples``, e.g. ``where={"created_at": {"$gte": "<RFC 3339>"}}``."""
        return cast(list[Sample], self.list_records("samples", **listing))

    def list_public_samples(self, **listing: Any) -> list[Sample]:
        """``GET /api/v1/samples/public``."""
        return cast(list[Sample], self.list_records("samples", variant="public", **listing))

    def list_organization_samples(self, **listing: Any) -> list[Sample]:
        """``GET /api/v1/samples/organization``: shared within the key's organization."""
        return cast(list[Sample], self.list_records("samples", variant="organization", **listing))

    def tag_sample(self, sample_id: str, *, tags: list[str], remove: list[str] | None = None) -> Sample:
        """Add tags (names, 1-30 characters; new ones are created) and take off ``remove``,
        keeping the sample's other tags (:func:`airflow_provider_onecodex.api.tags.tag_sample`);
        returns the sample after. ``ValueError`` for bad names or a refused merge."""
        return cast(Sample, self.run(tag_sample(sample_id, tags, remove=remove)))

    def list_metadata(self, **listing: Any) -> list[Metadata]:
        """``GET /api/v1/metadata`` (``custom`` is not filterable server-side)."""
        return cast(list[Metadata], self.list_records("metadata", **listing))

    def get_metadata(self, metadata_id: str) -> Metadata:
        """``GET /api/v1/metadata/{id}``."""
        return cast(Metadata, self.get_record("metadata", metadata_id))

    def get_sample_metadata(self, sample_id: str) -> Metadata:
        """The metadata record of a sample (the sample, then its ``metadata`` reference)."""
        return cast(Metadata, self.run(metadata.get_sample_metadata(sample_id)))

    def update_metadata(self, metadata_id: str, *, fields: Any, merge_custom: bool = True) -> Metadata:
        """``PATCH /api/v1/metadata/{id}`` with only ``fields``, ``custom`` merged over the current
        keys unless ``merge_custom=False`` (:func:`airflow_provider_onecodex.api.metadata.update_metadata`)."""
        return cast(
            Metadata, self.run(metadata.update_metadata(metadata_id, fields, merge_custom=merge_custom))
        )

    def update_sample_metadata(self, sample_id: str, *, fields: Any, merge_custom: bool = True) -> Metadata:
        """:meth:`update_metadata` of a sample's metadata record (found through the sample)."""
        op = metadata.update_sample_metadata(sample_id, fields, merge_custom=merge_custom)
        return cast(Metadata, self.run(op))

    def list_tags(self, **listing: Any) -> list[Tag]:
        """``GET /api/v1/tags``, e.g. ``where={"name": {"$in": ["qc-pass", "qc-fail"]}}``."""
        return cast(list[Tag], self.list_records("tags", **listing))

    def get_tag(self, tag_id: str) -> Tag:
        """``GET /api/v1/tags/{id}``."""
        return cast(Tag, self.get_record("tags", tag_id))
