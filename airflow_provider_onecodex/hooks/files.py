"""Documents, webhook events, and downloads: files chosen and named by :mod:`~.api.files`, streamed
(no One Codex auth, sizes checked, SHA-256) into ``<destination>/<filename>``; ``destination``: a URL
(``file://``, ``s3://``...), a local path or an ``ObjectStoragePath``. Each download returns
``{filename, uri, size (bytes), sha256}``, never the link."""

from __future__ import annotations

from typing import Any

from airflow_provider_onecodex.api import files
from airflow_provider_onecodex.api.downloads import Downloader
from airflow_provider_onecodex.api.ops import Op
from airflow_provider_onecodex.api.records import Document, DownloadedFile, DownloadUri, Event
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook, Route
from airflow_provider_onecodex.storage import prepare_folder, storage_path


class OneCodexFilesHook(OneCodexBaseHook):
    """``/api/v1/documents``, ``/api/v1/events`` and the pre-signed downloads of any route."""

    get_document = Route[Document]("documents/{id}")
    get_event = Route[Event]("events/{id}", "``{payload, status}``")
    list_documents = Route[list[Document]]("documents")
    list_events = Route[list[Event]]("events", "kept 30 days")
    get_document_download_uri = Route[DownloadUri](
        files.document_download_uri,
        "``POST /api/v1/documents/{id}/download_uri`` -> ``{download_uri, expires_in_hours}`` (never retried).",
    )

    def download_analysis_files(
        self,
        analysis_id: str,
        *,
        destination: object,
        resource: str = "analyses",
        filenames: list[str] | None = None,
        destination_conn_id: str | None = None,
    ) -> list[DownloadedFile]:
        """An analysis's output files (``file_details``; ``filenames``: only these) into ``destination``."""
        op = files.analysis_files(resource, analysis_id, filenames=filenames)
        return self._fetch(op, destination, destination_conn_id)

    def download_document(
        self, document_id: str, *, destination: object, destination_conn_id: str | None = None
    ) -> DownloadedFile:
        """A document (one ``POST download_uri``) into ``<destination>/<its filename>``."""
        return self._fetch(files.document_file(document_id), destination, destination_conn_id)[0]

    def download_readlevel(
        self,
        classification_id: str,
        *,
        destination: object,
        filename: str | None = None,
        destination_conn_id: str | None = None,
    ) -> DownloadedFile:
        """A classification's read-level TSV (gzipped, as is), named ``<classification_id>.readlevel.tsv.gz``."""
        op = files.readlevel_file(classification_id, filename=filename)
        return self._fetch(op, destination, destination_conn_id)[0]

    def _fetch(self, op: Op[Any], destination: object, conn_id: str | None) -> list[DownloadedFile]:
        folder = storage_path(destination, conn_id)  # a bad destination fails before any request
        wanted = self.run(op)
        prepare_folder(folder)
        with Downloader(self.config.timeout, self.config.retry) as downloader:
            return downloader.download_files(wanted if isinstance(wanted, list) else [wanted], folder)
