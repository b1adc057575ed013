"""Which files to fetch, and under which names: analysis output files, documents, read-level TSVs.

The operations here return :class:`FileToFetch` values (name, pre-signed URL, announced size); the
hook streams them with :class:`~airflow_provider_onecodex.api.downloads.Downloader`. Server-sent
file names are only used when they cannot leave the destination folder (no separator, not ``.``/
``..``): anything else is a :class:`~airflow_provider_onecodex.api.errors.MalformedRecordError`
(permanent). Names given by the user are checked the same way and refused with ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_onecodex.api.analyses import readlevel, sub_route
from airflow_provider_onecodex.api.errors import MalformedRecordError, OneCodexResponseError
from airflow_provider_onecodex.api.ops import ApiCall, Op, get_record, record_path

# POST /<resource>/{id}/download_uri: never retried ("may incur retrieval charges")
DOWNLOAD_URI_RESOURCES = frozenset({"documents", "samples"})


@dataclass(frozen=True)
class FileToFetch:
    """One file to download: its safe ``filename``, pre-signed ``url``, ``size`` in bytes or ``None``."""

    filename: str
    url: str
    size: int | None = None


def is_safe_filename(value: object) -> bool:
    """A non-empty name without ``/``, ``\\`` or NUL, and not ``.``/``..``."""
    return (
        isinstance(value, str)
        and value not in ("", ".", "..")
        and not any(c in value for c in ("/", "\\", "\x00"))
    )


def safe_filename(value: object, what: str) -> str:
    """A server-sent file name usable inside a destination folder.

    :raises MalformedRecordError: anything else, naming ``what`` (the route) and the value.
    """
    if not is_safe_filename(value):
        raise MalformedRecordError(f"{what}: unusable file name {value!r}")
    return value  # type: ignore[return-value]


def validate_filenames(filenames: object) -> list[str] | None:
    """``None`` (every file) or a non-empty list of names, duplicates dropped.

    :raises TypeError: not a list/tuple. :raises ValueError: empty, or a blank name.
    """
    if filenames is None:
        return None
    if isinstance(filenames, (str, bytes)) or not isinstance(filenames, (list, tuple)):
        raise TypeError(f"filenames must be a list of file names or None, got {filenames!r}")
    if not filenames or not all(isinstance(f, str) and f for f in filenames):
        raise ValueError(f"filenames must be a non-empty list of file names, got {filenames!r}")
    return list(dict.fromkeys(filenames))


def _size_of(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def select_files(details: Mapping[str, Any], filenames: list[str] | None, what: str) -> list[FileToFetch]:
    """The files of a ``file_details`` answer to fetch: all, or those named in ``filenames``.

    :raises MalformedRecordError: not ``{"files": [{filename, size, url}]}``, an unsafe name, a
        file without ``url``, or two files of the same name.
    :raises ValueError: a name in ``filenames`` that the analysis does not have.
    """
    files = details.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise MalformedRecordError(f"{what}: expected {{'files': [{{filename, size, url}}, ...]}}")
    for f in files:
        safe_filename(f.get("filename"), what)
        if not isinstance(f.get("url"), str):
            raise MalformedRecordError(f"{what}: file {f.get('filename')!r} has no url")
    available = [f["filename"] for f in files]
    if filenames is not None:
        missing = [n for n in filenames if n not in available]
        if missing:
            raise ValueError(f"filenames {missing} are not among the analysis files {available}")
        files = [f for f in files if f["filename"] in filenames]
    names = [f["filename"] for f in files]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise MalformedRecordError(f"{what}: several files are named {duplicated}")
    return [FileToFetch(f["filename"], f["url"], _size_of(f.get("size"))) for f in files]


def analysis_files(resource: str, analysis_id: object, *, filenames: object = None) -> Op[list[FileToFetch]]:
    """An analysis's output files (``GET /api/v1/<resource>/{id}/file_details``), maybe filtered."""
    wanted = validate_filenames(filenames)
    details = sub_route(resource, analysis_id, "file_details")
    return select_files((yield details), wanted, details.path)


def download_uri(resource: str, record_id: object) -> ApiCall:
    """``POST /api/v1/<documents|samples>/{id}/download_uri`` -> ``{download_uri, expires_in_hours}``.

    A POST: never retried (each call may incur retrieval charges).

    :raises ValueError: another resource, or a bad id.
    """
    if resource not in DOWNLOAD_URI_RESOURCES:
        raise ValueError(f"download_uri exists on {sorted(DOWNLOAD_URI_RESOURCES)}, not on {resource!r}")
    return ApiCall("POST", f"{record_path(resource, record_id)}/download_uri", json_body={}, retry=False)


def document_download_uri(document_id: str) -> Op[dict[str, Any]]:
    """The operation of :func:`download_uri` for a document, its answer checked."""
    data = yield download_uri("documents", document_id)
    if not isinstance(data.get("download_uri"), str):
        raise OneCodexResponseError(200, "POST", "download_uri", "expected {'download_uri': <URL>}")
    return data  # type: ignore[no-any-return]


def document_file(document_id: str) -> Op[FileToFetch]:
    """A document as a file: its record (name, size), then one fresh ``download_uri``."""
    document = yield from get_record("documents", document_id)
    filename = safe_filename(document.get("filename"), record_path("documents", document_id))
    link = yield from document_download_uri(document_id)
    return FileToFetch(filename, link["download_uri"], _size_of(document.get("size")))


def readlevel_file(classification_id: str, *, filename: str | None = None) -> Op[FileToFetch]:
    """A classification's read-level TSV (gzipped) as a file, named ``filename`` or
    ``<classification_id>.readlevel.tsv.gz``.

    :raises ValueError: an unsafe ``filename`` (a separator, ``.``/``..``), before any request.
    """
    path = record_path("classifications", classification_id)
    name = filename if filename is not None else f"{path.rsplit('/', 1)[1]}.readlevel.tsv.gz"
    if not is_safe_filename(name):
        raise ValueError(f"filename must be a plain file name (no '/', '\\\\', '..'), got {filename!r}")
    data = yield from readlevel(classification_id)
    return FileToFetch(str(name), data["url"])
