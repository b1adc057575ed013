"""A watcher's own ``where`` filter, applied to listed records instead of sent to One Codex.

Watchers of one connection and route share one listing per poll (Airflow 3.3 shared event
streams), so each watcher's ``where`` is evaluated here, on :func:`~.news.slim_record`
records, with the API's grammar (API reference §4.1) for the fields a watch keeps:

- samples: ``$uri``, ``status``, ``filename``, ``visibility``, ``size``, ``project``, ``owner``,
  ``primary_classification``, ``tags``;
- analyses: ``$uri``, ``sample``, ``job``, ``analysis_type``, ``tax_id``, ``success``,
  ``error_msg``.

Operators: a literal, ``$eq``, ``$ne``, ``$in``, ``$contains``, ``$icontains``, ``$startswith``,
``$istartswith``, ``$endswith``, ``$iendswith``, ``$gt``, ``$gte``, ``$lt``, ``$lte``; ``tags``
takes ``$contains``, ``$containsall``, ``$containsany``. References are compared by id, given
bare or as ``{"$ref": "/api/v1/<resource>/<id>"}``. Anything else is refused with a ``ValueError``
when the trigger is built, never silently ignored.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_onecodex.api.ids import id_from_uri

Predicate = Callable[[Mapping[str, Any]], bool]

_REF, _REFLIST, _STR, _NUM, _BOOL, _URI = "ref", "reflist", "string", "number", "bool", "uri"
FIELDS: dict[str, dict[str, str]] = {
    "samples": {
        "$uri": _URI, "status": _STR, "filename": _STR, "visibility": _STR, "size": _NUM,
        "project": _REF, "owner": _REF, "primary_classification": _REF, "tags": _REFLIST,
    },
    "analyses": {
        "$uri": _URI, "sample": _REF, "job": _REF, "analysis_type": _STR, "tax_id": _STR,
        "success": _BOOL, "error_msg": _STR,
    },
}  # fmt: skip
_STRING_OPS: dict[str, Callable[[str, str], bool]] = {
    "$contains": lambda v, x: x in v,
    "$icontains": lambda v, x: x.lower() in v.lower(),
    "$startswith": str.startswith,
    "$istartswith": lambda v, x: v.lower().startswith(x.lower()),
    "$endswith": str.endswith,
    "$iendswith": lambda v, x: v.lower().endswith(x.lower()),
}
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le,
}  # fmt: skip
_LIST_OPS = {
    "$contains": lambda have, want: want[0] in have,
    "$containsall": lambda have, want: all(w in have for w in want),
    "$containsany": lambda have, want: any(w in have for w in want),
}


def _ref(name: str, value: object) -> str:
    if isinstance(value, Mapping) and set(value) == {"$ref"}:
        value = value["$ref"]
    if isinstance(value, str) and value:
        return id_from_uri(value) or value
    raise ValueError(f"where[{name!r}]: expected an id or {{'$ref': '/api/v1/...'}}, got {value!r}")


def _value(kind: str, name: str, value: object) -> Any:
    if kind in (_REF, _REFLIST, _URI):
        return None if value is None else _ref(name, value)
    if kind == _NUM and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValueError(f"where[{name!r}]: expected a number, got {value!r}")
    if kind == _BOOL and not isinstance(value, bool):
        raise ValueError(f"where[{name!r}]: expected true or false, got {value!r}")
    if kind == _STR and value is not None and not isinstance(value, str):
        raise ValueError(f"where[{name!r}]: expected a string, got {value!r}")
    return value


def _field(record: Mapping[str, Any], name: str, kind: str) -> Any:
    if kind == _URI:
        return record.get("id")
    return record.get(name)


def _condition(name: str, kind: str, cond: object) -> Callable[[Any], bool]:
    if not isinstance(cond, Mapping) or (kind == _REF and set(cond) == {"$ref"}):
        cond = {"$eq": cond}
    if len(cond) != 1:
        raise ValueError(f"where[{name!r}]: one operator per field, got {sorted(cond)}")
    ((op, operand),) = cond.items()
    if kind == _REFLIST:
        if op not in _LIST_OPS:
            raise ValueError(f"where[{name!r}]: use one of {sorted(_LIST_OPS)}, got {op!r}")
        items = operand if isinstance(operand, list) else [operand]
        if not items:
            raise ValueError(f"where[{name!r}]: {op} needs at least one value")
        want = [_ref(name, i) for i in items]
        return lambda have: isinstance(have, list) and _LIST_OPS[op](have, want)
    if op in ("$eq", "$ne"):
        target = _value(kind, name, operand)
        return (lambda v: v == target) if op == "$eq" else (lambda v: v != target)
    if op == "$in":
        if not isinstance(operand, list):
            raise ValueError(f"where[{name!r}]: $in needs a list, got {operand!r}")
        targets = [_value(kind, name, item) for item in operand]
        return lambda v: v in targets
    if op in _STRING_OPS and kind == _STR:
        if not isinstance(operand, str) or not operand:
            raise ValueError(f"where[{name!r}]: {op} needs a non-empty string, got {operand!r}")
        test = _STRING_OPS[op]
        return lambda v: isinstance(v, str) and test(v, operand)
    if op in _ORDER_OPS and kind in (_NUM, _STR):
        target = _value(kind, name, operand)
        compare = _ORDER_OPS[op]
        return lambda v: v is not None and type(v) is type(target) and compare(v, target)
    raise ValueError(f"where[{name!r}]: operator {op!r} is not supported on this field")


def compile_where(resource: str, where: object) -> Predicate:
    """A predicate over slim records of ``resource`` for ``where`` (``None``: every record).

    :param resource: ``samples`` or an analyses route.
    :raises ValueError: an unknown field or operator, or a value of the wrong type, naming it.
    """
    if where is None:
        return lambda record: True
    if not isinstance(where, Mapping):
        raise ValueError(f"where must be a JSON object, got {where!r}")
    fields = FIELDS["samples" if resource == "samples" else "analyses"]
    tests: list[tuple[str, str, Callable[[Any], bool]]] = []
    for name, cond in where.items():
        if name not in fields:
            raise ValueError(f"where: a watch filters on {sorted(fields)}, not {name!r}")
        tests.append((name, fields[name], _condition(name, fields[name], cond)))

    def predicate(record: Mapping[str, Any]) -> bool:
        return all(test(_field(record, name, kind)) for name, kind, test in tests)

    return predicate
