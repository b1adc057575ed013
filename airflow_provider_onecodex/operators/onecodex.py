"""Operators that fetch One Codex records and push them to XCom as plain JSON dicts.

One generic operator per verb (:class:`OneCodexGetRecordOperator`, :class:`OneCodexListRecordsOperator`,
with a ``resource`` argument) and alignment-specific forms of each. Arguments are validated after
templating and before any request. Importing this module is cheap (DAG files import it on every
parse): the hook and its HTTP stack load when a task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_onecodex.api.ids import validate_id
from airflow_provider_onecodex.api.paging import validate_max_records, validate_per_page
from airflow_provider_onecodex.api.resources import (
    LIST_VARIANTS,
    id_arg_name,
    sample_where,
    validate_resource,
    validate_sort,
)
from airflow_provider_onecodex.api.weblinks import web_url
from airflow_provider_onecodex.links.onecodex import OneCodexLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook


class _OneCodexOperator(BaseOperator):
    """Holds the connection id and the lazily built hook."""

    def __init__(self, *, onecodex_conn_id: str = "onecodex_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.onecodex_conn_id = onecodex_conn_id

    @cached_property
    def hook(self) -> OneCodexHook:
        from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

        return OneCodexHook(self.onecodex_conn_id)


class OneCodexGetRecordOperator(_OneCodexOperator):
    """Fetch one record: ``GET /api/v1/<resource>/<record_id>``; XCom value: the record (a dict).

    :param resource: ``alignments``, ``analyses``, ``classifications``, ``panels``, ``samples``,
        ``metadata``, ``tags``, ``jobs``, ``documents``, ``events``...
    :param record_id: 16 lowercase hex characters, or the record's ``$uri``.
    :param onecodex_conn_id: Airflow connection id (default ``onecodex_default``).
    :raises OneCodexNotFoundError: 404. :raises OneCodexAuthError: 401/402/403.
    """

    template_fields: Sequence[str] = ("resource", "record_id", "onecodex_conn_id")
    operator_extra_links = (OneCodexLink(),)

    def __init__(self, *, resource: str, record_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resource = resource
        self.record_id = record_id

    def execute(self, context: Context) -> dict[str, Any]:
        resource = validate_resource(self.resource)
        record_id = validate_id(self.record_id, id_arg_name(resource), resource=resource)
        self.onecodex_url = web_url(self.hook.config.base_url, resource, record_id)
        return self.hook.get_record(resource, record_id)


class OneCodexGetAlignmentOperator(OneCodexGetRecordOperator):
    """Fetch one alignment record (``GET /api/v1/alignments/{id}``); XCom value: the record.

    :param alignment_id: 16 lowercase hex characters.
    """

    template_fields: Sequence[str] = ("alignment_id", "onecodex_conn_id")

    def __init__(self, *, alignment_id: str, **kwargs: Any) -> None:
        super().__init__(resource="alignments", record_id=alignment_id, **kwargs)
        self.alignment_id = alignment_id

    def execute(self, context: Context) -> dict[str, Any]:
        self.record_id = self.alignment_id  # templated under its own name
        return super().execute(context)


class OneCodexListRecordsOperator(_OneCodexOperator):
    """List records: ``GET /api/v1/<resource>[/public|/organization]``; XCom value: a list of dicts.

    :param resource: the route to list (see :class:`OneCodexGetRecordOperator`).
    :param where: Mongo-style filter as a dict or its JSON text, e.g. ``{"complete": true}``.
    :param sort: ``{"created_at": true}`` (``true`` = descending).
    :param max_records: stop after this many records (default 1000; ``None`` = all: mind XCom size).
    :param per_page: page size 1..1000 (default: the connection's ``page_size``, 100).
    :param variant: ``"public"`` or ``"organization"`` for those listings (samples, analyses).
    """

    template_fields: Sequence[str] = ("resource", "where", "sort", "max_records", "onecodex_conn_id")

    def __init__(
        self,
        *,
        resource: str,
        where: dict[str, Any] | str | None = None,
        sort: dict[str, bool] | str | None = None,
        max_records: int | None = 1000,
        per_page: int | None = None,
        variant: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.resource = resource
        self.where = where
        self.sort = sort
        self.max_records = max_records
        self.per_page = per_page
        self.variant = variant

    def _where(self) -> Any:
        return self.where

    def execute(self, context: Context) -> list[dict[str, Any]]:
        resource = validate_resource(self.resource)
        where = self._where()
        sort = validate_sort(self.sort)
        max_records = validate_max_records(self.max_records)
        per_page = None if self.per_page is None else validate_per_page(self.per_page)
        if self.variant is not None and self.variant not in LIST_VARIANTS:
            raise ValueError(f"variant must be one of {sorted(LIST_VARIANTS)} or None, got {self.variant!r}")
        records = self.hook.list_records(
            resource, where=where, sort=sort, max_records=max_records, per_page=per_page, variant=self.variant
        )
        self.log.info("Listed %d %s", len(records), resource)
        return records


class OneCodexListAlignmentsOperator(OneCodexListRecordsOperator):
    """List alignments (``GET /api/v1/alignments``), optionally of one sample and reference.

    :param sample_id: only this sample's alignments.
    :param tax_id: only alignments against this NCBI taxonomy id (e.g. ``"1280"``).
    Other parameters as :class:`OneCodexListRecordsOperator`; XCom value: a list of alignment records.
    """

    template_fields: Sequence[str] = (
        "sample_id",
        "tax_id",
        "where",
        "sort",
        "max_records",
        "onecodex_conn_id",
    )

    def __init__(self, *, sample_id: str | None = None, tax_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(resource="alignments", **kwargs)
        self.sample_id = sample_id
        self.tax_id = tax_id

    def _where(self) -> Any:
        return sample_where(self.sample_id, self.tax_id, self.where)
