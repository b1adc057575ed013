"""List queries of the One Codex API: ``page``/``per_page``, ``where`` filters and ``sort``.

Reproduces the Flask-Potion behaviour the API reference describes (§3, §4): ``where`` and ``sort``
are JSON objects in the query string, fields are ANDed, unknown fields and malformed values are
400, ``sort`` maps field -> descending? with key order as priority, and the ``Link`` header drops
``where``/``sort`` as upstream Potion does. Comparisons follow SQL: a null field never matches
``$ne``/``$lt``/... and sorts last ascending, first descending (PostgreSQL's default).
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, TypeVar

from airflow_provider_onecodex.testing.ids import is_id

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000
MAX_IN_ITEMS = 1000
T = TypeVar("T")


class QueryError(ValueError):
    """A malformed list query: the API answers 400 ``{"message", "status"}``."""


class Kind(enum.Enum):
    """How a field filters and sorts."""

    URI = "uri"
    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    BOOL = "bool"
    REF = "ref"
    REFLIST = "reflist"


@dataclass(frozen=True)
class FieldSpec:
    kind: Kind
    target: str | None = None  # resource a REF/REFLIST points at, e.g. "samples"


Fields = Mapping[str, FieldSpec]

_STRING_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "$contains": lambda v, x: x in v,
    "$icontains": lambda v, x: x.lower() in v.lower(),
    "$startswith": lambda v, x: v.startswith(x),
    "$istartswith": lambda v, x: v.lower().startswith(x.lower()),
    "$endswith": lambda v, x: v.endswith(x),
    "$iendswith": lambda v, x: v.lower().endswith(x.lower()),
}
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$lt": lambda v, x: v < x,
    "$lte": lambda v, x: v <= x,
    "$gt": lambda v, x: v > x,
    "$gte": lambda v, x: v >= x,
}
_OPERATORS: dict[Kind, frozenset[str]] = {
    Kind.URI: frozenset({"$eq", "$ne", "$in"}),
    Kind.STRING: frozenset({"$eq", "$ne", "$in", *_STRING_MATCHERS}),
    Kind.NUMBER: frozenset({"$eq", "$ne", "$in", "$between", *_ORDER_OPS}),
    Kind.DATETIME: frozenset({"$eq", "$ne", "$between", *_ORDER_OPS}),
    Kind.BOOL: frozenset({"$eq", "$ne", "$in"}),
    Kind.REF: frozenset({"$eq", "$ne", "$in"}),
    Kind.REFLIST: frozenset({"$contains", "$containsany", "$containsall"}),
}

Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class ListQuery:
    page: int
    per_page: int
    where: Predicate | None
    sort: tuple[tuple[str, bool], ...]
    #: ``("$uri" | "sample", ids)``: every match has one of these ids there (an index can serve it)
    lookup: tuple[str, frozenset[str]] | None = None
    #: the ``cursor`` parameter, when given
    cursor: str | None = None


def parse_list_query(params: Mapping[str, str], fields: Fields) -> ListQuery:
    """Read ``page``, ``per_page``, ``where`` and ``sort``; other parameters are ignored."""
    page = _param(params, "page", 1, int, "page must be an integer")
    per_page = _param(params, "per_page", DEFAULT_PER_PAGE, int, "per_page must be an integer")
    if page < 1:
        raise QueryError("page must be at least 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
    where = _json_object(params, "where")
    sort = _json_object(params, "sort")
    return ListQuery(
        page,
        per_page,
        compile_where(where, fields) if where else None,
        _check_sort(sort, fields),
        lookup_keys(where, fields),
        params.get("cursor"),
    )


def lookup_keys(where: Mapping[str, Any], fields: Fields) -> tuple[str, frozenset[str]] | None:
    """The ids a ``where`` pins ``$uri`` or ``sample`` to (literal, ``$eq`` or ``$in``), so the
    state can answer from an index instead of scanning every record; None when it pins neither.
    Call after :func:`compile_where` accepted ``where``."""
    for name in ("$uri", "sample"):
        if name not in where or name not in fields:
            continue
        condition = where[name]
        if isinstance(condition, dict) and "$ref" not in condition:
            ((op, operand),) = condition.items()
            values = operand if op == "$in" else [operand] if op == "$eq" else None
        else:
            values = condition if isinstance(condition, list) else [condition]
        if values is None or None in values:
            continue
        return name, frozenset(_last_segment(v) for v in values)
    return None


def _param(params: Mapping[str, str], name: str, default: T, parse: Callable[[str], T], problem: str) -> T:
    """Query parameter ``name`` read by ``parse``, ``default`` when absent; a value ``parse``
    refuses (``ValueError``) is a 400 saying ``problem``."""
    raw = params.get(name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise QueryError(problem) from None


def _json_object(params: Mapping[str, str], name: str) -> dict[str, Any]:
    value: Any = _param(params, name, {}, json.loads, f"Invalid JSON in {name!r}")
    if not isinstance(value, dict):
        raise QueryError(f"{name!r} must be a JSON object")
    return value


def _check_sort(sort: Mapping[str, Any], fields: Fields) -> tuple[tuple[str, bool], ...]:
    out = []
    for name, descending in sort.items():
        spec = fields.get(name)
        if spec is None or spec.kind is Kind.REFLIST:
            raise QueryError(f"sort: {name!r} is not a sortable field")
        if not isinstance(descending, bool):
            raise QueryError(f"sort: {name!r} must be true (descending) or false (ascending)")
        out.append((name, descending))
    return tuple(out)


# --- where ---------------------------------------------------------------------------------


def compile_where(where: Mapping[str, Any], fields: Fields) -> Predicate:
    """Turn a ``where`` object into a predicate over serialized records (all clauses ANDed)."""
    tests: list[tuple[str, FieldSpec, Callable[[Any], bool]]] = []
    for name, condition in where.items():
        spec = fields.get(name)
        if spec is None:
            raise QueryError(f"where: unknown or unfilterable field {name!r}")
        tests.append((name, spec, _compile_condition(name, spec, condition)))

    def predicate(record: Mapping[str, Any]) -> bool:
        return all(test(normalize(spec, record.get(name))) for name, spec, test in tests)

    return predicate


def _compile_condition(name: str, spec: FieldSpec, condition: Any) -> Callable[[Any], bool]:
    is_operator = isinstance(condition, dict) and not (spec.kind is Kind.REF and "$ref" in condition)
    if not is_operator:
        if isinstance(condition, list):  # Potion reads a bare list as $in
            op, operand = "$in", condition
        else:
            op, operand = "$eq", condition
    else:
        if len(condition) != 1:
            raise QueryError(f"where: {name!r} takes exactly one operator")
        ((op, operand),) = condition.items()
    if op not in _OPERATORS[spec.kind]:
        raise QueryError(f"where: operator {op!r} is not supported on {name!r}")
    return _operator(name, spec, op, operand)


def _operator(name: str, spec: FieldSpec, op: str, operand: Any) -> Callable[[Any], bool]:
    if op in ("$eq", "$ne"):
        x = None if operand is None else _operand(name, spec, operand)
        if op == "$eq":
            return lambda v: v == x
        return (lambda v: v is not None) if x is None else (lambda v: v is not None and v != x)
    if op == "$in":
        items = frozenset(_operand(name, spec, item, nullable=True) for item in _list(name, operand))
        return lambda v: v in items
    if op == "$between":
        bounds = _list(name, operand)
        if len(bounds) != 2:
            raise QueryError(f"where: $between on {name!r} takes exactly 2 values")
        lo, hi = (_operand(name, spec, b) for b in bounds)
        return lambda v: v is not None and lo <= v <= hi
    if op in _ORDER_OPS:
        cmp, x = _ORDER_OPS[op], _operand(name, spec, operand)
        return lambda v: v is not None and cmp(v, x)
    if op in _STRING_MATCHERS and spec.kind is not Kind.REFLIST:  # $contains is also a list operator
        if not isinstance(operand, str) or not operand:
            raise QueryError(f"where: {op} on {name!r} takes a non-empty string")
        match, s = _STRING_MATCHERS[op], operand
        return lambda v: v is not None and match(v, s)
    # list-of-references operators (tags)
    ref_spec = FieldSpec(Kind.REF, spec.target)
    if op == "$contains":
        one = _operand(name, ref_spec, operand)
        return lambda v: one in v
    wanted = frozenset(_operand(name, ref_spec, item) for item in _list(name, operand))
    if op == "$containsany":
        return lambda v: not wanted.isdisjoint(v)
    return lambda v: wanted <= v


def _list(name: str, operand: Any) -> list[Any]:
    if not isinstance(operand, list):
        raise QueryError(f"where: {name!r} expects an array")
    if len(operand) > MAX_IN_ITEMS:
        raise QueryError(f"where: at most {MAX_IN_ITEMS} values allowed for {name!r}")
    return operand


def _operand(name: str, spec: FieldSpec, value: Any, *, nullable: bool = False) -> Any:
    """Check a filter value against the field's type and normalize it like record values."""
    if value is None and nullable:
        return None
    kind = spec.kind
    if kind in (Kind.URI, Kind.STRING) and isinstance(value, str):
        return value
    if kind is Kind.NUMBER and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if kind is Kind.BOOL and isinstance(value, bool):
        return value
    if kind is Kind.DATETIME and isinstance(value, str):
        parsed = _parse_datetime(value)
        if parsed is None or parsed.tzinfo is None:
            raise QueryError(f"where: {name!r} needs an RFC 3339 date-time with a UTC offset, got {value!r}")
        return parsed
    if kind is Kind.REF:
        return _ref_id(name, spec, value)
    raise QueryError(f"where: invalid value {value!r} for {name!r}")


def _ref_id(name: str, spec: FieldSpec, value: Any) -> str:
    """A reference given as ``{"$ref": "/api/v1/<target>/<id>"}`` or as a bare id."""
    if isinstance(value, dict) and set(value) == {"$ref"} and isinstance(value["$ref"], str):
        uri: str = value["$ref"]
        prefix = f"/api/v1/{spec.target}/"
        ref_id = uri[len(prefix) :]
        if not uri.startswith(prefix) or not ref_id or "/" in ref_id:
            raise QueryError(f"where: {name!r} must reference {prefix}<id>, got {uri!r}")
        return ref_id
    if isinstance(value, str) and is_id(value):
        return value
    raise QueryError(f'where: {name!r} takes {{"$ref": uri}} or a 16-hex id, got {value!r}')


# --- normalization and sorting ---------------------------------------------------------------


def normalize(spec: FieldSpec, value: Any) -> Any:
    """A record value in comparable form: refs -> ids, ref lists -> id sets, date-times parsed."""
    if value is None:
        return frozenset() if spec.kind is Kind.REFLIST else None
    if spec.kind is Kind.REF:
        return _last_segment(value)
    if spec.kind is Kind.REFLIST:
        return frozenset(_last_segment(v) for v in value)
    if spec.kind is Kind.DATETIME:
        parsed = _parse_datetime(value) if isinstance(value, str) else None
        # naive values (the API has some) compare with aware ones as UTC
        return parsed.replace(tzinfo=timezone.utc) if parsed and parsed.tzinfo is None else parsed
    return value


def _last_segment(value: Any) -> str:
    """The id at the end of a ``$uri``, a ``{"$ref"}`` (or ``{"$uri"}`` when expanded), or a bare id."""
    if isinstance(value, dict):
        value = value.get("$ref") or value.get("$uri") or ""
    return str(value).rstrip("/").rsplit("/", 1)[-1]


@lru_cache(maxsize=200_000)
def _parse_datetime(text: str) -> datetime | None:
    """RFC 3339 (or ISO 8601) text -> datetime, None when unparsable."""
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return None


def sort_records(
    records: list[dict[str, Any]], sort: Sequence[tuple[str, bool]], fields: Fields
) -> list[dict[str, Any]]:
    """Stable multi-key sort; the first key has the highest priority. Nulls: last asc, first desc."""
    for name, descending in reversed(sort):
        spec = fields[name]
        values = [(normalize(spec, r.get(name)), r) for r in records]
        present = [(v, r) for v, r in values if v is not None]
        missing = [r for v, r in values if v is None]
        present.sort(key=lambda pair: pair[0], reverse=descending)
        ordered = [r for _, r in present]
        records = missing + ordered if descending else ordered + missing
    return records


# --- pagination --------------------------------------------------------------------------------


def page_slice(page: int, per_page: int) -> slice:
    start = (page - 1) * per_page
    return slice(start, start + per_page)


def link_header(path: str, page: int, per_page: int, total: int) -> str:
    """Potion's ``Link``: self, first+prev (when page > 1), next (when more), last; no filters."""
    pages = max(1, math.ceil(total / per_page))
    links = [(page, "self")]
    if page > 1:
        links += [(1, "first"), (page - 1, "prev")]
    if page < pages:
        links.append((page + 1, "next"))
    links.append((pages, "last"))
    return ",".join(f'<{path}?page={n}&per_page={per_page}>; rel="{rel}"' for n, rel in links)
