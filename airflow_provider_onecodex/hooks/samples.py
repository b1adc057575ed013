"""Samples, their metadata and tags (:mod:`~airflow_provider_onecodex.api.tags`,
:mod:`~airflow_provider_onecodex.api.metadata`). Listings: see ``list_records``."""

from __future__ import annotations

from typing import Any, cast

from airflow_provider_onecodex.api import metadata
from airflow_provider_onecodex.api.records import Metadata, Sample, Tag
from airflow_provider_onecodex.api.tags import tag_sample
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook, Route


class OneCodexSamplesHook(OneCodexBaseHook):
    """``/api/v1/samples``, ``/api/v1/metadata``, ``/api/v1/tags``."""

    get_sample = Route[Sample]("samples/{id}")
    get_metadata = Route[Metadata]("metadata/{id}")
    get_tag = Route[Tag]("tags/{id}")
    list_samples = Route[list[Sample]]("samples", "the key's own")
    list_public_samples = Route[list[Sample]]("samples/public")
    list_organization_samples = Route[list[Sample]]("samples/organization")
    list_metadata = Route[list[Metadata]]("metadata")
    list_tags = Route[list[Tag]]("tags")
    get_sample_metadata = Route[Metadata](metadata.get_sample_metadata)

    def tag_sample(self, sample_id: str, *, tags: list[str], remove: list[str] | None = None) -> Sample:
        """Add tags (names, 1-30 characters; new ones are created) and take off ``remove``,
        keeping the sample's other tags (:func:`airflow_provider_onecodex.api.tags.tag_sample`);
        returns the sample after. ``ValueError`` for bad names or a refused merge."""
        return cast(Sample, self.run(tag_sample(sample_id, tags, remove=remove)))

    def update_metadata(self, metadata_id: str, *, fields: Any, merge_custom: bool = True) -> Metadata:
        """``PATCH /api/v1/metadata/{id}`` with only ``fields``, ``custom`` merged over the current
        keys unless ``merge_custom=False`` (:func:`airflow_provider_onecodex.api.metadata.update_metadata`)."""
        op = metadata.update_metadata(metadata_id, fields, merge_custom=merge_custom)
        return cast(Metadata, self.run(op))

    def update_sample_metadata(self, sample_id: str, *, fields: Any, merge_custom: bool = True) -> Metadata:
        """:meth:`update_metadata` of a sample's metadata record (found through the sample)."""
        op = metadata.update_sample_metadata(sample_id, fields, merge_custom=merge_custom)
        return cast(Metadata, self.run(op))
