"""One Codex ids and references.

Ids are 16 lowercase hexadecimal characters (One Codex API reference, "IDs"); a record names itself
with ``$uri`` (``/api/v1/<resource>/<id>``) and other records with ``{"$ref": "/api/v1/<resource>/<id>"}``.
Ids typed by users are checked strictly; ids inside server responses are never rejected.
"""

from __future__ import annotations

import re
from typing import Any

API_PREFIX = "/api/v1"
_ID_RE = re.compile(r"[0-9a-f]{16}")
_URI_RE = re.compile(r"/api/v1/([a-z_]+)/([^/?#]+)")


def is_valid_id(value: object) -> bool:
    """True when ``value`` is a ``str`` of exactly 16 lowercase hex characters."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def validate_id(value: object, name: str = "id", *, resource: str | None = None) -> str:
    """Return ``value`` when it is a valid One Codex id, else raise.

    :param value: what the user passed.
    :param name: the argument's name, used in the error message (e.g. ``"alignment_id"``).
    :param resource: when given, a ``$uri`` of that resource (``/api/v1/<resource>/<id>``) or a
        ``{"$ref": ...}`` dict is also accepted and reduced to its id.
    :raises TypeError: ``value`` is not a string (nor, with ``resource``, a ``$ref`` dict).
    :raises ValueError: the string is not 16 lowercase hex characters, or names another resource.
    """
    if resource is not None and isinstance(value, dict) and set(value) == {"$ref"}:
        value = value["$ref"]
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a One Codex id (16 lowercase hex characters), got {value!r}")
    if resource is not None and value.startswith(API_PREFIX + "/"):
        match = _URI_RE.fullmatch(value)
        if match is None or match.group(1) != resource:
            raise ValueError(f"{name} must be an id or a /api/v1/{resource}/<id> URI, got {value!r}")
        value = match.group(2)
    if _ID_RE.fullmatch(value) is None:
        raise ValueError(f"{name} must be a One Codex id (16 lowercase hex characters), got {value!r}")
    return value


def list_from_text(values: object) -> object:
    """``values`` itself, or the list a string holds as JSON or Python text (``'["a", "b"]'``,
    ``"['a', 'b']"``): what a templated list renders to when the DAG has not set
    ``render_template_as_native_obj=True``. Any other string is returned unchanged."""
    if not isinstance(values, str) or not values.strip().startswith("["):
        return values
    import ast
    import json

    for parse in (json.loads, ast.literal_eval):
        try:
            parsed = parse(values.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(parsed, list):
            return parsed
    return values


def validate_ids(values: object, name: str = "ids", *, resource: str | None = None) -> list[str]:
    """Validate a non-empty list (or tuple) of ids; duplicates are dropped, order is kept.

    A string holding the JSON or Python text of a list (a templated list rendered to text) is read
    as that list (:func:`list_from_text`).

    :raises TypeError: ``values`` is a string (other than a list's text) or not a list/tuple, or an
        item is not a string.
    :raises ValueError: the list is empty or an item is not a valid id.
    """
    values = list_from_text(values)
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of One Codex ids, got {values!r}")
    if not values:
        raise ValueError(f"{name} must not be empty, got {values!r}")
    out: dict[str, None] = {}
    for i, v in enumerate(values):
        out[validate_id(v, f"{name}[{i}]", resource=resource)] = None
    return list(out)


def build_uri(resource: str, record_id: str) -> str:
    """``/api/v1/<resource>/<id>``: the ``$uri`` of a record."""
    return f"{API_PREFIX}/{resource}/{record_id}"


def ref(resource: str, record_id: str) -> dict[str, str]:
    """``{"$ref": "/api/v1/<resource>/<id>"}``: how records point at each other."""
    return {"$ref": build_uri(resource, record_id)}


def id_from_uri(uri: object) -> str | None:
    """The last path segment of a ``$uri``/``$ref`` string or ``{"$ref": ...}`` dict; ``None`` if absent.

    Server data is trusted as it comes: the segment is not checked against the id pattern.
    """
    if isinstance(uri, dict):
        uri = uri.get("$ref") or uri.get("$uri")
    if not isinstance(uri, str) or not uri:
        return None
    return uri.rstrip("/").rsplit("/", 1)[-1] or None


def record_id(record: dict[str, Any]) -> str | None:
    """The id of a record, from its ``$uri``."""
    return id_from_uri(record.get("$uri"))


def is_literal(value: object) -> bool:
    """True for a plain string that no Jinja template will change (no ``{{``, ``{%`` or ``{#``).

    Operators check such values when the DAG is parsed; templated ones after rendering.
    """
    return isinstance(value, str) and not any(mark in value for mark in ("{{", "{%", "{#"))


# Plain values no template or XCom will change: they are checked when the DAG is parsed.
_LITERAL_SCALARS = (int, float, bytes)


def check_literal_id(value: object, name: str, *, resource: str | None = None) -> None:
    """Validate ``value`` now (at DAG parse time) when it is a literal (a string without Jinja, or
    a number); leave templates and XCom references (``task.output``) to the task run.

    :raises TypeError: a number (bool included) where an id belongs.
    :raises ValueError: a literal string that is not a valid id, naming ``name`` and the value.
    """
    if isinstance(value, _LITERAL_SCALARS):
        validate_id(value, name, resource=resource)  # raises TypeError naming the value
    if not is_literal(value):
        return
    assert isinstance(value, str)
    if value.startswith(f"{API_PREFIX}/") and resource is None:
        validate_id(id_from_uri(value), name)  # a $uri: its resource is checked when the task runs
    else:
        validate_id(value, name, resource=resource)


def check_literal_ids(values: object, name: str, *, resource: str | None = None) -> None:
    """Validate a literal list (or tuple) of ids now (at DAG parse time): not empty, and each
    literal item a valid id (templated items and XCom references are checked when the task runs).
    A plain string must be the JSON or Python text of such a list; a template string or an XCom
    reference is left to the task run.

    :raises ValueError: an empty list or a bad literal item, naming ``name[i]`` and the value.
    :raises TypeError: an item that is a number, or a plain string that is not a list's text.
    """
    if is_literal(values):
        validate_ids(values, name, resource=resource)  # a plain string: only a list's text passes
        return
    if not isinstance(values, (list, tuple)):
        return
    if not values:
        raise ValueError(f"{name} must not be empty, got {values!r}")
    for i, value in enumerate(values):
        check_literal_id(value, f"{name}[{i}]", resource=resource)
