"""What is news for a watch: the records it keeps, the rules that fire, the payloads it sends.

The pure half of the event triggers, with :mod:`.watching` (the mark). Records are kept slim
(:func:`slim_record`: ids, status, timestamps; never pre-signed links); a rule says per record
whether it fires, is settled without firing, or is still on its way (:class:`Verdict`); payloads
are the asset events' ``extra`` (small JSON, never records or secrets).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow_provider_onecodex.api.errors import MalformedRecordError
from airflow_provider_onecodex.api.ids import id_from_uri, record_id
from airflow_provider_onecodex.api.resources import ANALYSIS_RESOURCES
from airflow_provider_onecodex.api.status import (
    SAMPLE_FAILED_STATUSES,
    SAMPLE_PENDING_STATUSES,
    SAMPLE_READY_STATUS,
    AnalysisState,
    completion_of,
)

SAMPLE_STATUSES = SAMPLE_PENDING_STATUSES | SAMPLE_FAILED_STATUSES | {SAMPLE_READY_STATUS}
OUTCOMES = ("any", "success", "failure")
#: analysis fields kept (and sent in payloads) only where the route has them: ``analysis_type``
#: on ``analyses``, ``tax_id`` on ``alignments``
_OPTIONAL_ANALYSIS_FIELDS = ("analysis_type", "tax_id")
_ERROR_MSG_CHARS = 500


class Verdict(enum.Enum):
    """What one listed record means for a watcher."""

    FIRE = "fire"  # news: emit an event, then settled
    SETTLE = "settle"  # finished, but not news for this watcher
    WAIT = "wait"  # still on its way: keep looking at it


# -- records as the watch keeps them ---------------------------------------------------------------


def ref_id(value: object) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("$ref") or value.get("$uri")
    if isinstance(value, str):
        return id_from_uri(value) or value
    return None


def _present(record: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of ``names`` that ``record`` has, as sent (absent ones stay absent)."""
    return {name: record[name] for name in names if name in record}


def slim_record(resource: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a watch decides and filters on, references as bare ids; nothing else.

    Samples: ``id, created_at, updated_at, status, error_msg, filename, size, project, tags,
    owner, visibility, primary_classification``. Analyses: ``id, created_at, updated_at,
    complete, success, error_msg, sample, job`` and ``analysis_type``/``tax_id`` when the route
    sends them. Pre-signed links (``results_uri``...) are never kept.
    """
    out: dict[str, Any] = {"id": record_id(dict(record)), "created_at": record.get("created_at")}
    out["updated_at"] = record.get("updated_at")
    error_msg = record.get("error_msg")
    out["error_msg"] = error_msg[:_ERROR_MSG_CHARS] if isinstance(error_msg, str) else error_msg
    if resource == "samples":
        for name in ("status", "filename", "size", "visibility"):
            out[name] = record.get(name)
        for name in ("project", "owner", "primary_classification"):
            out[name] = ref_id(record.get(name))
        tags = record.get("tags")
        out["tags"] = [t for t in map(ref_id, tags) if t] if isinstance(tags, list) else []
        return out
    out.update(_present(record, ("complete", "success")))
    out["sample"], out["job"] = ref_id(record.get("sample")), ref_id(record.get("job"))
    out.update(_present(record, _OPTIONAL_ANALYSIS_FIELDS))
    return out


# -- what is news ----------------------------------------------------------------------------------


def _one_of(name: str, value: object, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else a ``ValueError`` naming ``name`` and the choices."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def validate_sample_status(value: object) -> str:
    """The sample ``status`` a new-sample watch fires on (one of the API's statuses)."""
    return _one_of("status", value, sorted(SAMPLE_STATUSES))


def validate_outcome(value: object) -> str:
    """The ``outcome`` an analysis watch fires on: ``any``, ``success`` or ``failure``."""
    return _one_of("outcome", value, OUTCOMES)


def sample_rule(status: str) -> Callable[[Mapping[str, Any]], Verdict]:
    """Fire when a sample's ``status`` is ``status``; settle it once it is final otherwise.

    ``available``, ``failed_validation`` and ``deleted`` are final; the others are on their way.
    """
    final = SAMPLE_FAILED_STATUSES | {SAMPLE_READY_STATUS}

    def rule(record: Mapping[str, Any]) -> Verdict:
        current = record.get("status")
        if current not in SAMPLE_STATUSES:
            raise MalformedRecordError(f"sample {record.get('id')}: unknown status {current!r}")
        if current == status:
            return Verdict.FIRE
        return Verdict.SETTLE if current in final else Verdict.WAIT

    return rule


def analysis_rule(outcome: str) -> Callable[[Mapping[str, Any]], Verdict]:
    """Fire when an analysis completes with ``outcome`` (``any``, ``success``, ``failure``),
    by the one completion rule (:func:`~airflow_provider_onecodex.api.status.completion_of`)."""

    def rule(record: Mapping[str, Any]) -> Verdict:
        state = completion_of(record, record.get("id")).state
        if state is AnalysisState.PENDING:
            return Verdict.WAIT
        wanted = {"any": True, "success": state is AnalysisState.SUCCEEDED}.get(
            outcome, state is AnalysisState.FAILED
        )
        return Verdict.FIRE if wanted else Verdict.SETTLE

    return rule


def payload_id(payload: Mapping[str, Any]) -> str:
    """The id an event payload is about (``sample_id``, ``analysis_id`` or ``event_id``)."""
    for name in ("sample_id", "analysis_id", "event_id"):
        if isinstance(payload.get(name), str) and payload.get("kind") == name.removesuffix("_id"):
            return str(payload[name])
    raise ValueError(f"not a watch payload: {payload!r}")


def sample_payload(record: Mapping[str, Any]) -> dict[str, Any]:
    """The asset event ``extra`` of a new sample."""
    return {
        "kind": "sample",
        "sample_id": record.get("id"),
        "status": record.get("status"),
        "filename": record.get("filename"),
        "project_id": record.get("project"),
        "created_at": record.get("created_at"),
        "updated_at": record.get("updated_at"),
    }


def analysis_payload(resource: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The asset event ``extra`` of a completed analysis: ``outcome`` is ``success``/``failure``."""
    completion = completion_of(record, record.get("id"))
    return {
        "kind": "analysis",
        "resource": resource,
        "analysis_id": record.get("id"),
        "sample_id": record.get("sample"),
        "job_id": record.get("job"),
        "outcome": "success" if completion.state is AnalysisState.SUCCEEDED else "failure",
        "error_msg": completion.error_msg,
        "created_at": record.get("created_at"),
        "updated_at": record.get("updated_at"),
        **_present(record, _OPTIONAL_ANALYSIS_FIELDS),
    }


def analysis_resource(value: object) -> str:
    """An analyses route (``analyses``, ``alignments``, ``classifications``...)."""
    return _one_of("resource", value, sorted(ANALYSIS_RESOURCES))
