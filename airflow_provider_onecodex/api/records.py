"""Shapes of One Codex records, as plain dicts typed by ``TypedDict``, and timestamp parsing.

Records are returned exactly as the API sent them (JSON-native, so they cross XCom and trigger
events unchanged). Unknown extra fields are kept; optional fields (``tax_id``, ``updated_at``,
``job_args``, ``cost``, ``results_uri``...) may be missing. Field lists follow the One Codex API
reference ("Analysis family", "Resources").
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, TypedDict

import pendulum

_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")  # a bare time like "12:00" would mean "today"

# {"$ref": "/api/v1/<resource>/<id>"}
Ref = TypedDict("Ref", {"$ref": str})

_AnalysisBase = TypedDict(
    "_AnalysisBase",
    {
        "$uri": str,
        "complete": bool,
        "success": bool,
        "created_at": str,
        "updated_at": "str | None",
        "error_msg": "str | None",
        "job": Ref,
        "sample": Ref,
        "job_args": "dict[str, Any] | None",
        "draft": bool,
        "cost": "dict[str, Any] | None",
        "dependencies": "list[Ref]",
    },
    total=False,
)


class Analysis(_AnalysisBase, total=False):
    """``/api/v1/analyses/{id}``: any analysis type."""

    analysis_type: str


class Alignment(_AnalysisBase, total=False):
    """``/api/v1/alignments/{id}``: a WGS sample aligned against a reference genome (``tax_id``)."""

    tax_id: str


class Classification(_AnalysisBase, total=False):
    """``/api/v1/classifications/{id}``; ``results_uri`` is a pre-signed link or null."""

    results_uri: str | None


Panel = _AnalysisBase

Sample = TypedDict(
    "Sample",
    {
        "$uri": str,
        "created_at": str,
        "updated_at": "str | None",
        "filename": "str | None",
        "size": "int | None",
        "status": str,
        "visibility": str,
        "error_msg": "str | None",
        "metadata": Ref,
        "owner": Ref,
        "primary_classification": "Ref | None",
        "project": "Ref | None",
        "tags": "list[Ref]",
    },
    total=False,
)

Metadata = TypedDict(
    "Metadata",
    {
        "$uri": str,
        "sample": Ref,
        "custom": "dict[str, Any] | None",  # null is allowed (OpenAPI)
        "name": "str | None",
        "description": "str | None",
        "external_sample_id": "str | None",
        "date_collected": "str | None",
        "date_sequenced": "str | None",
        "library_type": "str | None",
        "platform": "str | None",
        "sample_type": "str | None",
        "location_lat": "float | None",
        "location_lon": "float | None",
        "location_string": "str | None",
        "starred": bool,
        "updated_at": "str | None",
    },
    total=False,
)

Tag = TypedDict("Tag", {"$uri": str, "name": str}, total=False)

Job = TypedDict(
    "Job",
    {"$uri": str, "name": str, "analysis_type": str, "created_at": str, "public": bool},
    total=False,
)


class Account(TypedDict, total=False):
    """``/api/v1/account``: one object, not a list."""

    email: str
    username: str | None
    created_at: str
    confirmed_at: str | None
    credits: str
    coupons: list[Any]
    user: Ref


def parse_timestamp(value: object) -> pendulum.DateTime | None:
    """A One Codex timestamp as an aware UTC ``pendulum.DateTime``; ``None`` for null/empty.

    Accepts RFC 3339 with ``Z`` or an offset, with or without microseconds, naive strings (taken as
    UTC, as ``account.confirmed_at`` is sent), ``datetime`` objects and Potion's ``{"$date": ms}``.

    :raises ValueError: a string that is not a timestamp, naming it.
    :raises TypeError: any other type.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dict) and set(value) == {"$date"} and isinstance(value["$date"], (int, float)):
        return pendulum.from_timestamp(value["$date"] / 1000, tz="UTC")
    if isinstance(value, datetime):
        dt = pendulum.instance(value, tz="UTC")
        return dt.in_timezone("UTC")
    if not isinstance(value, str):
        raise TypeError(f"timestamp must be a string, got {value!r}")
    if not _DATE_START.match(value.strip()):
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    try:
        parsed = pendulum.parse(value, tz="UTC")
    except (ValueError, pendulum.parsing.exceptions.ParserError) as exc:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}") from exc
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    return parsed.in_timezone("UTC")


# -- sample workflow shapes (results, files, pre-signed links, documents, events) ----------------

Document = TypedDict(
    "Document",
    {
        "$uri": str,
        "created_at": str,
        "filename": str,
        "size": "int | None",
        "uploader": Ref,
        "downloaders": "list[Ref]",
        "description": "str | None",
        "valid_until": Any,
        "downloads_remaining": "int | None",
    },
    total=False,
)

Event = TypedDict("Event", {"$uri": str, "payload": "dict[str, Any]", "status": str}, total=False)


class TaxonRow(TypedDict, total=False):
    """One row of a classification's ``table``; ``tax_id`` is an NCBI id as a string."""

    tax_id: str
    name: str
    rank: str
    parent_tax_id: str | None
    readcount: int
    readcount_w_children: int
    abundance: float | None
    abundance_w_children: float | None


class ClassificationResults(TypedDict, total=False):
    """``GET /api/v1/classifications/{id}/results`` (and ``/raw_results``, whose rows add k-mer counts)."""

    n_reads: int
    host_tax_ids: list[str]
    table: list[TaxonRow]


class BinnedDepth(TypedDict):
    contig_id: str
    depths: list[int]
    length: int


class AlignmentCoverage(TypedDict):
    binned_depths: list[BinnedDepth]
    binned_window_width: str


class AlignmentResults(TypedDict, total=False):
    """``GET /api/v1/alignments/{id}/results``: coverage statistics and binned depths."""

    assembly_id: str
    assembly_accession: str | None
    genome_id: str | None
    genome_name: str | None
    genome_taxon_id: str | None
    genome_taxon_name: str | None
    average_coverage: float
    average_identity: float
    median_depth: float
    n_mapped: int | None
    n_reads: int | None
    coverage: AlignmentCoverage


class PanelResults(TypedDict):
    """``GET /api/v1/panels/{id}/results``: ``{panel_name, panel_results: {sub-panel: {description, markers}}}``."""

    panel_name: str
    panel_results: dict[str, Any]


class FileDetail(TypedDict):
    """One output file of ``GET /api/v1/<analyses route>/{id}/file_details``; ``url`` is pre-signed."""

    filename: str
    filepath: str
    size: int
    url: str


class FileDetails(TypedDict):
    files: list[FileDetail]


class ReadLevel(TypedDict):
    """``GET /api/v1/classifications/{id}/readlevel``: a pre-signed link to a gzipped TSV."""

    url: str


class DownloadUri(TypedDict):
    """``POST /api/v1/documents/{id}/download_uri``: a pre-signed link and its lifetime in hours."""

    download_uri: str
    expires_in_hours: int


class DownloadedFile(TypedDict):
    """A file written to object storage: where (``uri``), ``size`` in bytes and its SHA-256 (hex)."""

    filename: str
    uri: str
    size: int
    sha256: str


class TopTaxon(TypedDict):
    """A classification row in a summary: the fields worth an XCom."""

    tax_id: str
    name: str
    rank: str
    readcount_w_children: int
    abundance: float | None


class StoredResults(TypedDict):
    """What an operator pushes to XCom instead of results too large for it.

    ``uri``: where the full results (compact JSON) were written; ``size``: bytes; ``sha256``: hex
    digest of those bytes; ``rows``: table rows, coverage bins or markers in the results;
    ``resource``, ``analysis_id`` and ``sample_id`` (``None`` when the analysis names no sample) say
    what the results are; ``summary``: a small dict per kind (top taxa, coverage statistics, marker
    counts, top functional features).
    """

    uri: str
    size: int
    sha256: str
    rows: int
    resource: str
    analysis_id: str
    sample_id: str | None
    summary: dict[str, Any]


# Fields that hold pre-signed links (they grant access until they expire).
SIGNED_URL_FIELDS = frozenset({"results_uri", "download_uri", "url"})


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path`` of a URL: no query (the signature), no user info, no fragment."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def strip_signed_urls(value: Any) -> Any:
    """A copy of ``value`` whose pre-signed links (``results_uri``, ``download_uri``, ``url``) lost
    their signature: what records may carry into XCom and trigger events. Fetch fresh links with
    the hook when the content is needed (they expire anyway)."""
    if isinstance(value, list):
        return [strip_signed_urls(v) for v in value]
    if isinstance(value, dict):
        return {
            k: redact_url(v)
            if k in SIGNED_URL_FIELDS and isinstance(v, str) and "?" in v
            else strip_signed_urls(v)
            for k, v in value.items()
        }
    return value


def signed_urls(value: Any) -> list[str]:
    """The pre-signed links in an API answer, for log masking: ``results_uri``/``download_uri``/
    ``url`` of a record, of each record of a listing, and of each of ``file_details``'s ``files``."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, dict) and isinstance(value.get("files"), list):
        items = [value, *value["files"]]
    return [
        v
        for item in items
        if isinstance(item, dict)
        for k, v in item.items()
        if k in SIGNED_URL_FIELDS and isinstance(v, str)
    ]
