"""The rest of the One Codex API for :class:`~airflow_provider_onecodex.hooks.onecodex.OneCodexHook`
and :class:`~airflow_provider_onecodex.hooks.onecodex.OneCodexAsyncHook`: samples, metadata, tags,
analyses and their results, jobs, documents, events, and pre-signed downloads.

Two mixins with the same method names, arguments, validation and errors, one sync (requests), one
async (httpx). They stay thin: routes, argument checks and merge rules live in
:mod:`airflow_provider_onecodex.api.calls`, downloads in :mod:`airflow_provider_onecodex.api.downloads`.

Conventions of every method:

- ids are 16 lowercase hex characters (or the record's ``$uri``); bad arguments raise
  ``TypeError``/``ValueError`` naming them, before any request;
- listings take ``where`` (Mongo-style dict or its JSON text), ``sort`` (``{"field": true}`` =
  descending), ``max_records`` (default all; public listings 1000) and ``per_page`` (1-1000);
- records are plain JSON dicts typed by the ``TypedDict`` s of :mod:`airflow_provider_onecodex.api.records`;
- errors: ``OneCodexNotFoundError`` (404, also ``/results`` of a failed analysis),
  ``OneCodexAuthError`` (401/402/403), other ``OneCodexAPIError`` subclasses after the retries;
  downloads raise ``OneCodexDownloadError``/``OneCodexDownloadSizeError``;
- pre-signed URLs returned by a method are registered with Airflow's secret masker and only ever
  logged redacted (scheme, host and path).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_onecodex.api import calls
from airflow_provider_onecodex.api.downloads import (
    AsyncDownloader,
    Downloader,
    OneCodexDownloadError,
    decompress,
    url_secrets,
)
from airflow_provider_onecodex.api.errors import OneCodexResponseError
from airflow_provider_onecodex.api.ids import id_from_uri, validate_id
from airflow_provider_onecodex.api.ops import ApiCall
from airflow_provider_onecodex.api.records import (
    AlignmentResults,
    ClassificationResults,
    Document,
    DownloadedFile,
    DownloadUri,
    Event,
    FileDetails,
    Job,
    Metadata,
    PanelResults,
    ReadLevel,
    Sample,
    Tag,
    redact_url,
)
from airflow_provider_onecodex.api.resources import sample_where, uri_in_where
from airflow_provider_onecodex.api.results import validate_results_resource

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient
    from airflow_provider_onecodex.api.client import OneCodexClient

log = logging.getLogger(__name__)

PUBLIC_MAX_RECORDS = 1000  # never page through all public data (the official client caps it too)


# -- helpers shared by both mixins (no I/O) ------------------------------------------------------


def storage_path(
    destination: object, conn_id: str | None = None, name: str = "destination"
) -> ObjectStoragePath:
    """``destination`` as an ``ObjectStoragePath``: an ``ObjectStoragePath``, an fsspec URL
    (``file:///data/x``, ``s3://bucket/prefix``) or a local path (made absolute, ``file://``).

    :param conn_id: Airflow connection of the storage (e.g. an AWS connection for ``s3://``).
    :raises TypeError: not a string, path or ``ObjectStoragePath``. :raises ValueError: empty.
    """
    from airflow.sdk import ObjectStoragePath

    if isinstance(destination, ObjectStoragePath):
        return destination
    if isinstance(destination, os.PathLike):
        destination = os.fspath(destination)
    if not isinstance(destination, str):
        raise TypeError(f"{name} must be a path, a URL or an ObjectStoragePath, got {destination!r}")
    text = destination.strip()
    if not text:
        raise ValueError(f"{name} must not be empty")
    if "://" not in text:
        text = "file://" + os.path.abspath(os.path.expanduser(text))
    return ObjectStoragePath(text, conn_id=conn_id)


def _prepare_folder(folder: ObjectStoragePath) -> None:
    # Only local folders are created: on object stores "mkdir" can mean "create a bucket".
    if folder.protocol in ("file", "local", ""):
        folder.mkdir(parents=True, exist_ok=True)


def safe_filename(value: object, what: str) -> str:
    """A server-sent file name usable inside a destination folder (no separators, not ``.``/``..``).

    :raises OneCodexResponseError: anything else (never written outside the destination).
    """
    if (
        not isinstance(value, str)
        or not value
        or value in (".", "..")
        or any(c in value for c in ("/", "\\", "\x00"))
    ):
        raise OneCodexResponseError(200, "GET", what, f"unusable file name {value!r}")
    return value


def _validate_filenames(filenames: object) -> list[str] | None:
    if filenames is None:
        return None
    if isinstance(filenames, (str, bytes)) or not isinstance(filenames, (list, tuple)):
        raise TypeError(f"filenames must be a list of file names or None, got {filenames!r}")
    if not filenames or not all(isinstance(f, str) and f for f in filenames):
        raise ValueError(f"filenames must be a non-empty list of file names, got {filenames!r}")
    return list(dict.fromkeys(filenames))


def _select_files(details: Mapping[str, Any], filenames: list[str] | None, what: str) -> list[dict[str, Any]]:
    files = details.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise OneCodexResponseError(200, "GET", what, "expected {'files': [{filename, size, url}, ...]}")
    for f in files:
        safe_filename(f.get("filename"), what)
        if not isinstance(f.get("url"), str):
            raise OneCodexResponseError(200, "GET", what, f"file {f.get('filename')!r} has no url")
    available = [f["filename"] for f in files]
    if filenames is not None:
        missing = [n for n in filenames if n not in available]
        if missing:
            raise ValueError(f"filenames {missing} are not among the analysis files {available}")
        files = [f for f in files if f["filename"] in filenames]
    names = [f["filename"] for f in files]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise OneCodexResponseError(200, "GET", what, f"several files are named {duplicated}")
    return files


def _size_of(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _analysis_where(sample_id: object, where: object, analysis_type: object = None) -> dict[str, Any] | None:
    clause = sample_where(sample_id, None, where)
    if analysis_type is not None:
        if not isinstance(analysis_type, str) or not analysis_type:
            raise ValueError(f"analysis_type must be a non-empty string, got {analysis_type!r}")
        clause = {**(clause or {}), "analysis_type": analysis_type}
    return clause


def _tags_by_uri(ids: list[str]) -> dict[str, Any]:
    return uri_in_where("tags", ids)


def _results_from_uri(body: bytes, url: str) -> dict[str, Any]:
    data = json.loads(decompress(body, what=redact_url(url)))
    if not isinstance(data, dict):
        raise OneCodexResponseError(
            200, "GET", redact_url(url), f"expected a JSON object, got {type(data).__name__}"
        )
    return data


class _TagsNeedNames(OneCodexResponseError):
    pass


def _current_tags(ids: list[str], records: list[dict[str, Any]]) -> dict[str, str]:
    names = {id_from_uri(r.get("$uri")): r.get("name") for r in records}
    return {i: n if isinstance(n := names.get(i), str) else "" for i in ids}


def _check_plan(plan: calls.TagPlan, current: dict[str, str], sample_id: str) -> None:
    body = plan.body or {}
    if any("name" in t for t in body.get("tags", [])) and "" in current.values():
        unnamed = [i for i, n in current.items() if not n]
        raise _TagsNeedNames(
            200,
            "GET",
            "/api/v1/tags",
            f"sample {sample_id} has tags {unnamed} this key cannot read; adding a new tag by name would drop them",
        )


# -- sync ----------------------------------------------------------------------------------------


class OneCodexResourcesMixin:
    """Samples, metadata, tags, analyses, results, jobs, documents, events and downloads (sync)."""

    if TYPE_CHECKING:

        def get_conn(self) -> OneCodexClient: ...

    # plumbing
    def _send(self, call: ApiCall) -> Any:
        data, _ = self.get_conn().request(
            call.method, call.path, json_body=call.json_body, expect=call.expect
        )
        return data

    def _get(self, resource: str, record_id: object, suffix: str = "") -> Any:
        return self.get_conn().get_record(resource, cast(str, record_id), suffix)

    def _list(
        self,
        resource: str,
        where: object,
        sort: object,
        max_records: int | None,
        per_page: int | None,
        variant: str | None = None,
    ) -> list[Any]:
        return self.get_conn().list_records(
            resource, where=where, sort=sort, max_records=max_records, per_page=per_page, variant=variant
        )

    def _downloader(self) -> Downloader:
        config = self.get_conn().config
        return Downloader(config.timeout, config.retry)

    @staticmethod
    def _mask(url: str) -> None:
        from airflow.sdk.log import mask_secret

        for secret in url_secrets(url):
            mask_secret(secret)

    # -- samples -----------------------------------------------------------------------------
    def list_samples(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Sample]:
        """``GET /api/v1/samples``: the key's own samples, e.g. ``where={"created_at": {"$gte": "<RFC 3339>"}}``."""
        return self._list("samples", where, sort, max_records, per_page)

    def list_public_samples(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = PUBLIC_MAX_RECORDS,
        per_page: int | None = None,
    ) -> list[Sample]:
        """``GET /api/v1/samples/public`` (at most 1000 records by default: public data is large)."""
        return self._list("samples", where, sort, max_records, per_page, "public")

    def list_organization_samples(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Sample]:
        """``GET /api/v1/samples/organization``: samples shared within the key's organization."""
        return self._list("samples", where, sort, max_records, per_page, "organization")

    def tag_sample(self, sample_id: str, tags: list[str], remove: list[str] | None = None) -> Sample:
        """Add tags (by name) to a sample, keeping its other tags: ``PATCH /api/v1/samples/{id}``.

        Reads the sample and its tags, merges, and sends the whole list (the API replaces it):
        ``[{"$ref"}]`` when every tag exists, ``[{"name"}]`` when one is new (One Codex creates it).
        Nothing is sent when the sample already has exactly these tags.

        :param tags: names (1-30 characters) to add; may be empty when ``remove`` is given.
        :param remove: names to take off the sample (e.g. a previous run's ``qc-fail``).
        :returns: the sample record after the change.
        """
        ident = validate_id(sample_id, "sample_id", resource="samples")
        dropped = calls.validate_tag_names(remove, "remove", allow_empty=True) if remove is not None else []
        names = calls.validate_tag_names(tags, "tags", allow_empty=bool(dropped))
        sample = self._get("samples", ident)
        ids = calls.tag_ids_of(sample)
        current = _current_tags(
            ids, self._list("tags", _tags_by_uri(ids), None, len(ids), len(ids)) if ids else []
        )
        new = [n for n in names if n not in current.values()]
        known = self._list("tags", {"name": {"$in": new}}, None, None, None) if new else []
        plan = calls.plan_tags(current, known, names, dropped)
        if plan.body is None:
            log.info("Sample %s already has tags %s", ident, plan.names)
            return cast(Sample, sample)
        _check_plan(plan, current, ident)
        log.info("Tagging sample %s: %s", ident, plan.names)
        return cast(Sample, self._send(calls.update_sample(ident, plan.body)))

    # -- metadata ----------------------------------------------------------------------------
    def list_metadata(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Metadata]:
        """``GET /api/v1/metadata`` (``custom`` is not filterable server-side)."""
        return self._list("metadata", where, sort, max_records, per_page)

    def get_metadata(self, metadata_id: str) -> Metadata:
        """``GET /api/v1/metadata/{id}``."""
        return cast(Metadata, self._get("metadata", metadata_id))

    def get_sample_metadata(self, sample_id: str) -> Metadata:
        """The metadata record of a sample (``GET`` the sample, then its ``metadata`` reference)."""
        ident = validate_id(sample_id, "sample_id", resource="samples")
        sample = self._get("samples", ident)
        return self.get_metadata(calls.metadata_id_of(sample, ident))

    def update_metadata(
        self, metadata_id: str, fields: dict[str, Any], *, merge_custom: bool = True
    ) -> Metadata:
        """``PATCH /api/v1/metadata/{id}`` sending only ``fields``; returns the updated record.

        :param fields: e.g. ``{"custom": {"qc_verdict": "pass"}, "starred": True}``. ``sample``,
            ``$uri`` and ``updated_at`` are refused (``ValueError``, before any request).
        :param merge_custom: ``custom`` keys are merged over the current ones (one extra GET), so
            keys not named stay; ``False`` replaces ``custom`` as a whole.
        """
        call = calls.update_metadata(metadata_id, fields)
        if merge_custom and call.json_body.get("custom") is not None:
            current = self._get("metadata", id_from_uri(call.path))
            call = dataclasses.replace(call, json_body=calls.merge_custom(current, call.json_body))
        return cast(Metadata, self._send(call))

    def update_sample_metadata(
        self, sample_id: str, fields: dict[str, Any], *, merge_custom: bool = True
    ) -> Metadata:
        """:meth:`update_metadata` of a sample's metadata record (found through the sample)."""
        ident = validate_id(sample_id, "sample_id", resource="samples")
        calls.validate_metadata_fields(fields)
        metadata_id = calls.metadata_id_of(self._get("samples", ident), ident)
        return self.update_metadata(metadata_id, fields, merge_custom=merge_custom)

    # -- tags --------------------------------------------------------------------------------
    def list_tags(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Tag]:
        """``GET /api/v1/tags``, e.g. ``where={"name": {"$in": ["qc-pass", "qc-fail"]}}``."""
        return self._list("tags", where, sort, max_records, per_page)

    def get_tag(self, tag_id: str) -> Tag:
        """``GET /api/v1/tags/{id}``."""
        return cast(Tag, self._get("tags", tag_id))

    # -- analyses and results ----------------------------------------------------------------
    def list_analyses(
        self,
        sample_id: str | None = None,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
        *,
        analysis_type: str | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/analyses`` (every type), optionally of one sample and one ``analysis_type``."""
        where = _analysis_where(sample_id, where, analysis_type)
        return self._list("analyses", where, sort, max_records, per_page)

    def get_results(self, resource: str, analysis_id: str) -> dict[str, Any]:
        """``GET /api/v1/<resource>/{id}/results``: the JSON results (shape per type).

        :raises OneCodexNotFoundError: not found, failed, or not complete yet.
        """
        return cast(dict[str, Any], self._send(calls.sub_route(resource, analysis_id, "results")))

    def get_analysis_results(self, analysis_id: str) -> dict[str, Any]:
        """``GET /api/v1/analyses/{id}/results`` (custom workflows: their ``results.json``)."""
        return self.get_results("analyses", analysis_id)

    def get_file_details(self, resource: str, analysis_id: str) -> FileDetails:
        """``GET /api/v1/<resource>/{id}/file_details``: ``{"files": [{filename, filepath, size, url}]}``.

        ``url`` values are pre-signed: masked in logs from here on; keep them out of XCom.
        """
        details = self._send(calls.sub_route(resource, analysis_id, "file_details"))
        for f in details.get("files") or []:
            if isinstance(f, dict) and isinstance(f.get("url"), str):
                self._mask(f["url"])
        return cast(FileDetails, details)

    def list_classifications(
        self,
        sample_id: str | None = None,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/classifications``, optionally of one sample."""
        return self._list("classifications", _analysis_where(sample_id, where), sort, max_records, per_page)

    def get_classification(self, classification_id: str) -> dict[str, Any]:
        """``GET /api/v1/classifications/{id}`` (``results_uri`` is pre-signed or null)."""
        record = self._get("classifications", classification_id)
        if isinstance(record.get("results_uri"), str):
            self._mask(record["results_uri"])
        return cast(dict[str, Any], record)

    def get_classification_results(
        self,
        classification_id: str,
        *,
        use_results_uri: bool = True,
        record: Mapping[str, Any] | None = None,
    ) -> ClassificationResults:
        """A classification's results ``{n_reads, host_tax_ids, table}``.

        With ``use_results_uri`` (default) the record's pre-signed ``results_uri`` is fetched with a
        plain client and decoded (gzip; zstd when ``zstandard`` is installed; plain JSON); when it
        is null, fails or cannot be decoded, ``GET /api/v1/classifications/{id}/results`` is used.

        :param record: the classification record when the caller already has it (saves a GET).
        :raises OneCodexNotFoundError: failed or incomplete classification (404 on ``/results``).
        """
        ident = validate_id(classification_id, "classification_id", resource="classifications")
        if use_results_uri:
            if record is None:
                record = self.get_classification(ident)
            url = record.get("results_uri")
            if isinstance(url, str) and url:
                self._mask(url)
                downloader = self._downloader()
                try:
                    return cast(ClassificationResults, _results_from_uri(downloader.fetch_bytes(url), url))
                except (OneCodexDownloadError, OneCodexResponseError, ValueError) as exc:
                    log.warning(
                        "results_uri of classification %s not usable (%s); using /results", ident, exc
                    )
                finally:
                    downloader.close()
        return cast(ClassificationResults, self.get_results("classifications", ident))

    def get_classification_raw_results(self, classification_id: str) -> ClassificationResults:
        """``GET /api/v1/classifications/{id}/raw_results``: rows add ``n_kmers``, ``n_unique_kmers``."""
        return cast(
            ClassificationResults,
            self._send(calls.sub_route("classifications", classification_id, "raw_results")),
        )

    def get_classification_readlevel(self, classification_id: str) -> ReadLevel:
        """``GET /api/v1/classifications/{id}/readlevel``: ``{"url"}``, a pre-signed gzipped TSV (masked)."""
        data = self._send(calls.sub_route("classifications", classification_id, "readlevel"))
        if not isinstance(data.get("url"), str):
            raise OneCodexResponseError(200, "GET", "readlevel", "expected {'url': <pre-signed URL>}")
        self._mask(data["url"])
        return cast(ReadLevel, data)

    def list_panels(
        self,
        sample_id: str | None = None,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/panels``, optionally of one sample."""
        return self._list("panels", _analysis_where(sample_id, where), sort, max_records, per_page)

    def get_panel(self, panel_id: str) -> dict[str, Any]:
        """``GET /api/v1/panels/{id}``."""
        return cast(dict[str, Any], self._get("panels", panel_id))

    def get_panel_results(self, panel_id: str) -> PanelResults:
        """``GET /api/v1/panels/{id}/results``: ``{panel_name, panel_results: {sub-panel: {markers}}}``."""
        return cast(PanelResults, self.get_results("panels", panel_id))

    def get_alignment_results(self, alignment_id: str) -> AlignmentResults:
        """``GET /api/v1/alignments/{id}/results``: ``average_coverage``, ``average_identity``,
        ``median_depth``, ``n_mapped``, ``coverage.binned_depths`` (can be large)..."""
        return cast(AlignmentResults, self.get_results("alignments", alignment_id))

    def fetch_results(
        self, resource: str, analysis_id: str, *, record: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The results of any analysis by the best route: classifications through ``results_uri``
        (:meth:`get_classification_results`), every other route through ``/results``."""
        resource = validate_results_resource(resource)
        if resource == "classifications":
            return cast(dict[str, Any], self.get_classification_results(analysis_id, record=record))
        return self.get_results(resource, analysis_id)

    # -- jobs, documents, events -------------------------------------------------------------
    def list_jobs(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Job]:
        """``GET /api/v1/jobs`` (drafts are not listed by One Codex)."""
        return self._list("jobs", where, sort, max_records, per_page)

    def get_job(self, job_id: str) -> Job:
        """``GET /api/v1/jobs/{id}``."""
        return cast(Job, self._get("jobs", job_id))

    def list_documents(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Document]:
        """``GET /api/v1/documents``."""
        return self._list("documents", where, sort, max_records, per_page)

    def get_document(self, document_id: str) -> Document:
        """``GET /api/v1/documents/{id}``."""
        return cast(Document, self._get("documents", document_id))

    def get_document_download_uri(self, document_id: str) -> DownloadUri:
        """``POST /api/v1/documents/{id}/download_uri`` -> ``{download_uri, expires_in_hours}``.

        Never retried (each call may incur retrieval charges); the link is masked in logs.
        """
        data = self._send(calls.download_uri("documents", document_id))
        if not isinstance(data.get("download_uri"), str):
            raise OneCodexResponseError(200, "POST", "download_uri", "expected {'download_uri': <URL>}")
        self._mask(data["download_uri"])
        return cast(DownloadUri, data)

    def list_events(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Event]:
        """``GET /api/v1/events`` (webhook deliveries, kept 30 days; only with webhooks configured)."""
        return self._list("events", where, sort, max_records, per_page)

    def get_event(self, event_id: str) -> Event:
        """``GET /api/v1/events/{id}``: ``{payload, status}``."""
        return cast(Event, self._get("events", event_id))

    # -- downloads ---------------------------------------------------------------------------
    def download_analysis_files(
        self,
        analysis_id: str,
        destination: object,
        *,
        resource: str = "analyses",
        filenames: list[str] | None = None,
        destination_conn_id: str | None = None,
    ) -> list[DownloadedFile]:
        """Stream an analysis's output files (``file_details``) into the folder ``destination``.

        Each file goes to ``<destination>/<filename>`` with a plain client (no One Codex auth), its
        size checked against ``file_details[].size`` (a partial or wrong-sized file is removed).

        :param destination: folder: an fsspec URL (``file://``, ``s3://``...), a local path or an
            ``ObjectStoragePath``; local folders are created.
        :param filenames: only these files (default: all).
        :returns: ``[{filename, uri, size, sha256}]`` (``uri``: where the file was written).
        """
        wanted = _validate_filenames(filenames)
        folder = storage_path(destination, destination_conn_id)
        what = f"/api/v1/{resource}/{validate_id(analysis_id, 'analysis_id', resource=resource)}/file_details"
        files = _select_files(self.get_file_details(resource, analysis_id), wanted, what)
        _prepare_folder(folder)
        out: list[DownloadedFile] = []
        downloader = self._downloader()
        try:
            for f in files:
                target = folder / f["filename"]
                log.info(
                    "Downloading %s (%s bytes) from %s", f["filename"], f.get("size"), redact_url(f["url"])
                )
                got = downloader.download(f["url"], target, expected_size=_size_of(f.get("size")))
                out.append(
                    {"filename": f["filename"], "uri": str(target), "size": got.size, "sha256": got.sha256}
                )
        finally:
            downloader.close()
        return out

    def download_document(
        self, document_id: str, destination: object, *, destination_conn_id: str | None = None
    ) -> DownloadedFile:
        """Fetch a document (``POST download_uri``, once) into ``<destination>/<document filename>``,
        its size checked against the document's ``size``."""
        ident = validate_id(document_id, "document_id", resource="documents")
        folder = storage_path(destination, destination_conn_id)
        document = self.get_document(ident)
        filename = safe_filename(document.get("filename"), f"/api/v1/documents/{ident}")
        url = self.get_document_download_uri(ident)["download_uri"]
        _prepare_folder(folder)
        target = folder / filename
        downloader = self._downloader()
        try:
            log.info("Downloading document %s from %s", ident, redact_url(url))
            got = downloader.download(url, target, expected_size=_size_of(document.get("size")))
        finally:
            downloader.close()
        return {"filename": filename, "uri": str(target), "size": got.size, "sha256": got.sha256}

    def download_readlevel(
        self,
        classification_id: str,
        destination: object,
        *,
        filename: str | None = None,
        destination_conn_id: str | None = None,
    ) -> DownloadedFile:
        """Fetch a classification's read-level TSV (gzipped, stored as is) into ``destination``.

        :param filename: default ``<classification_id>.readlevel.tsv.gz``.
        """
        ident = validate_id(classification_id, "classification_id", resource="classifications")
        name = safe_filename(filename or f"{ident}.readlevel.tsv.gz", "filename")
        folder = storage_path(destination, destination_conn_id)
        url = self.get_classification_readlevel(ident)["url"]
        _prepare_folder(folder)
        target = folder / name
        downloader = self._downloader()
        try:
            log.info("Downloading read-level results of %s from %s", ident, redact_url(url))
            got = downloader.download(url, target)
        finally:
            downloader.close()
        return {"filename": name, "uri": str(target), "size": got.size, "sha256": got.sha256}


# -- async ---------------------------------------------------------------------------------------


class OneCodexAsyncResourcesMixin:
    """Async twin of :class:`OneCodexResourcesMixin`: the same methods, arguments and errors."""

    if TYPE_CHECKING:

        async def aget_client(self) -> AsyncOneCodexClient: ...

    async def _send(self, call: ApiCall) -> Any:
        client = await self.aget_client()
        data, _ = await client.request(call.method, call.path, json_body=call.json_body, expect=call.expect)
        return data

    async def _get(self, resource: str, record_id: object, suffix: str = "") -> Any:
        return await (await self.aget_client()).get_record(resource, cast(str, record_id), suffix)

    async def _list(
        self,
        resource: str,
        where: object,
        sort: object,
        max_records: int | None,
        per_page: int | None,
        variant: str | None = None,
    ) -> list[Any]:
        client = await self.aget_client()
        return await client.list_records(
            resource, where=where, sort=sort, max_records=max_records, per_page=per_page, variant=variant
        )

    async def _downloader(self) -> AsyncDownloader:
        config = (await self.aget_client()).config
        return AsyncDownloader(config.timeout, config.retry)

    @staticmethod
    async def _mask(url: str) -> None:
        from airflow.sdk.log import amask_secret

        for secret in url_secrets(url):
            await amask_secret(secret)

    # -- samples -----------------------------------------------------------------------------
    async def list_samples(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Sample]:
        return await self._list("samples", where, sort, max_records, per_page)

    async def list_public_samples(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = PUBLIC_MAX_RECORDS,
        per_page: int | None = None,
    ) -> list[Sample]:
        return await self._list("samples", where, sort, max_records, per_page, "public")

    async def list_organization_samples(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Sample]:
        return await self._list("samples", where, sort, max_records, per_page, "organization")

    async def tag_sample(self, sample_id: str, tags: list[str], remove: list[str] | None = None) -> Sample:
        """Async :meth:`OneCodexResourcesMixin.tag_sample`."""
        ident = validate_id(sample_id, "sample_id", resource="samples")
        dropped = calls.validate_tag_names(remove, "remove", allow_empty=True) if remove is not None else []
        names = calls.validate_tag_names(tags, "tags", allow_empty=bool(dropped))
        sample = await self._get("samples", ident)
        ids = calls.tag_ids_of(sample)
        listed = await self._list("tags", _tags_by_uri(ids), None, len(ids), len(ids)) if ids else []
        current = _current_tags(ids, listed)
        new = [n for n in names if n not in current.values()]
        known = await self._list("tags", {"name": {"$in": new}}, None, None, None) if new else []
        plan = calls.plan_tags(current, known, names, dropped)
        if plan.body is None:
            log.info("Sample %s already has tags %s", ident, plan.names)
            return cast(Sample, sample)
        _check_plan(plan, current, ident)
        log.info("Tagging sample %s: %s", ident, plan.names)
        return cast(Sample, await self._send(calls.update_sample(ident, plan.body)))

    # -- metadata ----------------------------------------------------------------------------
    async def list_metadata(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Metadata]:
        return await self._list("metadata", where, sort, max_records, per_page)

    async def get_metadata(self, metadata_id: str) -> Metadata:
        return cast(Metadata, await self._get("metadata", metadata_id))

    async def get_sample_metadata(self, sample_id: str) -> Metadata:
        ident = validate_id(sample_id, "sample_id", resource="samples")
        sample = await self._get("samples", ident)
        return await self.get_metadata(calls.metadata_id_of(sample, ident))

    async def update_metadata(
        self, metadata_id: str, fields: dict[str, Any], *, merge_custom: bool = True
    ) -> Metadata:
        """Async :meth:`OneCodexResourcesMixin.update_metadata`."""
        call = calls.update_metadata(metadata_id, fields)
        if merge_custom and call.json_body.get("custom") is not None:
            current = await self._get("metadata", id_from_uri(call.path))
            call = dataclasses.replace(call, json_body=calls.merge_custom(current, call.json_body))
        return cast(Metadata, await self._send(call))

    async def update_sample_metadata(
        self, sample_id: str, fields: dict[str, Any], *, merge_custom: bool = True
    ) -> Metadata:
        ident = validate_id(sample_id, "sample_id", resource="samples")
        calls.validate_metadata_fields(fields)
        metadata_id = calls.metadata_id_of(await self._get("samples", ident), ident)
        return await self.update_metadata(metadata_id, fields, merge_custom=merge_custom)

    # -- tags --------------------------------------------------------------------------------
    async def list_tags(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Tag]:
        return await self._list("tags", where, sort, max_records, per_page)

    async def get_tag(self, tag_id: str) -> Tag:
        return cast(Tag, await self._get("tags", tag_id))

    # -- analyses and results ----------------------------------------------------------------
    async def list_analyses(
        self,
        sample_id: str | None = None,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
        *,
        analysis_type: str | None = None,
    ) -> list[dict[str, Any]]:
        where = _analysis_where(sample_id, where, analysis_type)
        return await self._list("analyses", where, sort, max_records, per_page)

    async def get_results(self, resource: str, analysis_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], await self._send(calls.sub_route(resource, analysis_id, "results")))

    async def get_analysis_results(self, analysis_id: str) -> dict[str, Any]:
        return await self.get_results("analyses", analysis_id)

    async def get_file_details(self, resource: str, analysis_id: str) -> FileDetails:
        details = await self._send(calls.sub_route(resource, analysis_id, "file_details"))
        for f in details.get("files") or []:
            if isinstance(f, dict) and isinstance(f.get("url"), str):
                await self._mask(f["url"])
        return cast(FileDetails, details)

    async def list_classifications(
        self,
        sample_id: str | None = None,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[dict[str, Any]]:
        return await self._list(
            "classifications", _analysis_where(sample_id, where), sort, max_records, per_page
        )

    async def get_classification(self, classification_id: str) -> dict[str, Any]:
        record = await self._get("classifications", classification_id)
        if isinstance(record.get("results_uri"), str):
            await self._mask(record["results_uri"])
        return cast(dict[str, Any], record)

    async def get_classification_results(
        self,
        classification_id: str,
        *,
        use_results_uri: bool = True,
        record: Mapping[str, Any] | None = None,
    ) -> ClassificationResults:
        """Async :meth:`OneCodexResourcesMixin.get_classification_results`."""
        ident = validate_id(classification_id, "classification_id", resource="classifications")
        if use_results_uri:
            if record is None:
                record = await self.get_classification(ident)
            url = record.get("results_uri")
            if isinstance(url, str) and url:
                await self._mask(url)
                downloader = await self._downloader()
                try:
                    body = await downloader.fetch_bytes(url)
                    return cast(ClassificationResults, _results_from_uri(body, url))
                except (OneCodexDownloadError, OneCodexResponseError, ValueError) as exc:
                    log.warning(
                        "results_uri of classification %s not usable (%s); using /results", ident, exc
                    )
                finally:
                    await downloader.aclose()
        return cast(ClassificationResults, await self.get_results("classifications", ident))

    async def get_classification_raw_results(self, classification_id: str) -> ClassificationResults:
        call = calls.sub_route("classifications", classification_id, "raw_results")
        return cast(ClassificationResults, await self._send(call))

    async def get_classification_readlevel(self, classification_id: str) -> ReadLevel:
        data = await self._send(calls.sub_route("classifications", classification_id, "readlevel"))
        if not isinstance(data.get("url"), str):
            raise OneCodexResponseError(200, "GET", "readlevel", "expected {'url': <pre-signed URL>}")
        await self._mask(data["url"])
        return cast(ReadLevel, data)

    async def list_panels(
        self,
        sample_id: str | None = None,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[dict[str, Any]]:
        return await self._list("panels", _analysis_where(sample_id, where), sort, max_records, per_page)

    async def get_panel(self, panel_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], await self._get("panels", panel_id))

    async def get_panel_results(self, panel_id: str) -> PanelResults:
        return cast(PanelResults, await self.get_results("panels", panel_id))

    async def get_alignment_results(self, alignment_id: str) -> AlignmentResults:
        return cast(AlignmentResults, await self.get_results("alignments", alignment_id))

    async def fetch_results(
        self, resource: str, analysis_id: str, *, record: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        resource = validate_results_resource(resource)
        if resource == "classifications":
            return cast(dict[str, Any], await self.get_classification_results(analysis_id, record=record))
        return await self.get_results(resource, analysis_id)

    # -- jobs, documents, events -------------------------------------------------------------
    async def list_jobs(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Job]:
        return await self._list("jobs", where, sort, max_records, per_page)

    async def get_job(self, job_id: str) -> Job:
        return cast(Job, await self._get("jobs", job_id))

    async def list_documents(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Document]:
        return await self._list("documents", where, sort, max_records, per_page)

    async def get_document(self, document_id: str) -> Document:
        return cast(Document, await self._get("documents", document_id))

    async def get_document_download_uri(self, document_id: str) -> DownloadUri:
        data = await self._send(calls.download_uri("documents", document_id))
        if not isinstance(data.get("download_uri"), str):
            raise OneCodexResponseError(200, "POST", "download_uri", "expected {'download_uri': <URL>}")
        await self._mask(data["download_uri"])
        return cast(DownloadUri, data)

    async def list_events(
        self,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        per_page: int | None = None,
    ) -> list[Event]:
        return await self._list("events", where, sort, max_records, per_page)

    async def get_event(self, event_id: str) -> Event:
        return cast(Event, await self._get("events", event_id))

    # -- downloads ---------------------------------------------------------------------------
    async def download_analysis_files(
        self,
        analysis_id: str,
        destination: object,
        *,
        resource: str = "analyses",
        filenames: list[str] | None = None,
        destination_conn_id: str | None = None,
    ) -> list[DownloadedFile]:
        """Async :meth:`OneCodexResourcesMixin.download_analysis_files` (file writes in a thread)."""
        import asyncio

        wanted = _validate_filenames(filenames)
        folder = storage_path(destination, destination_conn_id)
        what = f"/api/v1/{resource}/{validate_id(analysis_id, 'analysis_id', resource=resource)}/file_details"
        files = _select_files(await self.get_file_details(resource, analysis_id), wanted, what)
        await asyncio.to_thread(_prepare_folder, folder)
        out: list[DownloadedFile] = []
        downloader = await self._downloader()
        try:
            for f in files:
                target = folder / f["filename"]
                log.info(
                    "Downloading %s (%s bytes) from %s", f["filename"], f.get("size"), redact_url(f["url"])
                )
                got = await downloader.download(f["url"], target, expected_size=_size_of(f.get("size")))
                out.append(
                    {"filename": f["filename"], "uri": str(target), "size": got.size, "sha256": got.sha256}
                )
        finally:
            await downloader.aclose()
        return out

    async def download_document(
        self, document_id: str, destination: object, *, destination_conn_id: str | None = None
    ) -> DownloadedFile:
        import asyncio

        ident = validate_id(document_id, "document_id", resource="documents")
        folder = storage_path(destination, destination_conn_id)
        document = await self.get_document(ident)
        filename = safe_filename(document.get("filename"), f"/api/v1/documents/{ident}")
        url = (await self.get_document_download_uri(ident))["download_uri"]
        await asyncio.to_thread(_prepare_folder, folder)
        target = folder / filename
        downloader = await self._downloader()
        try:
            log.info("Downloading document %s from %s", ident, redact_url(url))
            got = await downloader.download(url, target, expected_size=_size_of(document.get("size")))
        finally:
            await downloader.aclose()
        return {"filename": filename, "uri": str(target), "size": got.size, "sha256": got.sha256}

    async def download_readlevel(
        self,
        classification_id: str,
        destination: object,
        *,
        filename: str | None = None,
        destination_conn_id: str | None = None,
    ) -> DownloadedFile:
        import asyncio

        ident = validate_id(classification_id, "classification_id", resource="classifications")
        name = safe_filename(filename or f"{ident}.readlevel.tsv.gz", "filename")
        folder = storage_path(destination, destination_conn_id)
        url = (await self.get_classification_readlevel(ident))["url"]
        await asyncio.to_thread(_prepare_folder, folder)
        target = folder / name
        downloader = await self._downloader()
        try:
            log.info("Downloading read-level results of %s from %s", ident, redact_url(url))
            got = await downloader.download(url, target)
        finally:
            await downloader.aclose()
        return {"filename": name, "uri": str(target), "size": got.size, "sha256": got.sha256}
