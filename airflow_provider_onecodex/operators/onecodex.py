"""Operators that fetch One Codex records and push them to XCom as plain JSON dicts.

One generic operator per verb (:class:`OneCodexGetRecordOperator`, :class:`OneCodexListRecordsOperator`,
with a ``resource`` argument) and alignment-specific forms of each. Arguments are validated after
templating and before any request. Importing this module is cheap (DAG files import it on every
parse): the hook and its HTTP stack load when a task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_onecodex.api.ids import (
    check_literal_id,
    id_from_uri,
    is_literal,
    record_id,
    validate_id,
)
from airflow_provider_onecodex.api.paging import DEFAULT_MAX_RECORDS
from airflow_provider_onecodex.api.records import strip_signed_urls
from airflow_provider_onecodex.api.resources import id_arg_name, sample_where, validate_resource
from airflow_provider_onecodex.api.results import (
    DEFAULT_RANK,
    DEFAULT_TOP_N,
    validate_rank,
    validate_results_resource,
    validate_top_n,
    validate_xcom_max_bytes,
)
from airflow_provider_onecodex.api.weblinks import sample_url, web_page_of, web_url
from airflow_provider_onecodex.links.onecodex import OneCodexLink
from airflow_provider_onecodex.operators.base import OneCodexOperator, checked_if_literal, sample_link

# The sample-writing operators live in operators/samples.py; the documented import path
# (airflow_provider_onecodex.operators.onecodex) serves every operator.
from airflow_provider_onecodex.operators.samples import (
    OneCodexTagSampleOperator as OneCodexTagSampleOperator,
)
from airflow_provider_onecodex.operators.samples import (
    OneCodexUpdateMetadataOperator as OneCodexUpdateMetadataOperator,
)
from airflow_provider_onecodex.storage import check_destination, storage_path, warn_if_machine_local

if TYPE_CHECKING:
    from airflow.sdk import Context


class OneCodexGetRecordOperator(OneCodexOperator):
    """Fetch one record: ``GET /api/v1/<resource>/<record_id>``; XCom value: the record (a dict).

    :param resource: ``alignments``, ``analyses``, ``classifications``, ``panels``, ``samples``,
        ``metadata``, ``tags``, ``jobs``, ``documents``, ``events``...
    :param record_id: 16 lowercase hex characters, or the record's ``$uri``.
    :param onecodex_conn_id: Airflow connection id (default ``onecodex_default``).
    :raises OneCodexNotFoundError: 404. :raises OneCodexAuthError: 401/402/403.
    """

    template_fields: Sequence[str] = ("resource", "record_id", "destination", "onecodex_conn_id")
    _id_argument = "record_id"  # named in validation errors
    operator_extra_links: tuple[OneCodexLink, ...] = (OneCodexLink(),)

    def __init__(self, *, resource: str, record_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resource = resource
        self.record_id = record_id
        self.onecodex_url: str | None = None  # read by OneCodexLink when the task ends
        if is_literal(resource) and web_page_of(resource) is None:
            self.operator_extra_links = ()  # no One Codex page for such records: no empty link
        check_literal_id(record_id, self._id_argument)  # a literal bad id fails at DAG parse time

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_onecodex.api.ops import get_record

        record = self.hook.run(get_record(self.resource, self.record_id, name=self._id_argument))
        base = self.hook.config.base_url
        if self.resource == "samples":
            self.onecodex_url = sample_url(base, record)  # the sample sensor's rule
        elif self.resource == "metadata":
            self.onecodex_url = sample_link(self.hook, id_from_uri(record.get("sample")))
        else:
            self.onecodex_url = web_url(base, self.resource, record_id(record))
        return strip_signed_urls(record)  # type: ignore[no-any-return]


class OneCodexGetAlignmentOperator(OneCodexGetRecordOperator):
    """Fetch one alignment record (``GET /api/v1/alignments/{id}``); XCom value: the record.

    :param alignment_id: 16 lowercase hex characters.
    """

    template_fields: Sequence[str] = ("alignment_id", "destination", "onecodex_conn_id")
    _id_argument = "alignment_id"

    def __init__(self, *, alignment_id: str, **kwargs: Any) -> None:
        super().__init__(resource="alignments", record_id=alignment_id, **kwargs)
        self.alignment_id = alignment_id

    def execute(self, context: Context) -> dict[str, Any]:
        self.record_id = self.alignment_id  # templated under its own name
        return super().execute(context)


class OneCodexListRecordsOperator(OneCodexOperator):
    """List records: ``GET /api/v1/<resource>[/public|/organization]``; XCom value: a list of dicts.

    :param resource: the route to list (see :class:`OneCodexGetRecordOperator`); a literal unknown
        route raises ``ValueError`` when the DAG is parsed.
    :param where: Mongo-style filter as a dict or its JSON text, e.g. ``{"complete": true}``.
    :param sort: ``{"created_at": true}`` (``true`` = descending).
    :param max_records: stop after this many records (default
        :data:`~airflow_provider_onecodex.api.paging.DEFAULT_MAX_RECORDS` = 1000, as the hook;
        ``None`` = all: mind XCom size).
    :param per_page: page size 1..1000 (default: the connection's ``page_size``, 100).
    :param variant: ``"public"`` or ``"organization"`` for those listings (samples, analyses).
    """

    template_fields: Sequence[str] = (
        "resource",
        "where",
        "sort",
        "max_records",
        "destination",
        "onecodex_conn_id",
    )

    def __init__(
        self,
        *,
        resource: str,
        where: dict[str, Any] | str | None = None,
        sort: dict[str, bool] | str | None = None,
        max_records: int | None = DEFAULT_MAX_RECORDS,
        per_page: int | None = None,
        variant: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.resource = checked_if_literal(resource, validate_resource)
        self.where = where
        self.sort = sort
        self.max_records = max_records
        self.per_page = per_page
        self.variant = variant

    def _where(self) -> Any:
        return self.where

    def execute(self, context: Context) -> list[dict[str, Any]]:
        max_records = self.max_records
        if isinstance(max_records, str) and max_records.strip().isdigit():
            max_records = int(max_records)  # a rendered template ("{{ params.n }}") is text
        records = self.hook.list_records(
            self.resource,
            where=self._where(),
            sort=self.sort,
            max_records=max_records,
            per_page=self.per_page,
            variant=self.variant,
        )
        self.log.info("Listed %d %s", len(records), self.resource)
        return strip_signed_urls(records)  # type: ignore[no-any-return]


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
        "destination",
        "onecodex_conn_id",
    )

    def __init__(self, *, sample_id: str | None = None, tax_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(resource="alignments", **kwargs)
        self.sample_id = sample_id
        self.tax_id = tax_id
        check_literal_id(sample_id, "sample_id", resource="samples")

    def _where(self) -> Any:
        return sample_where(self.sample_id, self.tax_id, self.where)


# -- an analysis's results and files -------------------------------------------------------------


class _AnalysisOutputOperator(OneCodexOperator):
    """What the results and files operators share: the analysis they read (``resource``,
    ``analysis_id``; a literal bad id fails when the DAG is parsed) and its "One Codex" link."""

    operator_extra_links = (OneCodexLink(),)

    def __init__(self, *, resource: str, analysis_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resource = resource
        self.analysis_id = analysis_id
        check_literal_id(analysis_id, "analysis_id")

    def _analysis(self) -> tuple[str, str]:
        """``(resource, analysis_id)`` after templating, validated (``TypeError``/``ValueError``
        before any request); the task's link then points at the analysis."""
        resource = validate_results_resource(self.resource)
        analysis_id = validate_id(self.analysis_id, "analysis_id", resource=resource)
        self.onecodex_url = web_url(self.hook.config.base_url, resource, analysis_id)
        return resource, analysis_id


class OneCodexFetchResultsOperator(_AnalysisOutputOperator):
    """Fetch an analysis's results: ``GET /api/v1/<resource>/{id}/results`` (classifications through
    their pre-signed ``results_uri``, gzip/zstd decoded, falling back to ``/results``).

    **XCom policy.** The results are measured as compact JSON (``json.dumps`` with
    ``separators=(",", ":")``, UTF-8 bytes):

    - at most ``xcom_max_bytes`` (default 49152 bytes = 48 KiB): the XCom value is
      ``{"resource", "analysis_id", "sample_id", "results"}``: what the results are, then them;
    - larger, with ``destination``: the full results are written to
      ``<destination>/<resource>-<analysis_id>.json`` and the XCom value is
      ``{"uri", "size" (bytes), "sha256", "rows", "resource", "analysis_id", "sample_id",
      "summary"}``. The summary holds, for classifications, ``n_reads``, host reads, the top
      ``top_n`` taxa at ``rank`` by ``readcount_w_children`` (``tax_id``, ``name``, ``rank``,
      ``readcount_w_children``, ``abundance``; host tax ids, "root" and "cellular organisms"
      excluded) and ``top_species``; for alignments ``average_coverage``, ``average_identity``,
      ``median_depth``, ``n_mapped``, ``n_reads`` and the genome; for panels the marker counts per
      status; for functional profiles the groups and their top features;
    - larger, without ``destination``: the task fails (no retries) before anything reaches XCom,
      with the size and the ``destination=`` to set.

    :func:`airflow_provider_onecodex.api.results.summary_of` gives downstream tasks the summary
    whichever form the XCom value took.

    :param resource: ``classifications``, ``alignments``, ``panels``, ``analyses`` (any type),
        ``functional_profiles``, ``mlsts`` or ``workflows``.
    :param analysis_id: 16 lowercase hex characters, or the record's ``$uri``.
    :param destination: folder for large results: an fsspec URL (``file:///data/onecodex``,
        ``s3://bucket/prefix``), a local path or an ``ObjectStoragePath``; templated. Default None.
    :param xcom_max_bytes: the XCom limit in bytes (default 49152; 0 stores every result).
    :param destination_conn_id: Airflow connection of the storage (e.g. ``aws_default`` for s3).
    :param always_store: write to ``destination`` even when small (one XCom shape downstream).
    :param top_n: taxa in a classification summary (default 10).
    :param rank: the rank of those taxa (default ``"species"``; ``None``: every rank, so
        "Bacteria" and phyla lead). The summary's ``top_species`` always holds the 5 top species.
    :raises AirflowFailException: the analysis failed (it has no results), the results are too
        large for XCom and no ``destination`` is set, or an error retrying cannot fix (400, 401,
        402, 403, 404, 409, 422, a bad argument).
    :raises AirflowException: the analysis is not complete yet (retries apply).
    """

    template_fields: Sequence[str] = (
        "resource",
        "analysis_id",
        "destination",
        "destination_conn_id",
        "xcom_max_bytes",
        "onecodex_conn_id",
    )
    _results_policy = True

    def __init__(
        self,
        *,
        always_store: bool = False,
        top_n: int = DEFAULT_TOP_N,
        rank: str | None = DEFAULT_RANK,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)  # resource, analysis_id: _AnalysisOutputOperator
        self.always_store = always_store
        self.top_n = top_n
        self.rank = rank
        validate_rank(rank)  # not templated: a bad rank fails at DAG parse time

    def execute(self, context: Context) -> Any:
        from airflow.sdk.exceptions import AirflowException, AirflowFailException

        from airflow_provider_onecodex.api.status import AnalysisState, completion_of
        from airflow_provider_onecodex.operators.storage import XComLimit, xcom_or_store

        resource, analysis_id = self._analysis()
        max_bytes = validate_xcom_max_bytes(self.xcom_max_bytes)
        top_n = validate_top_n(self.top_n)
        rank = validate_rank(self.rank)
        check_destination(self.destination, self.destination_conn_id, required=False)
        record = self.hook.get_record(resource, analysis_id)
        completion = completion_of(record, analysis_id)
        noun = id_arg_name(resource).removesuffix("_id")
        if completion.state is AnalysisState.FAILED:
            raise AirflowFailException(f"One Codex {noun} {completion.describe()}; it has no results")
        if completion.state is AnalysisState.PENDING:
            raise AirflowException(f"One Codex {noun} {analysis_id} is not complete yet: wait for it first")
        results = self.hook.fetch_results(resource, analysis_id, record=record)
        return xcom_or_store(
            results,
            XComLimit(max_bytes, self.destination, self.destination_conn_id, self.log),
            resource=resource,
            analysis_id=analysis_id,
            always_store=bool(self.always_store),
            top_n=top_n,
            rank=rank,
            sample_id=id_from_uri(record.get("sample")),
        )


class OneCodexDownloadFilesOperator(_AnalysisOutputOperator):
    """Stream an analysis's output files (``GET .../file_details``, then each pre-signed ``url``
    with a plain client) into the folder ``destination``, sizes checked against the API's.

    XCom value: ``[{"filename", "uri", "size" (bytes), "sha256"}]``: where each file was written,
    never the pre-signed links.

    :param analysis_id: 16 lowercase hex characters.
    :param destination: folder: an fsspec URL (``file://``, ``s3://``...), a local path or an
        ``ObjectStoragePath``; templated; local folders are created. Required (``TypeError``
        when the DAG is parsed without it).
    :param resource: the analyses route (default ``analyses``, which serves every type).
    :param filenames: only these files (default: all).
    :param destination_conn_id: Airflow connection of the storage.
    :raises OneCodexDownloadSizeError: a file's size differs from the announced one (removed).
    """

    template_fields: Sequence[str] = (
        "analysis_id",
        "destination",
        "resource",
        "filenames",
        "destination_conn_id",
        "onecodex_conn_id",
    )

    def __init__(
        self, *, resource: str = "analyses", filenames: list[str] | None = None, **kwargs: Any
    ) -> None:
        # destination and destination_conn_id are OneCodexTask's; here the files need a folder.
        super().__init__(resource=resource, **kwargs)
        if self.destination is None:
            raise TypeError(
                f"{type(self).__name__} needs destination=: the folder to write the files to "
                "(an fsspec URL such as 's3://bucket/prefix', a local path or an ObjectStoragePath)"
            )
        self.filenames = filenames

    def execute(self, context: Context) -> list[dict[str, Any]]:
        resource, analysis_id = self._analysis()
        check_destination(self.destination, self.destination_conn_id, required=True)
        warn_if_machine_local(storage_path(self.destination, self.destination_conn_id), self.log)
        files = self.hook.download_analysis_files(
            analysis_id,
            destination=self.destination,
            resource=resource,
            filenames=self.filenames,
            destination_conn_id=self.destination_conn_id,
        )
        self.log.info("Downloaded %d files of %s %s", len(files), resource, analysis_id)
        return [dict(f) for f in files]
