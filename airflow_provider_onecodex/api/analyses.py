"""Analyses and their results: sub-routes, where-clauses, and the results operations.

Routes: ``/api/v1/<analyses route>/{id}/results``, ``/file_details`` (every analyses route),
``/raw_results`` and ``/readlevel`` (classifications only); API reference §7.3 and §8.
Classification results are read from the record's pre-signed ``results_uri`` when it has one (a
plain fetch, gzip/zstd decoded), falling back to ``/results`` when it is null, fails or cannot be
decoded: :func:`classification_results` decides that once for every caller.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from airflow_provider_onecodex.api.errors import OneCodexResponseError
from airflow_provider_onecodex.api.ids import id_from_uri
from airflow_provider_onecodex.api.ops import ApiCall, FetchUrl, Op, get_record, record_path
from airflow_provider_onecodex.api.records import redact_url
from airflow_provider_onecodex.api.resources import (
    ANALYSIS_RESOURCES,
    ANALYSIS_TYPES,
    sample_where,
    validate_flag,
    validate_resource,
)

log = logging.getLogger(__name__)

# sub-route -> the routes that have it (API reference §7.3 and §8.3)
SUB_ROUTES: dict[str, frozenset[str]] = {
    "results": ANALYSIS_RESOURCES,
    "file_details": ANALYSIS_RESOURCES,
    "raw_results": frozenset({"classifications"}),
    "readlevel": frozenset({"classifications"}),
}


def sub_route(resource: str, record_id: object, name: str) -> ApiCall:
    """``GET /api/v1/<resource>/{id}/<name>`` for ``results``, ``file_details``, ``raw_results``, ``readlevel``.

    :raises ValueError: unknown sub-route, a route that lacks it (``readlevel`` exists on
        ``classifications`` only), or a bad id.
    """
    if name not in SUB_ROUTES:
        raise ValueError(f"sub-route must be one of {sorted(SUB_ROUTES)}, got {name!r}")
    resource = validate_resource(resource)
    if resource not in SUB_ROUTES[name]:
        raise ValueError(f"/{name} exists on {sorted(SUB_ROUTES[name])}, not on resource={resource!r}")
    return ApiCall("GET", f"{record_path(resource, record_id)}/{name}")


def analysis_where(
    sample_id: object = None, where: object = None, analysis_type: object = None, tax_id: object = None
) -> dict[str, Any] | None:
    """A listing's ``where``: the user's, plus ``sample``, ``tax_id`` and ``analysis_type`` when given.

    :raises ValueError: a bad ``sample_id``, ``tax_id`` or ``analysis_type``, or ``where``
        filtering the same field.
    """
    clause = sample_where(sample_id, tax_id, where)
    if analysis_type is not None:
        if not isinstance(analysis_type, str) or analysis_type not in ANALYSIS_TYPES:
            raise ValueError(f"analysis_type must be one of {sorted(ANALYSIS_TYPES)}, got {analysis_type!r}")
        clause = {**(clause or {}), "analysis_type": analysis_type}
    return clause


#: filters of a listing by sample that one route only takes (the others answer 400 "unknown or
#: unfilterable field"): a typed route lists one type and has no ``analysis_type``
FILTERED_ONLY_ON = {"analysis_type": "analyses", "tax_id": "alignments"}


def sample_listing_where(
    resource: str,
    sample_id: object = None,
    where: object = None,
    analysis_type: object = None,
    tax_id: object = None,
) -> dict[str, Any] | None:
    """The ``where`` of ``GET /api/v1/<resource>``: :func:`analysis_where`, with each filter checked
    against the route: ``analysis_type`` filters ``/api/v1/analyses`` only, ``tax_id`` (the
    reference genome) ``/api/v1/alignments`` only.

    :raises TypeError, ValueError: a bad ``resource``; ``analysis_type`` or ``tax_id`` given for a
        route without that field (naming the route to list instead); see :func:`analysis_where`.
    """
    resource = validate_resource(resource)
    for name, value in (("analysis_type", analysis_type), ("tax_id", tax_id)):
        route = FILTERED_ONLY_ON[name]
        if value is not None and resource != route:
            raise ValueError(
                f"{name} filters /api/v1/{route} only, not resource={resource!r} (One Codex answers 400 "
                f"'unknown or unfilterable field'): list {route!r} with {name}={value!r}, or drop it"
            )
    return analysis_where(sample_id, where, analysis_type, tax_id)


def validate_record(record: object, analysis_id: object) -> Mapping[str, Any] | None:
    """``record`` if it is ``None`` or an analysis record (a dict) whose ``$uri``, when it has
    one, names ``analysis_id``.

    :raises TypeError: not a dict. :raises ValueError: the record of another analysis.
    """
    if record is None:
        return None
    if not isinstance(record, Mapping):
        raise TypeError(f"record must be a dict (the analysis record) or None, got {record!r}")
    ident = id_from_uri(record.get("$uri"))
    if ident is not None and ident != id_from_uri(analysis_id):
        raise ValueError(f"record is the record of analysis {ident}, not of {analysis_id!r}")
    return record


def get_sub(resource: str, record_id: object, name: str) -> Op[dict[str, Any]]:
    """The operation of :func:`sub_route`: the JSON object it answers."""
    data: dict[str, Any] = yield sub_route(resource, record_id, name)
    return data


def readlevel(classification_id: str) -> Op[dict[str, Any]]:
    """``GET /api/v1/classifications/{id}/readlevel`` -> ``{"url"}`` (a pre-signed gzipped TSV).

    :raises OneCodexResponseError: the answer has no ``url``.
    """
    data = yield sub_route("classifications", classification_id, "readlevel")
    if not isinstance(data.get("url"), str):
        raise OneCodexResponseError(200, "GET", "readlevel", "expected {'url': <pre-signed URL>}")
    return data  # type: ignore[no-any-return]


def decode_results(body: bytes, url: str) -> dict[str, Any]:
    """A ``results_uri`` body (gzip, zstd or plain JSON) as a JSON object.

    :raises OneCodexResponseError: undecodable, or not a JSON object.
    """
    from airflow_provider_onecodex.api.downloads import decompress

    try:
        data = json.loads(decompress(body, what=redact_url(url)))
    except ValueError as exc:
        raise OneCodexResponseError(200, "GET", redact_url(url), f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OneCodexResponseError(
            200, "GET", redact_url(url), f"expected a JSON object, got {type(data).__name__}"
        )
    return data


def classification_results(
    classification_id: str,
    *,
    use_results_uri: bool = True,
    record: Mapping[str, Any] | None = None,
) -> Op[dict[str, Any]]:
    """A classification's results ``{n_reads, host_tax_ids, table}``, by the best route.

    With ``use_results_uri`` the record's ``results_uri`` is fetched (no One Codex auth) and
    decoded; when it is null, fails or cannot be decoded, ``/results`` is asked instead.

    :param record: the classification record when the caller already has it (saves a GET).
    :raises TypeError, ValueError: a bad id, ``use_results_uri`` not ``True``/``False``, or a
        ``record`` that is not a dict or is another analysis's (before any request).
    :raises OneCodexNotFoundError: failed or incomplete classification (404 on ``/results``).
    """
    from airflow_provider_onecodex.api.downloads import OneCodexDownloadError

    results = sub_route("classifications", classification_id, "results")
    record = validate_record(record, classification_id)
    if validate_flag(use_results_uri, "use_results_uri"):
        if record is None:
            record = yield from get_record("classifications", classification_id)
        url = record.get("results_uri")
        if isinstance(url, str) and url:
            try:
                return decode_results((yield FetchUrl(url)), url)
            except (OneCodexDownloadError, OneCodexResponseError, ValueError) as exc:
                log.warning("results_uri of %s not usable (%s); using /results", results.path, exc)
    return (yield results)  # type: ignore[no-any-return]


def fetch_results(
    resource: str, analysis_id: str, *, record: Mapping[str, Any] | None = None
) -> Op[dict[str, Any]]:
    """The results of any analysis: classifications by :func:`classification_results`, every
    other route by ``/results``.

    :raises TypeError, ValueError: a route without results, a bad id, or a ``record`` that is
        not a dict or is another analysis's (before any request).
    """
    resource = validate_resource(resource, analyses_only=True)
    if resource == "classifications":
        return (yield from classification_results(analysis_id, record=record))
    results = sub_route(resource, analysis_id, "results")
    validate_record(record, analysis_id)  # not needed here, but a wrong one is a caller's mistake
    return (yield results)  # type: ignore[no-any-return]
