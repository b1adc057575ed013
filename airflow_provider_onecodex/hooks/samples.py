"""Samples, their metadata and tags (:mod:`~airflow_provider_onecodex.api.tags`,
:mod:`~airflow_provider_onecodex.api.metadata`). Listings: see ``list_records``."""

from __future__ import annotations

from airflow_provider_onecodex.api import metadata, tags
from airflow_provider_onecodex.api.records import Metadata, Sample, Tag
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
    tag_sample = Route[Sample](tags.tag_sample, "Tag names new to the account are created.", kw_only=True)
    update_metadata = Route[Metadata](metadata.update_metadata, kw_only=True)
    update_sample_metadata = Route[Metadata](metadata.update_sample_metadata, kw_only=True)
