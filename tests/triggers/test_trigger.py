"""OneCodexAnalysisTrigger: serialization, the events it fires, and how it paces its polls."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from airflow_provider_onecodex.api.waiting import WaitSpec
from airflow_provider_onecodex.testing.app import NOT_FOUND_MESSAGE, UNAUTHORIZED_MESSAGE
from airflow_provider_onecodex.testing.pytest_plugin import connection_json
from airflow_provider_onecodex.triggers.onecodex import OneCodexAnalysisTrigger
from tests._modes import first_payload

DEMO_SAMPLE = "a1b2c3d4e5f60718"
LISTING = r"^/api/v1/alignments$"


def single(aid: str, **kwargs: Any) -> OneCodexAnalysisTrigger:
    kwargs.setdefault("poll_interval", 0.02)
    spec = WaitSpec.build("alignments", record_id=aid).to_dict()
    return OneCodexAnalysisTrigger(spec=spec, onecodex_conn_id="onecodex_default", **kwargs)


# -- serialization ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        WaitSpec.build("alignments", record_id="a1a1000000001280"),
        WaitSpec.build("alignments", ids=["a1a1000000001280", "a1a1000000000562"], failure_policy="report"),
        WaitSpec.build("alignments", sample_id=DEMO_SAMPLE, tax_id="1280", min_count=2),
        WaitSpec.build("analyses", sample_id=DEMO_SAMPLE, where={"analysis_type": "classification"}),
    ],
    ids=["single", "several", "sample-tax", "sample-where"],
)
def test_serialize_round_trips_exactly_through_json(spec: WaitSpec, monkeypatch) -> None:
    from airflow.sdk.module_loading import import_string

    key = "0123456789abcdef0123456789abcdef"
    monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", connection_json(None, key))
    trigger = OneCodexAnalysisTrigger(
        spec=spec.to_dict(),
        onecodex_conn_id="onecodex_default",
        poll_interval=30,
        deadline=1_900_000_000.5,
        timeout=3600,
        max_consecutive_failures=5,
        consecutive_failures=2,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_onecodex.triggers.onecodex.OneCodexAnalysisTrigger"
    text = json.dumps(kwargs)  # JSON-native: no tuples, sets, datetimes or objects
    assert key not in text
    rebuilt = import_string(classpath)(**json.loads(text))
    assert rebuilt.serialize() == (classpath, kwargs)
    assert json.loads(text) == kwargs
    assert WaitSpec.from_dict(kwargs["spec"]) == spec


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"poll_interval": 0}, "poll_interval must be a number of seconds > 0, got 0"),
        ({"poll_interval": True}, "poll_interval"),
        ({"max_consecutive_failures": 0}, "max_consecutive_failures must be an int >= 1, got 0"),
        ({"consecutive_failures": -1}, "consecutive_failures must be an int >= 0, got -1"),
    ],
)
def test_bad_kwargs_are_refused_at_construction(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        single("a1a1000000001280", **kwargs)


def test_a_corrupted_spec_is_refused_at_construction() -> None:
    spec = WaitSpec.build("alignments", record_id="a1a1000000001280").to_dict()
    with pytest.raises(ValueError, match=r"alignment_id must be a One Codex id .*got 'XYZ'"):
        OneCodexAnalysisTrigger(spec={**spec, "ids": ["XYZ"]}, onecodex_conn_id="c", poll_interval=1)


# -- events ------------------------------------------------------------------------------------


async def test_success_event_carries_the_record(sim, connect) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280", complete_after=0)
    event = await first_payload(single(aid))
    assert event == {
        "status": "success",
        "value": sim.state.get_json("alignments", aid),
        "message": f"alignment {aid} succeeded",
    }
    assert json.loads(json.dumps(event)) == event


async def test_failed_event_names_the_id_and_error_msg(sim, connect) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    sim.state.set_outcome(aid, success=False, error_msg="Reads too short to align.")
    event = await first_payload(single(aid))
    assert event == {
        "status": "failed",
        "kind": "analysis_failed",
        "message": f"One Codex alignment {aid} failed: Reads too short to align.",
    }


async def test_404_event(sim, connect) -> None:
    missing = "0f0f0f0f0f0f0f0f"
    assert missing not in sim.state.analyses
    event = await first_payload(single(missing))
    assert event == {
        "status": "failed",
        "kind": "not_found",
        "message": f"One Codex API error 404 on GET /api/v1/alignments/{missing}: {NOT_FOUND_MESSAGE} "
        "(no such record, or not visible with this API key)",
    }
    # the listing did not have it, so one GET told a 404 from "not listed yet"
    assert sim.state.count("/api/v1/alignments/", status=404) == 1


async def test_401_event_holds_no_key_and_ends_at_once(sim, connect) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    connect(password="e" * 32)
    event = await first_payload(single(aid))
    assert (event["status"], event["kind"]) == ("failed", "auth")
    assert event["message"] == (
        "authentication failed for connection `onecodex_default`: check its API key. "
        f"One Codex answered 401 on GET /api/v1/alignments: {' '.join(UNAUTHORIZED_MESSAGE.split())}"
    )
    assert "e" * 32 not in json.dumps(event)
    assert sim.state.count("/api/v1/") == 1  # a permanent error is not polled again


async def test_malformed_record_event(sim, connect, monkeypatch) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    listing = sim.state.list_json

    def with_string_complete(resource: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return [
            {**r, "complete": "true"} if aid in r["$uri"] else r for r in listing(resource, *args, **kwargs)
        ]

    monkeypatch.setattr(sim.state, "list_json", with_string_complete)
    event = await first_payload(single(aid))
    assert event == {
        "status": "failed",
        "kind": "malformed",
        "message": f"malformed One Codex record: analysis {aid}: field 'complete' must be true or false, got 'true'",
    }


async def test_deadline_in_the_past_times_out_without_a_request(sim, connect) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    event = await first_payload(single(aid, deadline=time.time() - 1, timeout=60))
    assert event == {"status": "timeout", "message": f"Timed out after 60 s waiting for alignment {aid}"}
    assert sim.state.count() == 0


async def test_short_deadline_times_out_while_pending(sim, connect) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    started = time.monotonic()
    event = await first_payload(single(aid, poll_interval=0.05, deadline=time.time() + 0.3, timeout=0.3))
    assert event["status"] == "timeout"
    assert 0.25 <= time.monotonic() - started < 2
    assert sim.state.count("/api/v1/alignments") >= 2  # it kept polling until the deadline


# -- pacing and giving up -----------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["pending", "503", "reset", "html200"])
async def test_sleeps_between_non_final_polls(answer, sim, connect) -> None:
    """About one request per poll_interval whatever the non-final answer: no hot loop."""
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    if answer != "pending":
        kind: Any = 503 if answer == "503" else answer
        sim.state.faults.set_rate(1.0, [kind], path_regex=LISTING)
    window, interval = 0.6, 0.1
    event = await first_payload(
        single(aid, poll_interval=interval, deadline=time.time() + window, max_consecutive_failures=1000)
    )
    assert event["status"] == "timeout"
    polls = sim.state.count("/api/v1/alignments")
    assert 3 <= polls <= window / interval + 2, polls


async def test_gives_up_after_max_consecutive_failures(sim, connect) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    sim.state.faults.set_rate(1.0, [503], path_regex=LISTING)
    event = await first_payload(single(aid, max_consecutive_failures=3))
    assert event == {
        "status": "failed",
        "kind": "transient",
        "message": "3 polls in a row failed; last error: One Codex API error 503 on GET /api/v1/alignments: "
        "Service Unavailable",
    }
    assert sim.state.count("/api/v1/alignments") == 3


async def test_failures_before_deferral_count_towards_the_limit(sim, connect) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    sim.state.faults.set_rate(1.0, [503], path_regex=LISTING)
    event = await first_payload(single(aid, max_consecutive_failures=3, consecutive_failures=2))
    assert event["message"].startswith("3 polls in a row failed; last error: One Codex API error 503")
    assert sim.state.count("/api/v1/alignments") == 1


async def test_a_pending_answer_resets_the_failure_count(sim, connect) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    sim.state.faults.script(path_regex=LISTING, faults=[503, 503, None, 503, 503, None, 503, 503])
    event = await first_payload(single(aid, max_consecutive_failures=3, deadline=time.time() + 0.5))
    assert event["status"] == "timeout"  # never three failures in a row
    assert sim.state.count("/api/v1/alignments", status=503) == 6


async def test_client_retries_absorb_a_blip_before_the_trigger_sees_it(sim, connect, monkeypatch) -> None:
    from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient

    waits: list[float] = []
    init = AsyncOneCodexClient.__init__

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(
        AsyncOneCodexClient, "__init__", lambda self, config, sleep=no_wait: init(self, config, sleep=sleep)
    )
    connect(max_retries=3)
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280", complete_after=0)
    sim.state.faults.script(path_regex=LISTING, faults=[{"status": 502, "body": "html"}, "reset", 429])
    event = await first_payload(single(aid, max_consecutive_failures=1))
    assert event["status"] == "success"
    assert len(waits) == 3 and sim.state.count("/api/v1/alignments") == 4


# -- connection problems in the triggerer ----------------------------------------------------------


async def test_a_placeholder_key_fails_the_wait_without_a_request(sim, connect) -> None:
    aid = sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280")
    connect(password="***")
    event = await first_payload(single(aid))
    assert (event["status"], event["kind"]) == ("failed", "api_error")
    assert "placeholder '***'" in event["message"]
    assert sim.state.count() == 0


async def test_a_missing_connection_fails_the_trigger_loudly(sim, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowNotFoundException

    monkeypatch.delenv("AIRFLOW_CONN_ONECODEX_GONE", raising=False)
    spec = WaitSpec.build("alignments", record_id="a1a1000000001280").to_dict()
    trigger = OneCodexAnalysisTrigger(spec=spec, onecodex_conn_id="onecodex_gone", poll_interval=0.02)
    with pytest.raises(AirflowNotFoundException, match="onecodex_gone"):
        await first_payload(trigger)


async def test_a_deferred_sample_wait_honours_retry_after_as_the_poke_does(sim, connect) -> None:
    from airflow_provider_onecodex.triggers.onecodex import OneCodexSampleTrigger

    sample = sim.state.add_sample("slow.fastq.gz", ready_after=0.0)
    sim.state.faults.script(
        f"/api/v1/samples/{sample}", [{"kind": "status", "status": 429, "retry_after": 1}]
    )
    event = await first_payload(OneCodexSampleTrigger(sample, "onecodex_default", 0.05))
    assert event["status"] == "success"
    first, second = [r.at for r in sim.state.requests if r.path == f"/api/v1/samples/{sample}"][:2]
    assert second - first >= 0.9  # One Codex's pause, not the 0.05 s interval
