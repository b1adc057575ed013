"""Poke, reschedule and deferrable modes end the same way for the same API answers.

One parametrized suite: each case scripts what the simulator answers, poll by poll (over real
HTTP), and every mode must return the same XCom value or raise the same exception type with the
same message. Cases that change state at the second read make the deferrable mode meet the change
in the trigger, not in its first synchronous poke.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_onecodex.testing.app import NOT_FOUND_MESSAGE, UNAUTHORIZED_MESSAGE
from tests._modes import MODES

DEMO_SAMPLE = "a1b2c3d4e5f60718"
LISTING = r"^/api/v1/alignments$"
AUTH_HINT = "authentication failed for connection `onecodex_default`: check its API key"
NOT_FOUND_HINT = "(no such record, or not visible with this API key)"
WRONG_KEY = "f" * 32


@dataclass
class Case:
    """What one case set up: the sensor's arguments and how to compute the expected ending."""

    sensor_kwargs: dict[str, Any]
    expected: Callable[[], tuple[Any, type[BaseException] | None, str | None]]


def _pending(sim: Any) -> str:
    return sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")  # complete_after=None: pending


def _unknown_id(sim: Any) -> str:
    while (candidate := secrets.token_hex(8)) in sim.state.analyses:
        pass
    return candidate


def pending_then_succeeded(sim: Any, reads: Any, connect: Any) -> Case:
    aid = _pending(sim)
    reads.at(2, lambda: sim.state.set_outcome(aid, success=True))

    def expected() -> tuple[Any, None, None]:
        record = reads.record("alignments", aid)
        assert record["complete"] is True and record["success"] is True
        return record, None, None

    return Case({"alignment_id": aid}, expected)


def pending_then_failed(sim: Any, reads: Any, connect: Any) -> Case:
    aid = _pending(sim)
    reason = "Reference coverage 3% is below the 10% needed to call an alignment."
    reads.at(2, lambda: sim.state.set_outcome(aid, success=False, error_msg=reason))
    return Case(
        {"alignment_id": aid},
        lambda: (None, AirflowFailException, f"One Codex alignment {aid} failed: {reason}"),
    )


def not_found(sim: Any, reads: Any, connect: Any) -> Case:
    missing = _unknown_id(sim)
    message = (
        f"One Codex API error 404 on GET /api/v1/alignments/{missing}: {NOT_FOUND_MESSAGE} {NOT_FOUND_HINT}"
    )
    return Case({"alignment_id": missing}, lambda: (None, AirflowFailException, message))


def pending_then_vanished(sim: Any, reads: Any, connect: Any) -> Case:
    aid = _pending(sim)
    reads.at(2, lambda: sim.state.analyses.pop(aid))
    message = f"One Codex API error 404 on GET /api/v1/alignments/{aid}: {NOT_FOUND_MESSAGE} {NOT_FOUND_HINT}"
    return Case({"alignment_id": aid}, lambda: (None, AirflowFailException, message))


def wrong_key(sim: Any, reads: Any, connect: Any) -> Case:
    """A wait One Codex never answered: a 401 is a wrong key, the wait fails at once."""
    aid = _pending(sim)
    connect(password=WRONG_KEY)
    message = f"{AUTH_HINT}. One Codex answered 401 on GET /api/v1/alignments: {' '.join(UNAUTHORIZED_MESSAGE.split())}"
    return Case({"alignment_id": aid}, lambda: (None, AirflowFailException, message))


def pending_then_key_revoked(sim: Any, reads: Any, connect: Any) -> Case:
    """After an answer, 401s are an outage (a key rotation in flight): counted, then retryable."""
    aid = _pending(sim)
    sim.state.faults.script(
        path_regex=LISTING, faults=[None, {"status": 401}, {"status": 401}, {"status": 401}]
    )
    message = f"3 polls in a row failed; last error: {AUTH_HINT}. One Codex answered 401 on GET /api/v1/alignments: Unauthorized"
    return Case(
        {"alignment_id": aid, "max_consecutive_failures": 3}, lambda: (None, AirflowException, message)
    )


def pending_then_malformed(sim: Any, reads: Any, connect: Any) -> Case:
    aid = _pending(sim)
    reads.at(2, lambda: reads.override(aid, complete="true", success=True))
    message = (
        f"malformed One Codex record: analysis {aid}: field 'complete' must be true or false, got 'true'"
    )
    return Case({"alignment_id": aid}, lambda: (None, AirflowFailException, message))


def complete_without_success(sim: Any, reads: Any, connect: Any) -> Case:
    aid = _pending(sim)
    reads.at(2, lambda: reads.override(aid, complete=True, success=None))
    message = f"malformed One Codex record: analysis {aid}: field 'success' must be true or false, got None"
    return Case({"alignment_id": aid}, lambda: (None, AirflowFailException, message))


def transient_then_succeeded(sim: Any, reads: Any, connect: Any) -> Case:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="562", complete_after=0)
    # Two attempts per poll (max_retries=1): polls 1 and 2 fail after retrying, poll 3 succeeds.
    faults = [503, {"status": 502, "body": "html"}, {"status": 429, "retry_after": 0}, "reset"]
    sim.state.faults.script(path_regex=LISTING, faults=faults)

    def expected() -> tuple[Any, None, None]:
        assert sim.state.count("/api/v1/alignments") == 5  # 4 faulted answers, then the record
        return reads.record("alignments", aid), None, None

    return Case({"alignment_id": aid, "max_consecutive_failures": 3}, expected)


CASES = [
    pending_then_succeeded,
    pending_then_failed,
    not_found,
    pending_then_vanished,
    wrong_key,
    pending_then_key_revoked,
    pending_then_malformed,
    complete_without_success,
    transient_then_succeeded,
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_modes_end_alike(case, mode, sim, reads, connect, drive, capfd) -> None:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    setup = case(sim, reads, connect)

    def make(**mode_kwargs: Any) -> OneCodexAlignmentSensor:
        return OneCodexAlignmentSensor(
            task_id="wait", poke_interval=0.05, timeout=30, **setup.sensor_kwargs, **mode_kwargs
        )

    result = drive(mode, make)
    assert (result.xcom, result.exc_type, result.message) == setup.expected()
    logs = "".join(capfd.readouterr())
    if case not in (not_found, wrong_key):  # those end at the first poll, with nothing to log
        assert logs.strip(), "nothing logged: the checks below would prove nothing"
    for key in (sim.api_key, WRONG_KEY):
        for secret in (key, base64.b64encode(f"{key}:".encode()).decode()):
            assert secret not in repr(result) and secret not in logs


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_transient_failures_give_up_alike(mode, sim, connect, drive, retry_waits) -> None:
    """Three polls in a row that fail even after retries end the wait with a retryable error."""
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    aid = _pending(sim)
    sim.state.faults.script(path_regex=LISTING, faults=[{"status": 503, "retry_after": 0}] * 6)
    result = drive(
        mode,
        lambda **kw: OneCodexAlignmentSensor(
            task_id="wait", alignment_id=aid, poke_interval=0.05, max_consecutive_failures=3, **kw
        ),
    )
    assert result.exc_type is AirflowException  # not AirflowFailException: task retries apply
    assert result.message == (
        "3 polls in a row failed; last error: "
        "One Codex API error 503 on GET /api/v1/alignments: Service Unavailable"
    )
    assert sim.state.count("/api/v1/alignments") == 6  # 3 polls x 2 attempts, then no more
    assert retry_waits == [0.0, 0.0, 0.0]  # Retry-After: 0 honoured between attempts
