"""The simulator's own id helpers (16 lowercase hex characters, ``$uri``/``$ref``).

Deliberately independent of the provider's ``api/ids.py``: a bug there must not be reproduced by
the server the provider is tested against.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

PREFIX = "/api/v1"
_ID = re.compile(r"[0-9a-f]{16}")


def is_id(value: object) -> bool:
    """True for a ``str`` of exactly 16 lowercase hex characters."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def uri(resource: str, record_id: str) -> str:
    """``/api/v1/<resource>/<id>``."""
    return f"{PREFIX}/{resource}/{record_id}"


def ref(resource: str, record_id: str) -> dict[str, str]:
    """``{"$ref": "/api/v1/<resource>/<id>"}``."""
    return {"$ref": uri(resource, record_id)}


def ref_id(value: Any, resource: str | None = None) -> str | None:
    """The id in ``{"$ref": "/api/v1/<resource>/<id>"}`` or in that string; None when ``value``
    is not of that form (or names another resource, when ``resource`` is given)."""
    if isinstance(value, dict) and set(value) == {"$ref"}:
        value = value["$ref"]
    if not isinstance(value, str) or not value.startswith(PREFIX + "/"):
        return None
    parts = value[len(PREFIX) + 1 :].split("/")
    if len(parts) != 2 or not is_id(parts[1]) or (resource is not None and parts[0] != resource):
        return None
    return parts[1]


def derived_id(*parts: str) -> str:
    """A stable id derived from ``parts`` (for records a scenario leaves implicit)."""
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:16]
