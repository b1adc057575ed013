"""Operators that write to a sample: its metadata (``PATCH /api/v1/metadata/{id}``) and its tags
(``PATCH /api/v1/samples/{id}``). Arguments are checked by the operations of
:mod:`airflow_provider_onecodex.api.metadata` and :mod:`airflow_provider_onecodex.api.tags`,
after templating and before any request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_onecodex.api.ids import check_literal_id, id_from_uri
from airflow_provider_onecodex.api.resources import validate_flag
from airflow_provider_onecodex.api.weblinks import sample_url
from airflow_provider_onecodex.links.onecodex import OneCodexLink
from airflow_provider_onecodex.operators.base import OneCodexOperator, sample_link

if TYPE_CHECKING:
    from airflow.sdk import Context


class OneCodexUpdateMetadataOperator(OneCodexOperator):
    """Change a sample's metadata: ``PATCH /api/v1/metadata/{id}`` with only ``fields``.

    XCom value: the updated metadata record.

    :param sample_id: the sample whose metadata to change (its record is found through the sample).
    :param metadata_id: or the metadata record's id directly. Give exactly one of the two.
    :param fields: e.g. ``{"custom": {"qc_verdict": "pass"}}`` (templated, values included).
        ``sample``, ``$uri`` and ``updated_at`` are refused before any request.
    :param merge_custom: merge ``custom`` over the current keys (default True) instead of replacing
        it; not templated, so anything but ``True``/``False`` raises ``TypeError`` at DAG parse time.
    """

    template_fields: Sequence[str] = ("sample_id", "metadata_id", "fields", "destination", "onecodex_conn_id")
    operator_extra_links = (OneCodexLink(),)  # the sample's page

    def __init__(
        self,
        *,
        fields: dict[str, Any],
        sample_id: str | None = None,
        metadata_id: str | None = None,
        merge_custom: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fields = fields
        self.sample_id = sample_id
        self.metadata_id = metadata_id
        self.merge_custom = validate_flag(merge_custom, "merge_custom")
        check_literal_id(sample_id, "sample_id", resource="samples")  # literal bad ids: at DAG parse
        check_literal_id(metadata_id, "metadata_id", resource="metadata")

    def execute(self, context: Context) -> dict[str, Any]:
        if (self.sample_id is None) == (self.metadata_id is None):
            raise ValueError(
                f"give exactly one of sample_id and metadata_id, got sample_id={self.sample_id!r}, "
                f"metadata_id={self.metadata_id!r}"
            )
        merge = self.merge_custom
        if self.sample_id is not None:
            record = self.hook.update_sample_metadata(self.sample_id, fields=self.fields, merge_custom=merge)
        else:
            record = self.hook.update_metadata(str(self.metadata_id), fields=self.fields, merge_custom=merge)
        self.log.info("Updated metadata of %s", record.get("$uri"))
        self.onecodex_url = sample_link(self.hook, id_from_uri(record.get("sample")))
        return dict(record)


class OneCodexTagSampleOperator(OneCodexOperator):
    """Add tags (by name) to a sample, keeping its other tags: ``PATCH /api/v1/samples/{id}``.

    XCom value: the sample record after the change.

    :param sample_id: 16 lowercase hex characters.
    :param tags: names to add (1-30 characters each); new names create tags.
    :param remove: names to take off, e.g. a previous QC verdict's tag.
    """

    template_fields: Sequence[str] = ("sample_id", "tags", "remove", "destination", "onecodex_conn_id")
    operator_extra_links = (OneCodexLink(),)  # the sample's page

    def __init__(
        self, *, sample_id: str, tags: list[str], remove: list[str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.sample_id = sample_id
        self.tags = tags
        self.remove = remove
        check_literal_id(sample_id, "sample_id", resource="samples")

    def execute(self, context: Context) -> dict[str, Any]:
        record = dict(self.hook.tag_sample(self.sample_id, tags=self.tags, remove=self.remove))
        self.onecodex_url = sample_url(self.hook.config.base_url, record)
        return record
