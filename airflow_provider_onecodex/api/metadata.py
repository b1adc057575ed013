"""Sample metadata (``/api/v1/metadata``): field checks, the ``custom`` merge, and the operations
that read and change a sample's metadata record (API reference §8.6).

A PATCH replaces the fields it names and ``custom`` as a whole, so :func:`update_metadata` merges
``custom`` over the current keys first (one GET) unless asked not to. ``sample``, ``$uri`` and
``updated_at`` are read-only (One Codex answers 400): they are refused before any request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_onecodex.api.errors import OneCodexNotFoundError
from airflow_provider_onecodex.api.ids import API_PREFIX, id_from_uri, validate_id
from airflow_provider_onecodex.api.metadata_values import METADATA_RULES, READ_ONLY_FIELDS, check_values
from airflow_provider_onecodex.api.ops import ApiCall, Op
from airflow_provider_onecodex.api.resources import validate_flag

# PATCH /metadata/{id}: every field but "$uri", "sample" and "updated_at" (API reference §8.6)
METADATA_FIELDS = frozenset(METADATA_RULES)


def validate_metadata_fields(fields: object, name: str = "fields") -> dict[str, Any]:
    """The fields of a metadata PATCH, checked: a non-empty dict of known, writable fields.

    Each value is checked against its field's rule (null passes), as One Codex would with a 400:
    see :data:`~airflow_provider_onecodex.api.metadata_values.METADATA_RULES` (``custom``: a flat
    object whose values are strings, numbers, booleans or null). Templated fields render to text:
    the JSON text of an object is accepted.

    :raises TypeError: not a dict (nor its JSON text), a non-flat ``custom``, or a value of the
        wrong type (``{"name": 5}``, ``{"starred": "yes"}``).
    :raises ValueError: empty; ``sample``, ``$uri`` or ``updated_at`` (read-only: the API answers
        400); an unknown field (the message lists the known ones); a value outside its
        enumeration, length limit or range, a date that is not a date-time (the message names
        the field and the rule), or an infinite ``custom`` number.
    """
    if isinstance(fields, str):
        try:
            fields = json.loads(fields)
        except ValueError:
            raise ValueError(f"{name} must be a JSON object, got {fields!r}") from None
    if not isinstance(fields, Mapping):
        raise TypeError(f"{name} must be a dict of metadata fields, got {fields!r}")
    if not fields:
        raise ValueError(f"{name} must name at least one metadata field to change")
    read_only = [k for k in fields if k in READ_ONLY_FIELDS]
    if read_only:
        raise ValueError(
            f"{name} must not include {read_only}: {', '.join(READ_ONLY_FIELDS)} are read-only "
            "(One Codex answers 400)"
        )
    unknown = sorted(str(k) for k in fields if k not in METADATA_FIELDS)
    if unknown:
        raise ValueError(f"{name} has unknown metadata fields {unknown}; known: {sorted(METADATA_FIELDS)}")
    check_values(fields, name)
    body = {k: (dict(v) if k == "custom" and v is not None else v) for k, v in fields.items()}
    try:
        json.dumps(body, allow_nan=False)  # NaN/Infinity are not JSON: the API could not read them
    except ValueError as exc:
        raise ValueError(f"{name} must hold finite numbers only: {exc}") from None
    return body


def merge_custom(current: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with ``custom`` merged over the record's current ``custom`` (so other keys stay).

    A PATCH replaces ``custom`` as a whole; this keeps keys the caller did not name. A key set to
    ``None`` is kept as null (One Codex has no "delete a custom key" operation).
    """
    if "custom" not in fields or fields["custom"] is None:
        return dict(fields)
    existing = current.get("custom")
    merged = {**(existing if isinstance(existing, Mapping) else {}), **fields["custom"]}
    return {**fields, "custom": merged}


def metadata_id_of(sample: Mapping[str, Any], sample_id: str) -> str:
    """The id of a sample's metadata record (from its ``metadata`` ``$ref``).

    :raises ValueError: the sample record names no metadata record.
    """
    ident = id_from_uri(sample.get("metadata"))
    if not ident:
        raise ValueError(f"sample {sample_id} has no metadata record")
    return ident


def get_sample_metadata(sample_id: str) -> Op[dict[str, Any]]:
    """A sample's metadata record: ``GET /api/v1/samples/{id}``, then its ``metadata`` ``$ref``.

    :raises ValueError: a bad ``sample_id`` (before any request); a sample without metadata.
    """
    ident = validate_id(sample_id, "sample_id", resource="samples")
    sample = yield ApiCall("GET", f"{API_PREFIX}/samples/{ident}")
    record: dict[str, Any] = yield ApiCall("GET", f"{API_PREFIX}/metadata/{metadata_id_of(sample, ident)}")
    return record


def _patch(metadata_id: str, body: dict[str, Any], merge: bool) -> Op[dict[str, Any]]:
    path = f"{API_PREFIX}/metadata/{metadata_id}"
    if merge and body.get("custom") is not None:
        body = merge_custom((yield ApiCall("GET", path)), body)
    record: dict[str, Any] = yield ApiCall("PATCH", path, json_body=body)
    return record


def update_metadata(
    metadata_id: str, fields: Mapping[str, Any] | str, *, merge_custom: bool = True
) -> Op[dict[str, Any]]:
    """``PATCH /api/v1/metadata/{id}`` with only ``fields``; returns the updated record.

    :param fields: e.g. ``{"custom": {"qc_verdict": "pass"}, "starred": True}`` (or its JSON text).
    :param merge_custom: ``custom`` keys are merged over the current ones (one extra GET), so keys
        not named stay; ``False`` replaces ``custom`` as a whole.
    :raises TypeError, ValueError: see :func:`validate_metadata_fields`; a bad ``metadata_id``;
        ``merge_custom`` not ``True``/``False``.
    """
    ident = validate_id(metadata_id, "metadata_id", resource="metadata")
    body = validate_metadata_fields(fields)
    try:
        return (yield from _patch(ident, body, validate_flag(merge_custom, "merge_custom")))
    except OneCodexNotFoundError as exc:  # most often a sample id given for a metadata id
        exc.add_note_to_message(f"no metadata record {ident}; for a sample id use update_sample_metadata")
        raise


def update_sample_metadata(
    sample_id: str, fields: Mapping[str, Any] | str, *, merge_custom: bool = True
) -> Op[dict[str, Any]]:
    """:func:`update_metadata` of a sample's metadata record (found through the sample)."""
    ident = validate_id(sample_id, "sample_id", resource="samples")
    body = validate_metadata_fields(fields)
    merge = validate_flag(merge_custom, "merge_custom")
    sample = yield ApiCall("GET", f"{API_PREFIX}/samples/{ident}")
    return (yield from _patch(metadata_id_of(sample, ident), body, merge))
