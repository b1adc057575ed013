"""The one decision of a wait for a sample, shared by the sensor's poke and the trigger.

:func:`sample_outcome` turns one poll (the sample record, or the error fetching it) into the same
JSON-native outcome shapes as :func:`~airflow_provider_onecodex.api.waiting.outcome_of`, so the
sensor ends the same way in poke, reschedule and deferrable modes.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_onecodex.api.errors import OneCodexError
from airflow_provider_onecodex.api.status import SampleState, readiness_of
from airflow_provider_onecodex.api.waiting import error_outcome


def sample_outcome(
    sample_id: str,
    record: dict[str, Any] | None,
    error: BaseException | None = None,
    *,
    wait_for_primary_classification: bool = False,
) -> dict[str, Any]:
    """The outcome of one poll of ``GET /api/v1/samples/{id}``.

    Shapes: ``{"status": "success", "value": <sample record>, "message"}``,
    ``{"status": "failed", "kind": "sample_failed" | "not_found" | "auth" | "malformed" | "api_error",
    "message"}``, ``{"status": "pending", "message"}``, ``{"status": "transient", "message"}``.

    :param error: what fetching the record raised (a ``OneCodexError``), if anything.
    """
    try:
        if error is not None:
            raise error
        readiness = readiness_of(
            record, sample_id, wait_for_primary_classification=wait_for_primary_classification
        )
    except OneCodexError as exc:
        return error_outcome(exc)
    if readiness.state is SampleState.READY:
        return {"status": "success", "value": record, "message": f"One Codex {readiness.describe()}"}
    if readiness.state is SampleState.FAILED:
        return {"status": "failed", "kind": "sample_failed", "message": f"One Codex {readiness.describe()}"}
    return {"status": "pending", "message": readiness.describe()}


def sample_timeout_outcome(sample_id: str, timeout: float) -> dict[str, Any]:
    """The outcome when a sample wait's deadline passes."""
    return {"status": "timeout", "message": f"Timed out after {timeout:g} s waiting for sample {sample_id}"}
