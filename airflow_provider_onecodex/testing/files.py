"""Results, output files and pre-signed links of a running simulator. Mixed into
:class:`~airflow_provider_onecodex.testing.state.SimulatorState`.

Classification ``results_uri`` links serve the results zstd-compressed, as One Codex does; the
same body gzip-compressed is at ``classifications/<id>/results.json.gz``.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import math
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from airflow_provider_onecodex.testing import analysis_results, blobs
from airflow_provider_onecodex.testing import results as generated
from airflow_provider_onecodex.testing.errors import NotAvailable, NotFound, PresignRefused
from airflow_provider_onecodex.testing.records import Analysis, Document, Job
from airflow_provider_onecodex.testing.registry import RESOURCES

_CONTENT_TYPES = (
    (".json", "application/json"),
    (".tsv", "text/tab-separated-values"),
    (".pdf", "application/pdf"),
)


def _content_type(filename: str) -> str:
    return next(
        (kind for suffix, kind in _CONTENT_TYPES if filename.endswith(suffix)), "application/octet-stream"
    )


class FilesMixin:
    """``/results``, ``/raw_results``, ``/file_details``, ``/readlevel``, ``download_uri`` and
    the blobs behind their pre-signed links."""

    _lock: threading.RLock
    _wall0: datetime
    _signing_key: bytes
    _results_cache: dict[str, dict[str, Any]]
    analyses: dict[str, Analysis]
    jobs: dict[str, Job]
    documents: dict[str, Document]
    base_url: str
    presign_ttl: float

    elapsed: Callable[[], float]

    def wall_now(self) -> float:
        """The simulated wall clock (epoch seconds): pre-signed links expire on it."""
        return self._wall0.timestamp() + self.elapsed()

    def _signature(self, key: str, expires: int) -> str:
        return hmac.new(self._signing_key, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def presign(self, key: str) -> str:
        """A pre-signed link to blob ``key``, valid for :attr:`presign_ttl` seconds."""
        expires = int(self.wall_now() + self.presign_ttl)
        signature = self._signature(key, expires)
        return f"{self.base_url}/_files/{quote(key)}?expires={expires}&signature={signature}"

    def open_presigned(self, key: str, expires: str | None, signature: str | None) -> tuple[bytes, str]:
        """The blob behind a pre-signed link, checked as S3 would: ``(content, content type)``.

        :raises PresignRefused: missing/bad signature or expired (403), unknown key (404).
        """
        if not expires or not signature or not expires.isdigit():
            raise PresignRefused(
                403, "AccessDenied", "Query-string authentication requires expires and signature"
            )
        if not hmac.compare_digest(signature, self._signature(key, int(expires))):
            raise PresignRefused(403, "SignatureDoesNotMatch", "The request signature does not match")
        if self.wall_now() > int(expires):
            raise PresignRefused(403, "AccessDenied", "Request has expired")
        try:
            return self.blob(key)
        except (NotFound, NotAvailable):
            raise PresignRefused(404, "NoSuchKey", "The specified key does not exist.") from None

    def blob(self, key: str) -> tuple[bytes, str]:
        """Content and type of a stored file: ``classifications/<id>/results.json.zst`` (or
        ``.gz``), ``classifications/<id>/readlevel.tsv.gz``, ``analyses/<id>/files/<name>``,
        ``documents/<id>/<filename>``."""
        parts = key.split("/")
        with self._lock:
            if (
                len(parts) == 3
                and parts[0] == "classifications"
                and parts[2] in ("results.json.zst", "results.json.gz")
            ):
                body = json.dumps(
                    self.analysis_results("classifications", parts[1]), separators=(",", ":")
                ).encode()
                packed = blobs.zstd_bytes(body) if parts[2].endswith(".zst") else blobs.gzip_bytes(body)
                return packed, "application/octet-stream"
            if len(parts) == 3 and parts[0] == "classifications" and parts[2] == "readlevel.tsv.gz":
                results = self.analysis_results("classifications", parts[1])
                return blobs.gzip_bytes(blobs.readlevel_tsv(parts[1], results)), "application/gzip"
            if len(parts) == 4 and parts[0] == "analyses" and parts[2] == "files":
                files = self._output_files(parts[1])
                if parts[3] not in files:
                    raise NotFound(key)
                return files[parts[3]], _content_type(parts[3])
            if len(parts) == 3 and parts[0] == "documents" and parts[1] in self.documents:
                document = self.documents[parts[1]]
                if document.filename != parts[2]:
                    raise NotFound(key)
                content = blobs.document_bytes(document.id, document.size, document.filename)
                return content, _content_type(document.filename)
        raise NotFound(key)

    def _succeeded_analysis(self, route: str, analysis_id: str) -> Analysis:
        a = self.analyses.get(analysis_id)
        if a is None or not RESOURCES[route].shows(a):
            raise NotFound(analysis_id)
        if a.complete_after is None or self.elapsed() < a.complete_after or not a.success:
            raise NotAvailable(analysis_id)
        return a

    def _generated_results(self, a: Analysis) -> dict[str, Any]:
        cached = self._results_cache.get(a.id)
        if cached is None:
            if a.analysis_type == "classification":
                cached = generated.classification_results(a.id, a.results)
            elif a.analysis_type == "alignment":
                cached = analysis_results.alignment_results(a.id, a.tax_id, a.results)
            elif a.analysis_type == "panel":
                job = self.jobs.get(a.job or "")
                cached = analysis_results.panel_results(a.id, job.name if job else "Panel", a.results)
            else:
                cached = analysis_results.other_results(a.id, a.analysis_type, a.results)
            self._results_cache[a.id] = cached
        return copy.deepcopy(cached)

    def analysis_results(self, route: str, analysis_id: str, kind: str = "results") -> dict[str, Any]:
        """``GET /api/v1/<route>/<id>/results`` (or ``raw_results``) of a succeeded analysis.

        :raises NotFound: unknown id or another type's route. :raises NotAvailable: pending or failed.
        """
        with self._lock:
            a = self._succeeded_analysis(route, analysis_id)
            results = self._generated_results(a)
        if kind == "raw_results":
            return generated.raw_results(a.id, results)
        return results

    def _output_files(self, analysis_id: str) -> dict[str, bytes]:
        a = self._succeeded_analysis("analyses", analysis_id)
        return blobs.output_files(a.analysis_type, self._generated_results(a))

    def file_details_json(self, route: str, analysis_id: str) -> dict[str, Any]:
        """``GET /api/v1/<route>/<id>/file_details``: ``{"files": [{filename, filepath, size, url}]}``."""
        with self._lock:
            self._succeeded_analysis(route, analysis_id)
            files = self._output_files(analysis_id)
        return {
            "files": [
                {
                    "filename": name,
                    "filepath": f"{analysis_id}/{name}",
                    "size": len(content),
                    "url": self.presign(f"analyses/{analysis_id}/files/{name}"),
                }
                for name, content in files.items()
            ]
        }

    def readlevel_json(self, analysis_id: str) -> dict[str, Any]:
        """``GET /api/v1/classifications/<id>/readlevel``: ``{"url": <pre-signed gzipped TSV>}``."""
        with self._lock:
            self._succeeded_analysis("classifications", analysis_id)
        return {"url": self.presign(f"classifications/{analysis_id}/readlevel.tsv.gz")}

    def document_download_uri(self, document_id: str) -> dict[str, Any]:
        """``POST /api/v1/documents/<id>/download_uri``: ``{download_uri, expires_in_hours}``."""
        with self._lock:
            document = self.documents.get(document_id)
            if document is None:
                raise NotFound(document_id)
        return {
            "download_uri": self.presign(f"documents/{document.id}/{document.filename}"),
            "expires_in_hours": max(1, math.ceil(self.presign_ttl / 3600)),
        }
