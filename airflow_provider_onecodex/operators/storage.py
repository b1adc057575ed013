"""The XCom policy of the One Codex results operators: small values go to XCom, large ones to storage.

A value is measured as compact JSON (``json.dumps(value, separators=(",", ":"))``, UTF-8 bytes).
At most ``max_bytes`` (default :data:`~airflow_provider_onecodex.api.results.DEFAULT_XCOM_MAX_BYTES`,
48 KiB = 49152 bytes) and it is returned as is. Above that:

- with a ``destination`` (a folder: an fsspec URL such as ``file:///data/onecodex`` or
  ``s3://bucket/prefix``, a local path, or an ``ObjectStoragePath``), the JSON is written to
  ``<destination>/<name>`` and a small :class:`~airflow_provider_onecodex.api.records.StoredResults`
  dict is returned instead: ``{uri, size, sha256, rows, resource, analysis_id, summary}``;
- without one, :class:`XComTooLargeError` is raised before anything reaches XCom, naming the size
  and the ``destination=`` argument to set.

Airflow is imported only inside functions: operator modules import this one at parse time.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_onecodex.api.records import StoredResults
from airflow_provider_onecodex.api.results import compact_json, count_rows, summarize


class XComTooLargeError(AirflowFailException):
    """A value exceeds the XCom limit and no ``destination`` is configured. Permanent (no retry)."""


def write_json(data: bytes, destination: object, name: str, conn_id: str | None = None) -> dict[str, Any]:
    """Write ``data`` to ``<destination>/<name>``; return ``{uri, size, sha256}`` of what was written.

    Local folders are created. A failed write leaves no partial file behind.

    :raises TypeError, ValueError: a bad ``destination`` (see ``storage_path``).
    """
    from airflow_provider_onecodex.storage import prepare_folder, storage_path

    folder = storage_path(destination, conn_id)
    prepare_folder(folder)
    target = folder / name
    try:
        with target.open("wb") as handle:
            handle.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise
    return {"uri": str(target), "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def xcom_or_store(
    value: Any,
    *,
    resource: str,
    analysis_id: str,
    destination: object,
    max_bytes: int,
    conn_id: str | None = None,
    always_store: bool = False,
    top_n: int = 10,
    log: Any = None,
) -> Any:
    """Apply the XCom policy to analysis results (see the module docstring).

    :param value: the results (a JSON-native dict).
    :param always_store: write to ``destination`` even when the value is small (then the pointer
        dict is returned, so downstream code sees one shape).
    :returns: ``value`` itself, or a :class:`StoredResults` dict.
    :raises XComTooLargeError: too large and no ``destination``.
    """
    data = compact_json(value)
    if len(data) <= max_bytes and not (always_store and destination):
        if log is not None:
            log.info(
                "Results of %s %s: %d bytes of JSON, returned through XCom", resource, analysis_id, len(data)
            )
        return value
    if not destination:
        raise XComTooLargeError(
            f"Results of {resource} {analysis_id} are {len(data)} bytes of JSON, more than "
            f"xcom_max_bytes={max_bytes}. Set destination= to a folder (e.g. "
            "'file:///data/onecodex-results' or 's3://bucket/prefix') so the full results are written "
            "there and XCom gets their location and a summary, or raise xcom_max_bytes."
        )
    written = write_json(data, destination, f"{resource}-{analysis_id}.json", conn_id)
    pointer: StoredResults = {
        "uri": written["uri"],
        "size": written["size"],
        "sha256": written["sha256"],
        "rows": count_rows(resource, value),
        "resource": resource,
        "analysis_id": analysis_id,
        "summary": summarize(resource, value, top_n),
    }
    if log is not None:
        log.info("Results of %s %s: %d bytes written to %s", resource, analysis_id, len(data), pointer["uri"])
    return pointer
