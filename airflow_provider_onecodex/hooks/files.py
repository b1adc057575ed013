"""Documents, webhook events, and downloads into a folder: :class:`OneCodexFilesHook`.

Which files and under which names is decided by :mod:`airflow_provider_onecodex.api.files`;
here they are streamed (plain client, no One Codex auth, sizes checked, SHA-256 computed) into
``<destination>/<filename>``. ``destination``: an fsspec URL (``file://``, ``s3://``...), a local
path or an ``ObjectStoragePath``; local folders are created. Downloads return
``{filename, uri, size (bytes), sha256}`` (``uri``: where the file was written), never the link.
"""

from __future__ import annotations

from typing import Any, cast

from airflow_provider_onecodex.api import files
from airflow_provider_onecodex.api.downloads import Downloader
from airflow_provider_onecodex.api.records import Document, DownloadedFile, DownloadUri, Event
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook
from airflow_provider_onecodex.storage import prepare_folder, storage_path


class OneCodexFilesHook(OneCodexBaseHook):
    """``/api/v1/documents``, ``/api/v1/events`` and the pre-signed downloads of any route."""

    def list_documents(self, **listing: Any) -> list[Document]:
        """``GET /api/v1/documents``."""
        return cast(list[Document], self.list_records("documents", **listing))

    def get_document(self, document_id: str) -> Document:
        """``GET /api/v1/documents/{id}``."""
        return cast(Document, self.get_record("documents", document_id))

    def get_document_download_uri(self, document_id: str) -> DownloadUri:
        """``POST /api/v1/documents/{id}/download_uri`` -> ``{download_uri, expires_in_hours}``;
        never retried (each call may incur retrieval charges)."""
        return cast(DownloadUri, self.run(files.document_download_uri(document_id)))

    def list_events(self, **listing: Any) -> list[Event]:
        """``GET /api/v1/events`` (webhook deliveries, kept 30 days)."""
        return cast(list[Event], self.list_records("events", **listing))

    def get_event(self, event_id: str) -> Event:
        """``GET /api/v1/events/{id}``: ``{payload, status}``."""
        return cast(Event, self.get_record("events", event_id))

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
        folder = storage_path(destination, destination_conn_id)
        return self._fetch(self.run(files.analysis_files(resource, analysis_id, filenames=filenames)), folder)

    def download_document(
        self, document_id: str, *, destination: object, destination_conn_id: str | None = None
    ) -> DownloadedFile:
        """A document (one ``POST download_uri``) into ``<destination>/<its filename>``."""
        folder = storage_path(destination, destination_conn_id)
        return self._fetch([self.run(files.document_file(document_id))], folder)[0]

    def download_readlevel(
        self,
        classification_id: str,
        *,
        destination: object,
        filename: str | None = None,
        destination_conn_id: str | None = None,
    ) -> DownloadedFile:
        """A classification's read-level TSV (gzipped, stored as is), default name
        ``<classification_id>.readlevel.tsv.gz``."""
        folder = storage_path(destination, destination_conn_id)
        return self._fetch([self.run(files.readlevel_file(classification_id, filename=filename))], folder)[0]

    def _fetch(self, wanted: list[files.FileToFetch], folder: Any) -> list[DownloadedFile]:
        prepare_folder(folder)
        with Downloader(self.config.timeout, self.config.retry) as downloader:
            return downloader.download_files(wanted, folder)
