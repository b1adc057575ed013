"""The XCom policy of the One Codex results operators: small values go to XCom, large ones to storage.

A value is measured as compact JSON (``json.dumps(value, separators=(",", ":"))``, UTF-8 bytes).
At most ``max_bytes`` (default :data:`~airflow_provider_onecodex.api.results.DEFAULT_XCOM_MAX_BYTES`,
48 KiB = 49152 bytes) and it is returned as is. Above that:

- with a ``destination`` (a folder: an fsspec URL such as ``file:///data/onecodex`` or
  ``s3://bucket/prefix``, a local path, or an ``ObjectStoragePath``), the JSON is written to
  ``<destination>/<name>`` and a small :class:`~airflow_provider_onecodex.api.records.StoredResults`
  dict is returned instead: ``{uri, size, sha256, rows, resource, analysis_id, sample_id, summary}``;
- without one, :class:`XComTooLargeError` is raised before anything reaches XCom, naming the size
  and the ``destination=`` argument to set.

Storage (ObjectStoragePath, fsspec) is imported only inside functions: operator modules import this
one at parse time.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_onecodex.api.records import StoredResults
from airflow_provider_onecodex.api.results import (
    DEFAULT_RANK,
    compact_json,
    count_rows,
    results_value,
    summarize,
)


class XComTooLargeError(AirflowFailException):
    """A value exceeds the XCom limit and no ``destination`` is configured. Permanent (no retry)."""


def write_json(
    data: bytes, destination: object, name: str, conn_id: str | None = None, log: Any = None
) -> dict[str, Any]:
    """Write ``data`` to ``<destination>/<name>``; return ``{uri, size, sha256}`` of what was written.

    Local folders are created. A failed write leaves no partial file behind. With ``log``, a local
    folder under a multi-machine executor is warned about.

    :raises TypeError, ValueError: a bad ``destination`` (see ``storage_path``).
    """
    from airflow_provider_onecodex.storage import prepare_folder, storage_path, warn_if_machine_local

    folder = storage_path(destination, conn_id)
    if log is not None:
        warn_if_machine_local(folder, log)
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


@dataclass(frozen=True)
class XComLimit:
    """The XCom limit of a task and where larger values go.

    :param max_bytes: largest value pushed to XCom, bytes of compact JSON.
    :param destination: folder for larger values (see the module docstring); None or ``""``: they fail.
    :param conn_id: Airflow connection of that storage.
    :param log: where to say what was written (and warn about a machine-local folder).
    """

    max_bytes: int
    destination: object = None
    conn_id: str | None = None
    log: Any = None

    def store(self, data: bytes, name: str, what: str, too_large: str) -> dict[str, Any]:
        """Write ``data`` (``what``, in words for the log) to ``<destination>/<name>``:
        ``{uri, size, sha256}``.

        :raises XComTooLargeError: no ``destination``; ``too_large`` says why and what to set.
        """
        if self.destination is None or self.destination == "":
            raise XComTooLargeError(too_large)
        written = write_json(data, self.destination, name, self.conn_id, self.log)
        if self.log is not None:
            self.log.info("%s: %d bytes of JSON written to %s", what, len(data), written["uri"])
        return written


def xcom_or_store(
    value: Any,
    limit: XComLimit,
    *,
    resource: str,
    analysis_id: str,
    always_store: bool = False,
    top_n: int = 10,
    rank: str | None = DEFAULT_RANK,
    sample_id: str | None = None,
) -> Any:
    """Apply the XCom policy to analysis results (see the module docstring).

    :param value: the results (a JSON-native dict).
    :param always_store: write to ``limit.destination`` even when the value is small (then the
        pointer dict is returned, so downstream code sees one shape).
    :param sample_id: the analysis's sample, carried in either form.
    :returns: ``{resource, analysis_id, sample_id, results}`` (see
        :func:`~airflow_provider_onecodex.api.results.results_value`), or a :class:`StoredResults` dict.
    :raises XComTooLargeError: too large and no ``destination``.
    """
    data = compact_json(value)
    if len(data) <= limit.max_bytes and not (always_store and limit.destination):
        if limit.log is not None:
            limit.log.info(
                "Results of %s %s: %d bytes of JSON, returned through XCom", resource, analysis_id, len(data)
            )
        return results_value(resource, analysis_id, sample_id, value)
    written = limit.store(
        data,
        f"{resource}-{analysis_id}.json",
        f"Results of {resource} {analysis_id}",
        f"Results of {resource} {analysis_id} are {len(data)} bytes of JSON, more than "
        f"xcom_max_bytes={limit.max_bytes}. Set destination= to a folder (e.g. "
        "'file:///data/onecodex-results' or 's3://bucket/prefix') so the full results are written "
        "there and XCom gets their location and a summary, or raise xcom_max_bytes.",
    )
    pointer: StoredResults = {
        "uri": written["uri"],
        "size": written["size"],
        "sha256": written["sha256"],
        "rows": count_rows(resource, value),
        "resource": resource,
        "analysis_id": analysis_id,
        "sample_id": sample_id,
        "summary": summarize(resource, value, top_n, rank),
    }
    return pointer


def bounded_xcom(value: Any, limit: XComLimit, *, what: str, name: str) -> Any:
    """The XCom policy for any other value the provider pushes (records, lists, sensor results).

    Up to ``limit.max_bytes`` of compact JSON: ``value`` itself. Larger, with a destination:
    written to ``<destination>/<name>`` and ``{uri, size, sha256, summary}`` is returned, the
    summary saying how many records and which (:func:`~airflow_provider_onecodex.api.xcom.records_summary`).

    :param what: the value in words, for messages (``"the XCom value of list_samples"``).
    :raises XComTooLargeError: too large and no ``destination``: the size, the limit, what to set.
    """
    from airflow_provider_onecodex.api.xcom import fits, records_summary, too_large_message

    small, data = fits(value, limit.max_bytes)
    if small:
        return value
    written = limit.store(data, name, what, too_large_message(what, len(data), limit.max_bytes))
    return {**written, "summary": records_summary(value)}


def bounded_task_value(task: Any, value: Any, context: Any) -> Any:
    """:func:`bounded_xcom` with a task's ``xcom_max_bytes``, ``destination`` and
    ``destination_conn_id``; the file is named after the task, its run and map index."""
    from airflow_provider_onecodex.api.results import validate_xcom_max_bytes
    from airflow_provider_onecodex.api.xcom import storage_name

    if value is None:
        return None
    get = context.get if hasattr(context, "get") else (lambda key, default=None: default)
    map_index = getattr(get("ti"), "map_index", None)
    limit = XComLimit(
        validate_xcom_max_bytes(task.xcom_max_bytes), task.destination, task.destination_conn_id, task.log
    )
    return bounded_xcom(
        value,
        limit,
        what=f"the XCom value of task {task.task_id}",
        name=storage_name(task.dag_id, task.task_id, get("run_id"), map_index),
    )
