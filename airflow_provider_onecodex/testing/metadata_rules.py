"""What ``PATCH /api/v1/metadata/{id}`` and ``PATCH /api/v1/samples/{id}`` accept (API reference
§8.5, §8.6; OpenAPI ``MetadataPatchSchema`` and ``SampleUpdateSchema``).

The metadata field rules (types, length limits, latitude/longitude ranges, date-times, the
enumerations of ``platform``, ``library_type`` and ``sample_type``) are data, defined once in
:mod:`airflow_provider_onecodex.api.metadata_values` for the provider and the simulator alike; the
checks here are the simulator's own. The OpenAPI conformance test
(``tests/testing/test_openapi_conformance.py``) checks that data against the OpenAPI file's
``MetadataPatchSchema``, so a mistake there is still caught.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from airflow_provider_onecodex.api.metadata_values import CUSTOM_VALUES, METADATA_RULES, READ_ONLY_FIELDS
from airflow_provider_onecodex.testing.errors import InvalidChange

SAMPLE_PATCH_FIELDS = ("tags", "project", "visibility")
VISIBILITIES = ("public", "shared", "private", "importing", "awaiting data")

#: refused with 400 (``sample`` "will 400"; ``$uri``/``updated_at`` are the server's)
READ_ONLY = READ_ONLY_FIELDS
KNOWN = frozenset(METADATA_RULES)


def check_metadata_value(name: str, value: Any) -> Any:
    """One metadata field as ``PATCH /metadata/{id}`` takes it; raises :class:`InvalidChange`.

    ``custom: null`` is kept (the field is nullable); ``starred: null`` means "unchanged" and comes
    back as ``...`` (the PATCH schema allows null, the record's field is a plain boolean).
    """
    if name in READ_ONLY:
        raise InvalidChange(f"{name!r} cannot be changed")
    rule = METADATA_RULES.get(name)
    if rule is None:
        raise InvalidChange(f"unknown metadata field {name!r}")
    if value is None:
        return ... if name == "starred" else None
    if rule.type == "string":
        if not isinstance(value, str):
            raise InvalidChange(f"{name!r} must be a string or null")
        if rule.max_length is not None and len(value) > rule.max_length:
            raise InvalidChange(f"{name!r} is longer than {rule.max_length} characters")
        if rule.enum is not None and value not in rule.enum:
            raise InvalidChange(f"{name!r} must be one of {list(rule.enum)}")
        if rule.format == "date-time":
            try:  # OpenAPI format date-time: a bare date or a week date is not one
                if not re.match(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}", value):
                    raise ValueError(value)
                datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "Zz" else value)
            except ValueError:
                raise InvalidChange(f"{name!r} must be an RFC 3339 date-time") from None
        return value
    if rule.type == "number":
        low, high = rule.minimum, rule.maximum
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or (low is not None and not value >= low) or (high is not None and not value <= high):
            raise InvalidChange(f"{name!r} must be a number between {low} and {high}")
        return value
    if rule.type == "boolean":
        if not isinstance(value, bool):
            raise InvalidChange(f"{name!r} must be a boolean or null")
        return value
    if not isinstance(value, dict) or not all(isinstance(v, CUSTOM_VALUES) for v in value.values()):
        raise InvalidChange(f"{name!r} must be a flat object of strings, numbers, booleans or null")
    return dict(value)
