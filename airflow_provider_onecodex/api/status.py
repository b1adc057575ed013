"""The one completion rule for One Codex analyses (alignments, classifications, panels, ...).

An analysis is terminal when ``complete`` is ``true``; its outcome is ``success`` plus
``error_msg`` (One Codex API reference, "Completion semantics"). Anything else is refused rather
than guessed: a record whose ``complete`` or ``success`` is missing, null or not a JSON boolean
(``"true"`` included) raises :class:`MalformedRecordError` naming the id and the field, so it can
never be read as success. The sensor's poke, the trigger and the operators all call this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from airflow_provider_onecodex.api.errors import MalformedRecordError
from airflow_provider_onecodex.api.ids import record_id


class AnalysisState(str, Enum):
    """Where an analysis is in its lifecycle."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Completion:
    """The completion rule's verdict on one record.

    :ivar analysis_id: the record's id (from ``$uri``, else the id asked for).
    :ivar state: pending, succeeded or failed.
    :ivar error_msg: One Codex's ``error_msg`` for a failure (``None`` when it gave none).
    """

    analysis_id: str
    state: AnalysisState
    error_msg: str | None = None

    def describe(self) -> str:
        """``"<id> failed: <error_msg>"`` and the like, for logs and exception messages."""
        if self.state is AnalysisState.FAILED:
            return f"{self.analysis_id} failed: {self.error_msg or 'no error_msg given'}"
        return f"{self.analysis_id} {self.state.value}"


def _checked(record: object, noun: str, asked_id: str | None) -> tuple[Mapping[str, Any], str]:
    """``record`` as a JSON object and its id (from ``$uri``, else ``asked_id``), for either rule.

    :raises MalformedRecordError: ``record`` is not an object (named by ``noun`` and the id).
    """
    ident = asked_id or "<unknown id>"
    if not isinstance(record, Mapping):
        raise MalformedRecordError(f"{noun} {ident}: expected a JSON object, got {type(record).__name__}")
    return record, record_id(dict(record)) or ident


def _bool_field(record: Mapping[str, Any], name: str, analysis_id: str) -> bool:
    if name not in record:
        raise MalformedRecordError(f"analysis {analysis_id}: field {name!r} is missing")
    value = record[name]
    if not isinstance(value, bool):
        raise MalformedRecordError(
            f"analysis {analysis_id}: field {name!r} must be true or false, got {value!r}"
        )
    return value


def completion_of(record: object, analysis_id: str | None = None) -> Completion:
    """Apply the completion rule to one analysis record.

    :param record: the JSON object returned by ``GET /api/v1/<analyses route>/{id}`` or a listing.
    :param analysis_id: the id asked for; used when the record lacks a ``$uri``.
    :returns: a :class:`Completion` (pending while ``complete`` is false).
    :raises MalformedRecordError: ``record`` is not an object, or ``complete``/``success`` is missing,
        null or not a boolean (``success`` is only required once ``complete`` is true).
    """
    record, ident = _checked(record, "analysis", analysis_id)
    if not _bool_field(record, "complete", ident):
        return Completion(ident, AnalysisState.PENDING)
    if _bool_field(record, "success", ident):
        return Completion(ident, AnalysisState.SUCCEEDED)
    error_msg = record.get("error_msg")
    return Completion(ident, AnalysisState.FAILED, error_msg if isinstance(error_msg, str) else None)


# -- samples -------------------------------------------------------------------------------------

#: sample ``status`` values (API reference §8.5) and what they mean for a wait
SAMPLE_PENDING_STATUSES = frozenset({"awaiting_data", "importing", "validating"})
SAMPLE_FAILED_STATUSES = frozenset({"failed_validation", "deleted"})
SAMPLE_READY_STATUS = "available"


class SampleState(str, Enum):
    """Where a sample is on its way to being usable."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class SampleReadiness:
    """The sample rule's verdict on one sample record.

    :ivar sample_id: the record's id (from ``$uri``, else the id asked for).
    :ivar state: pending, ready or failed.
    :ivar status: the sample's ``status`` as sent.
    :ivar error_msg: One Codex's ``error_msg`` (upload, import or validation failures).
    :ivar reason: why it is pending or failed, for logs and exception messages.
    """

    sample_id: str
    state: SampleState
    status: str
    error_msg: str | None = None
    reason: str = ""

    def describe(self) -> str:
        return f"sample {self.sample_id} {self.reason or self.status}"


def readiness_of(
    record: object, sample_id: str | None = None, *, wait_for_primary_classification: bool = False
) -> SampleReadiness:
    """Apply the sample rule to one ``GET /api/v1/samples/{id}`` record.

    Ready when ``status`` is ``available`` (and, with ``wait_for_primary_classification``, once
    ``primary_classification`` is set: One Codex sets it when the sample's first classification
    exists). Pending while ``awaiting_data``, ``importing`` or ``validating``. Failed on
    ``failed_validation`` or ``deleted``, with ``error_msg``.

    :raises MalformedRecordError: not an object, or ``status`` missing, not a string or unknown
        (never guessed to be ready).
    """
    record, ident = _checked(record, "sample", sample_id)
    status = record.get("status")
    if not isinstance(status, str):
        raise MalformedRecordError(f"sample {ident}: field 'status' must be a string, got {status!r}")
    error_msg = record.get("error_msg") if isinstance(record.get("error_msg"), str) else None
    if status in SAMPLE_FAILED_STATUSES:
        reason = f"is {status}: {error_msg or 'no error_msg given'}"
        return SampleReadiness(ident, SampleState.FAILED, status, error_msg, reason)
    if status in SAMPLE_PENDING_STATUSES:
        return SampleReadiness(ident, SampleState.PENDING, status, error_msg, f"is {status}")
    if status != SAMPLE_READY_STATUS:
        known = sorted(SAMPLE_PENDING_STATUSES | SAMPLE_FAILED_STATUSES | {SAMPLE_READY_STATUS})
        raise MalformedRecordError(f"sample {ident}: unknown status {status!r} (known: {known})")
    if wait_for_primary_classification and not record.get("primary_classification"):
        reason = "is available but has no primary_classification yet"
        return SampleReadiness(ident, SampleState.PENDING, status, error_msg, reason)
    return SampleReadiness(ident, SampleState.READY, status, error_msg, "is available")
