"""Sample tags: name checks, the merge plan, and :func:`tag_sample` (``PATCH /api/v1/samples/{id}``).

The API replaces a sample's whole ``tags`` list and takes either ``[{"$ref"}]`` or ``[{"name"}]``
(not a mix), so tagging reads the sample and its tags, merges, and sends the full list.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_onecodex.api.batch import records_by_ids
from airflow_provider_onecodex.api.ids import API_PREFIX, build_uri, id_from_uri, validate_id
from airflow_provider_onecodex.api.ops import ApiCall, Listing, Op

log = logging.getLogger(__name__)

TAG_NAME_MAX = 30
# control characters and line/paragraph separators: a tag is one line of visible text
_CONTROL = frozenset({"Cc", "Zl", "Zp"})


def validate_tag_names(tags: object, name: str = "tags", *, allow_empty: bool = False) -> list[str]:
    """Tag names: a list of non-empty strings of at most 30 characters, without control characters
    (tab, newline...); surrounding spaces are stripped, duplicates dropped, order kept.

    A single string is refused (it would be read as a list of letters); the JSON text of a list is
    accepted, as templated fields render to text.

    :raises TypeError: not a list/tuple of strings.
    :raises ValueError: empty list (unless ``allow_empty``), blank or over-long names, names with
        control characters (naming the tag).
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
        if any(unicodedata.category(c) in _CONTROL for c in text):
            raise ValueError(f"{name}[{i}] must not hold control characters (tab, newline...), got {tag!r}")
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


def current_tags(ids: list[str], records: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """A sample's tags as id -> name, in the sample's order; ``""`` for a tag the key cannot read."""
    names = {id_from_uri(r.get("$uri")): r.get("name") for r in records}
    return {i: n if isinstance(n := names.get(i), str) else "" for i in ids}


def tag_sample(sample_id: str, tags: list[str], *, remove: list[str] | None = None) -> Op[dict[str, Any]]:
    """Add tags (by name) to a sample, keeping its other tags; returns the sample record after.

    Nothing is sent when the sample already has exactly these tags.

    :param tags: names (1-30 characters) to add; may be empty when ``remove`` names some.
    :param remove: names to take off the sample (e.g. a previous run's ``qc-fail``).
    :raises TypeError, ValueError: bad arguments (before any request); ``ValueError`` too when a
        new tag must be sent by name but the sample has tags this key cannot read (sending names
        would drop them): a refusal, permanent.
    """
    ident = validate_id(sample_id, "sample_id", resource="samples")
    dropped = validate_tag_names(remove, "remove", allow_empty=True) if remove is not None else []
    names = validate_tag_names(tags, "tags", allow_empty=bool(dropped))
    if both := sorted(set(names) & set(dropped)):
        raise ValueError(f"tags and remove both name {both}: a tag cannot be added and taken off at once")
    sample = yield ApiCall("GET", f"{API_PREFIX}/samples/{ident}")
    ids = tag_ids_of(sample)
    current = current_tags(ids, (yield from records_by_ids("tags", ids)))
    new = [n for n in names if n not in current.values()]
    known = (yield Listing("tags", where={"name": {"$in": new}})) if new else []
    plan = plan_tags(current, known, names, dropped)
    if plan.body is None:
        log.info("Sample %s already has tags %s", ident, plan.names)
        return sample  # type: ignore[no-any-return]
    unreadable = [i for i, n in current.items() if not n]
    if unreadable and any("name" in t for t in plan.body["tags"]):
        raise ValueError(
            f"sample {ident} has tags {unreadable} this API key cannot read; adding a new tag by name "
            "would drop them: create the tags first or use a key that can read them"
        )
    log.info("Tagging sample %s: %s", ident, plan.names)
    updated: dict[str, Any] = yield update_sample(ident, plan.body)
    return updated


def update_sample(sample_id: object, body: Mapping[str, Any]) -> ApiCall:
    """``PATCH /api/v1/samples/{id}`` (``tags``, ``project``, ``visibility``)."""
    ident = validate_id(sample_id, "sample_id", resource="samples")
    unknown = sorted(set(body) - {"tags", "project", "visibility"})
    if unknown:
        raise ValueError(f"a sample PATCH takes tags, project and visibility, not {unknown}")
    return ApiCall("PATCH", f"{API_PREFIX}/samples/{ident}", json_body=dict(body))
