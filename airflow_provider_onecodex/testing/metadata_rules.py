"""What ``PATCH /api/v1/metadata/{id}`` and ``PATCH /api/v1/samples/{id}`` accept (API reference
§8.5, §8.6; OpenAPI ``MetadataPatchSchema`` and ``SampleUpdateSchema``).

The enumerations of ``platform``, ``library_type`` and ``sample_type`` are data, defined once in
:mod:`airflow_provider_onecodex.api.metadata_values` for the provider and the simulator alike; the
OpenAPI conformance test (``tests/testing/test_openapi_conformance.py``) checks that definition
against the OpenAPI file's ``SequencingPlatform``, ``SequencingLibraryType`` and
``SequencingSampleType``, so a mistake there is still caught.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow_provider_onecodex.api.metadata_values import METADATA_ENUMS
from airflow_provider_onecodex.testing.errors import InvalidChange

SAMPLE_PATCH_FIELDS = ("tags", "project", "visibility")
VISIBILITIES = ("public", "shared", "private", "importing", "awaiting data")

_STRINGS = {
    "name": 255,
    "description": None,
    "external_sample_id": 60,
    "location_string": 255,
    "platform": None,
    "library_type": None,
    "sample_type": None,
}
#: refused with 400 (``sample`` "will 400"; ``$uri``/``updated_at`` are the server's)
READ_ONLY = ("$uri", "sample", "updated_at")
KNOWN = frozenset(
    {*_STRINGS, "location_lat", "location_lon", "date_collected", "date_sequenced", "starred", "custom"}
)


def check_metadata_value(name: str, value: Any) -> Any:
    """One metadata field as ``PATCH /metadata/{id}`` takes it; raises :class:`InvalidChange`.

    ``custom: null`` is kept (the field is nullable); ``starred: null`` means "unchanged" and comes
    back as ``...`` (the PATCH schema allows null, the record's field is a plain boolean).
    """
    if name in READ_ONLY:
        raise InvalidChange(f"{name!r} cannot be changed")
    if name in _STRINGS:
        limit = _STRINGS[name]
        if value is not None and not isinstance(value, str):
            raise InvalidChange(f"{name!r} must be a string or null")
        if limit is not None and value is not None and len(value) > limit:
            raise InvalidChange(f"{name!r} is longer than {limit} characters")
        if name in METADATA_ENUMS and value is not None and value not in METADATA_ENUMS[name]:
            raise InvalidChange(f"{name!r} must be one of {list(METADATA_ENUMS[name])}")
        return value
    if name in ("location_lat", "location_lon"):
        bound = 90 if name == "location_lat" else 180
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > bound:
            raise InvalidChange(f"{name!r} must be a number between -{bound} and {bound}")
        return value
    if name in ("date_collected", "date_sequenced"):
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidChange(f"{name!r} must be an RFC 3339 date-time")
        try:
            datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            raise InvalidChange(f"{name!r} must be an RFC 3339 date-time") from None
        return value
    if name == "starred":
        if value is None:
            return ...
        if not isinstance(value, bool):
            raise InvalidChange("'starred' must be a boolean or null")
        return value
    if name == "custom":
        if value is None:
            return None
        scalars = (str, int, float, bool, type(None))
        if not isinstance(value, dict) or not all(isinstance(v, scalars) for v in value.values()):
            raise InvalidChange("'custom' must be a flat object of strings, numbers, booleans or null")
        return dict(value)
    raise InvalidChange(f"unknown metadata field {name!r}")
