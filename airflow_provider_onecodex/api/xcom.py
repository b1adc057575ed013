"""The XCom size policy for every value the provider pushes: records, lists of records, sensor
return values and analysis results.

A value is measured as compact JSON (:func:`~airflow_provider_onecodex.api.results.compact_json`).
Up to ``xcom_max_bytes`` it is the XCom value. Larger, it goes to storage with a small summary when
the task has a ``destination``; otherwise the task fails before anything is pushed, with the size,
the limit and what to set. This module decides and describes; writing is the operators' storage
helper's job (no I/O here).
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_onecodex.api.ids import record_id
from airflow_provider_onecodex.api.results import DEFAULT_XCOM_MAX_BYTES, compact_json

_LIST_CAP = 20  # ids listed in a summary


def too_large_message(what: str, size: int, max_bytes: int) -> str:
    """Why a value was not pushed and how to fix it (``what``: e.g. ``"the XCom value of list_samples"``)."""
    return (
        f"{what[:1].upper()}{what[1:]} is {size} bytes of JSON, more than xcom_max_bytes={max_bytes}: not "
        "pushed to XCom. Set destination= to a folder (e.g. 'file:///data/onecodex' or "
        "'s3://bucket/prefix') so the value is written there and XCom gets its location and a "
        "summary, narrow the request (where=, max_records=), or raise xcom_max_bytes."
    )


def fits(value: Any, max_bytes: int = DEFAULT_XCOM_MAX_BYTES) -> tuple[bool, bytes]:
    """``(value fits in XCom, its compact JSON)``."""
    data = compact_json(value)
    return len(data) <= max_bytes, data


def records_summary(value: Any) -> dict[str, Any]:
    """What a stored record or list of records holds: ``{kind, count, ids, resources}``.

    ``ids``: the first 20 record ids (from ``$uri``); ``resources``: the routes they come from.
    """
    items = value if isinstance(value, list) else [value]
    records = [r for r in items if isinstance(r, dict)]
    uris = [str(r.get("$uri")) for r in records if isinstance(r.get("$uri"), str)]
    resources = sorted({u.split("/")[3] for u in uris if u.count("/") >= 4})
    ids = [i for i in (record_id(r) for r in records) if i]
    return {
        "kind": "records" if isinstance(value, list) else "record",
        "count": len(items),
        "ids": ids[:_LIST_CAP],
        "resources": resources,
    }


def storage_name(*parts: object) -> str:
    """A file name from task coordinates (dag, task, run, map index): safe on every filesystem."""
    text = "-".join(str(p) for p in parts if p is not None and str(p) != "")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.")[:200] + ".json"
