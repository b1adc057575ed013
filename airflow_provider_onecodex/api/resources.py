"""The One Codex v1 resources this provider reads, and the argument checks shared by every call.

Routes and filter grammar: One Codex API reference, "Filtering (where) and sorting (sort)" and
"Resources".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

# Routes that list analyses: one analysis id is visible on /analyses and on its typed route.
ANALYSIS_RESOURCES = frozenset(
    {
        "analyses",
        "alignments",
        "classifications",
        "panels",
        "functional_profiles",
        "mlsts",
        "workflows",
    }
)
# ``assets`` (files uploaded for custom jobs, GET only here) are read like any record: a DAG may
# check that the reference files a custom job needs are ``available`` before running it.
OTHER_RESOURCES = frozenset(
    {"samples", "metadata", "tags", "jobs", "documents", "events", "users", "projects", "webhooks", "assets"}
)
RESOURCES = ANALYSIS_RESOURCES | OTHER_RESOURCES
# Extra listings: GET /api/v1/<resource>/public and /organization, and which routes have them.
LIST_VARIANTS = frozenset({"public", "organization"})
VARIANTS_OF = {"samples": LIST_VARIANTS, **{r: frozenset({"public"}) for r in ANALYSIS_RESOURCES}}
# ``analysis_type`` values of /api/v1/analyses (OpenAPI enum, plus the legacy ``typing``).
ANALYSIS_TYPES = frozenset(
    {"classification", "panel", "alignment", "control", "report", "functional", "workflow", "mlst",
     "assembly_run", "typing"}
)  # fmt: skip


_SINGULAR = {
    "analyses": "analysis",
    "metadata": "metadata",
    "mlsts": "mlst",
    "functional_profiles": "functional_profile",
}


def id_arg_name(resource: str) -> str:
    """The argument name users know for an id of ``resource``: ``alignments`` -> ``alignment_id``."""
    return f"{_SINGULAR.get(resource, resource.removesuffix('s'))}_id"


def validate_resource(value: object, name: str = "resource", *, analyses_only: bool = False) -> str:
    """``value`` if it names a known route (``"alignments"``, ``"samples"``...), else raise.

    :raises TypeError: not a string.
    :raises ValueError: unknown resource (the message lists the known ones).
    """
    known = ANALYSIS_RESOURCES if analyses_only else RESOURCES
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {sorted(known)}, got {value!r}")
    if value not in known:
        raise ValueError(f"{name} must be one of {sorted(known)}, got {value!r}")
    return value


def validate_flag(value: object, name: str) -> bool:
    """``value`` if it is ``True`` or ``False``: a flag never takes a truthy stand-in (``"false"``
    is a non-empty string, so it would read as true).

    :raises TypeError: anything else, naming ``name`` and the value.
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_known_arguments(what: str, given: Iterable[str], known: Iterable[str], note: str = "") -> None:
    """Refuse keyword arguments an operation does not take, naming them with the ones it does
    (rather than an internal class's "unexpected keyword argument").

    :raises TypeError: e.g. ``unknown listing argument 'fooo' (expected one of: where, sort...)``.
    """
    expected = list(known)
    unknown = [name for name in given if name not in expected]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise TypeError(
            f"unknown {what} argument{plural} {names} (expected one of: {', '.join(expected)}{note})"
        )


def _json_object(value: object, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        # Templated fields render to strings: accept the JSON text of an object.
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError(
                f"{name} must be a JSON object; its text is not valid JSON ({exc}): {value!r}"
            ) from None
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a JSON object (dict), got {value!r}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be JSON-serializable: {exc}") from None
    return dict(value)


def validate_where(value: object, name: str = "where") -> dict[str, Any] | None:
    """A Mongo-style ``where`` clause: ``None`` or a JSON object (or its JSON text).

    :raises TypeError: not a dict (nor JSON text of one), or not JSON-serializable.
    :raises ValueError: a string that is not JSON, or an empty field name.
    """
    where = _json_object(value, name)
    if where is not None and any(not isinstance(k, str) or not k for k in where):
        raise ValueError(f"{name} field names must be non-empty strings, got {list(where)!r}")
    return where


def validate_sort(value: object, name: str = "sort") -> dict[str, bool] | None:
    """A ``sort`` clause: ``None`` or a JSON object of field -> bool (``true`` = descending).

    :raises TypeError: not a dict (nor JSON text of one).
    :raises ValueError: a value that is not a boolean.
    """
    sort = _json_object(value, name)
    if sort is not None:
        for field, descending in sort.items():
            if not isinstance(descending, bool):
                raise ValueError(
                    f"{name}[{field!r}] must be true (descending) or false (ascending), got {descending!r}"
                )
    return sort


def query_params(where: dict[str, Any] | None, sort: dict[str, bool] | None) -> dict[str, str]:
    """``where``/``sort`` serialized as compact JSON query parameters (never ``expand``)."""
    params: dict[str, str] = {}
    if where:
        params["where"] = json.dumps(where, separators=(",", ":"))
    if sort:
        params["sort"] = json.dumps(sort, separators=(",", ":"))
    return params


def sample_where(
    sample_id: object = None, tax_id: object = None, where: object = None, *, name: str = "where"
) -> dict[str, Any] | None:
    """Merge ``sample``/``tax_id`` filters into a user ``where`` clause.

    ``sample`` is sent as ``{"$ref": "/api/v1/samples/<id>"}`` (the form the official client sends).

    :raises ValueError: a bad ``sample_id``/``tax_id``, or a ``where`` that filters the same field.
    """
    from airflow_provider_onecodex.api.ids import ref, validate_id

    clause = validate_where(where, name) or {}
    if sample_id is not None:
        if "sample" in clause:
            raise ValueError(f"give sample_id or a 'sample' filter in {name}, not both")
        clause["sample"] = ref("samples", validate_id(sample_id, "sample_id", resource="samples"))
    if tax_id is not None:
        if (
            isinstance(tax_id, bool)
            or not isinstance(tax_id, (str, int))
            or not str(tax_id).strip().isdigit()
        ):
            raise ValueError(f"tax_id must be an NCBI taxonomy id such as '1280', got {tax_id!r}")
        if "tax_id" in clause:
            raise ValueError(f"give tax_id or a 'tax_id' filter in {name}, not both")
        clause["tax_id"] = str(tax_id).strip()  # NCBI ids are strings in One Codex
    return clause or None


def uri_in_where(resource: str, ids: list[str]) -> dict[str, Any]:
    """``{"$uri": {"$in": [...]}}``: several records of one resource in one listing request."""
    from airflow_provider_onecodex.api.ids import build_uri

    return {"$uri": {"$in": [build_uri(resource, i) for i in ids]}}
