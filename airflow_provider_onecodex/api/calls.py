"""One Codex routes beyond "get one" and "list": analysis sub-routes, pre-signed-link routes, writes.

Each builder validates its arguments (``TypeError``/``ValueError`` naming the argument and value,
before any request) and returns an :class:`ApiCall` that the sync and the async client both send
with ``request(call.method, call.path, json_body=call.json_body, expect=call.expect)``. Routes
follow the One Codex API reference ("Common routes", "Resources", "Pre-signed URL rules").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_onecodex.api.ids import API_PREFIX, build_uri, id_from_uri, validate_id
from airflow_provider_onecodex.api.ops import ApiCall
from airflow_provider_onecodex.api.resources import ANALYSIS_RESOURCES, id_arg_name, validate_resource

# sub-route -> the routes that have it (API reference §7.3 and §8.3)
SUB_ROUTES: dict[str, frozenset[str]] = {
    "results": ANALYSIS_RESOURCES,
    "file_details": ANALYSIS_RESOURCES,
    "raw_results": frozenset({"classifications"}),
    "readlevel": frozenset({"classifications"}),
}
# POST /<resource>/{id}/download_uri: never retried ("may incur retrieval charges")
DOWNLOAD_URI_RESOURCES = frozenset({"documents", "samples"})

# PATCH /metadata/{id}: every field but "$uri", "sample" and "updated_at" (API reference §8.6)
METADATA_FIELDS = frozenset(
    {
        "custom",
        "date_collected",
        "date_sequenced",
        "description",
        "external_sample_id",
        "library_type",
        "location_lat",
        "location_lon",
        "location_string",
        "name",
        "platform",
        "sample_type",
        "starred",
    }
)
READ_ONLY_METADATA_FIELDS = ("$uri", "sample", "updated_at")
TAG_NAME_MAX = 30
_CUSTOM_SCALARS = (str, int, float, bool, type(None))


def _record_path(resource: str, record_id: object) -> tuple[str, str]:
    resource = validate_resource(resource)
    ident = validate_id(record_id, id_arg_name(resource), resource=resource)
    return resource, f"{API_PREFIX}/{resource}/{ident}"


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
    _, path = _record_path(resource, record_id)
    return ApiCall("GET", f"{path}/{name}")


def download_uri(resource: str, record_id: object) -> ApiCall:
    """``POST /api/v1/<documents|samples>/{id}/download_uri`` -> ``{download_uri, expires_in_hours}``.

    A POST, so the clients never retry it automatically.

    :raises ValueError: another resource, or a bad id.
    """
    if resource not in DOWNLOAD_URI_RESOURCES:
        raise ValueError(f"download_uri exists on {sorted(DOWNLOAD_URI_RESOURCES)}, not on {resource!r}")
    _, path = _record_path(resource, record_id)
    return ApiCall("POST", f"{path}/download_uri", json_body={})


# -- metadata ------------------------------------------------------------------------------------


def validate_metadata_fields(fields: object, name: str = "fields") -> dict[str, Any]:
    """The fields of a metadata PATCH, checked: a non-empty dict of known, writable fields.

    ``custom`` must be a flat object whose values are strings, numbers, booleans or null.
    Templated fields render to text: the JSON text of an object is accepted.

    :raises TypeError: not a dict (nor its JSON text), a non-flat ``custom``, or values that are
        not JSON-serializable.
    :raises ValueError: empty; ``sample``, ``$uri`` or ``updated_at`` (read-only: the API answers
        400); an unknown field (the message lists the known ones).
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
    read_only = [k for k in fields if k in READ_ONLY_METADATA_FIELDS]
    if read_only:
        raise ValueError(
            f"{name} must not include {read_only}: {', '.join(READ_ONLY_METADATA_FIELDS)} are read-only "
            "(One Codex answers 400)"
        )
    unknown = sorted(str(k) for k in fields if k not in METADATA_FIELDS)
    if unknown:
        raise ValueError(f"{name} has unknown metadata fields {unknown}; known: {sorted(METADATA_FIELDS)}")
    custom = fields.get("custom")
    if "custom" in fields and custom is not None:
        if not isinstance(custom, Mapping):
            raise TypeError(f"{name}['custom'] must be a flat dict, got {custom!r}")
        nested = {k: v for k, v in custom.items() if not isinstance(v, _CUSTOM_SCALARS)}
        if nested or not all(isinstance(k, str) and k for k in custom):
            raise TypeError(
                f"{name}['custom'] must map non-empty names to strings, numbers, booleans or null, "
                f"got {dict(nested) or list(custom)!r}"
            )
    try:
        json.dumps(fields, allow_nan=False)  # NaN/Infinity are not JSON: the API could not read them
    except ValueError as exc:
        raise ValueError(f"{name} must hold finite numbers only: {exc}") from None
    except TypeError as exc:
        raise TypeError(f"{name} must be JSON-serializable: {exc}") from None
    return {k: (dict(v) if k == "custom" and v is not None else v) for k, v in fields.items()}


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


def update_metadata(metadata_id: object, fields: object) -> ApiCall:
    """``PATCH /api/v1/metadata/{id}`` with only ``fields`` (never ``sample``/``$uri``/``updated_at``).

    :raises TypeError, ValueError: see :func:`validate_metadata_fields`; a bad ``metadata_id``.
    """
    ident = validate_id(metadata_id, "metadata_id", resource="metadata")
    body = validate_metadata_fields(fields)
    return ApiCall("PATCH", f"{API_PREFIX}/metadata/{ident}", json_body=body)


def metadata_id_of(sample: Mapping[str, Any], sample_id: str) -> str:
    """The id of a sample's metadata record (from its ``metadata`` ``$ref``).

    :raises ValueError: the sample record names no metadata record.
    """
    ident = id_from_uri(sample.get("metadata"))
    if not ident:
        raise ValueError(f"sample {sample_id} has no metadata record")
    return ident


# -- tags ----------------------------------------------------------------------------------------


def validate_tag_names(tags: object, name: str = "tags", *, allow_empty: bool = False) -> list[str]:
    """Tag names: a list of non-empty strings of at most 30 characters; duplicates dropped, order kept.

    A single string is refused (it would be read as a list of letters); the JSON text of a list is
    accepted, as templated fields render to text.

    :raises TypeError: not a list/tuple of strings.
    :raises ValueError: empty list (unless ``allow_empty``), blank or over-long names.
    """
    if isinstance(tags, str) and tags.strip().startswith("["):
        try:
            tags = json.loads(tags)
        except ValueError:
            raise ValueError(f"{name} must be a list of tag names, got {tags!r}") from None
    if isinstance(tags, (str, bytes)) or not isinstance(tags, (list, tuple)):
        raise TypeError(f"{name} must be a list of tag names, got {tags!r}")
    if not tags and not allow_empty:
        raise ValueError(f"{name} must name at least one tag")
    out: dict[str, None] = {}
    for i, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise TypeError(f"{name}[{i}] must be a tag name (string), got {tag!r}")
        text = tag.strip()
        if not text or len(text) > TAG_NAME_MAX:
            raise ValueError(f"{name}[{i}] must be 1 to {TAG_NAME_MAX} characters, got {tag!r}")
        out[text] = None
    return list(out)


def tag_ids_of(sample: Mapping[str, Any]) -> list[str]:
    """Ids of a sample record's ``tags`` (``[{"$ref": "/api/v1/tags/<id>"}]``), in order."""
    refs = sample.get("tags") or []
    return [i for i in (id_from_uri(r) for r in refs if isinstance(r, (dict, str))) if i]


@dataclass(frozen=True)
class TagPlan:
    """What a tagging PATCH sends, or ``body=None`` when the sample already has exactly these tags."""

    body: dict[str, Any] | None
    names: list[str]


def plan_tags(
    current: Mapping[str, str],
    known: Iterable[Mapping[str, Any]],
    add: list[str],
    remove: list[str],
) -> TagPlan:
    """Merge tag names into a sample's tags for ``PATCH /api/v1/samples/{id}``.

    The API takes either ``[{"$ref"}]`` or ``[{"name"}]`` (not a mix) and replaces the whole list,
    so the current tags are kept explicitly. References are sent when every wanted tag exists,
    names when one is new (One Codex creates it).

    :param current: the sample's tags, id -> name, in order.
    :param known: tag records (``$uri``, ``name``) of the account matching the names in ``add``.
    :param add: names to add; :param remove: names to drop.
    """
    by_name: dict[str, str] = {}
    for record in known:
        ident, tag_name = id_from_uri(record.get("$uri")), record.get("name")
        if ident and isinstance(tag_name, str):
            by_name.setdefault(tag_name, ident)
    dropped = set(remove)
    kept = [(i, n) for i, n in current.items() if n not in dropped]
    present = {n for _, n in kept}
    wanted: list[tuple[str | None, str]] = [*kept]
    wanted += [(by_name.get(n), n) for n in add if n not in present and n not in dropped]
    names = [n for _, n in wanted]
    if [i for i, _ in wanted] == list(current):
        return TagPlan(None, names)
    if all(i is not None for i, _ in wanted):
        return TagPlan({"tags": [{"$ref": build_uri("tags", str(i))} for i, _ in wanted]}, names)
    return TagPlan({"tags": [{"name": n} for n in names]}, names)


def update_sample(sample_id: object, body: Mapping[str, Any]) -> ApiCall:
    """``PATCH /api/v1/samples/{id}`` (``tags``, ``project``, ``visibility``)."""
    ident = validate_id(sample_id, "sample_id", resource="samples")
    unknown = sorted(set(body) - {"tags", "project", "visibility"})
    if unknown:
        raise ValueError(f"a sample PATCH takes tags, project and visibility, not {unknown}")
    return ApiCall("PATCH", f"{API_PREFIX}/samples/{ident}", json_body=dict(body))
