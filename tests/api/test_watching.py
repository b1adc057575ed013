"""The high-water mark of event watches: ties, unordered ids, bursts, pending records, events."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_onecodex.api import events as ev
from airflow_provider_onecodex.api import news
from airflow_provider_onecodex.api import watching as w
from airflow_provider_onecodex.api.matching import compile_where

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=1)


def at(seconds: float) -> str:
    return w.format_timestamp(T0 + timedelta(seconds=seconds))


def sample(ident: str, seconds: float, status: str = "available", **extra: object) -> dict:
    return {"id": ident, "created_at": at(seconds), "status": status, **extra}


START = w.first_mark(None, T0)


def new_samples(mark: w.Mark, records: list[dict], **kwargs: object) -> w.Step:
    kwargs.setdefault("now", NOW)
    return w.step(mark, records, rule=news.sample_rule("available"), payload=news.sample_payload, **kwargs)


def fired(result: w.Step) -> list[str]:
    return [e["sample_id"] for e in result.events]


def hexid(n: int) -> str:
    return f"{n:016x}"


def test_listing_query_is_created_at_gte_oldest_first():
    assert w.listing_query(at(0)) == ({"created_at": {"$gte": at(0)}}, {"created_at": False})


def test_first_mark_is_now_unless_start_from():
    assert w.first_mark(None, T0) == w.Mark(at(0), (), at(0))
    assert w.first_mark(w.validate_start_from("2026-05-01T14:00:00+02:00"), NOW) == w.Mark(at(0), (), at(0))


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", datetime(2026, 1, 1)])
def test_bad_start_from_is_refused(bad):
    with pytest.raises(ValueError, match="start_from"):
        w.validate_start_from(bad)


def test_records_sharing_a_timestamp_are_not_dropped():
    mark = START
    first = new_samples(mark, [sample(hexid(1), 5), sample(hexid(2), 5)])
    assert fired(first) == [hexid(1), hexid(2)]
    assert first.mark == w.Mark(at(5), (hexid(1), hexid(2)), at(0))
    # a third sample with the same created_at shows up on the next poll (>= re-lists the tie)
    second = new_samples(first.mark, [sample(hexid(2), 5), sample(hexid(3), 5), sample(hexid(1), 5)])
    assert fired(second) == [hexid(3)]
    assert second.mark == w.Mark(at(5), (hexid(1), hexid(2), hexid(3)), at(0))
    # nothing new: nothing fires, the mark stays
    assert (
        new_samples(second.mark, [sample(hexid(3), 5), sample(hexid(1), 5), sample(hexid(2), 5)]).events == []
    )


def test_ids_carry_no_order():
    ids = [hexid(n) for n in (0xFFFF, 0x1, 0xABCDEF, 0x42)]  # created in this order
    records = [sample(ident, seconds) for seconds, ident in enumerate(ids, start=1)]
    random.Random(3).shuffle(records)
    result = new_samples(START, records)
    assert fired(result) == ids
    assert result.mark == w.Mark(at(4), tuple(sorted(ids)), at(0))  # seen: the late window's ids


def test_records_created_before_the_start_are_never_news():
    result = new_samples(w.first_mark(at(10), NOW), [sample(hexid(1), 9), sample(hexid(2), 10)])
    assert fired(result) == [hexid(2)]


def test_a_record_visible_late_is_still_seen_within_the_late_window():
    first = new_samples(START, [sample(hexid(1), 200), sample(hexid(2), 300)])
    assert w.listing_from(first.mark) == at(300 - w.LATE_WINDOW)
    # committed late: created before the mark, listed only now
    late = [sample(hexid(3), 250), sample(hexid(4), 300 - w.LATE_WINDOW - 1)]
    second = new_samples(first.mark, [*late, sample(hexid(2), 300), sample(hexid(1), 200)])
    assert fired(second) == [hexid(3)]  # hexid(4) is older than the window: not listed by a poll
    assert second.mark.since == at(300)
    assert new_samples(second.mark, [sample(hexid(3), 250), sample(hexid(2), 300)]).events == []


def test_a_burst_of_500_fires_once_each_in_created_at_order():
    records = [sample(hexid(n + 1), 1 + n // 7) for n in range(500)]  # 7 per timestamp
    random.Random(1).shuffle(records)
    result = new_samples(START, records)
    assert len(result.events) == 500 == len(set(fired(result)))
    assert [e["created_at"] for e in result.events] == sorted(e["created_at"] for e in result.events)
    again = new_samples(result.mark, [r for r in records if r["created_at"] >= result.mark.since])
    assert again.events == []


def test_a_cut_listing_continues_where_it_stopped():
    records = sorted((sample(hexid(n + 1), n // 3) for n in range(30)), key=lambda r: r["created_at"])
    mark, got = START, []
    for _ in range(10):
        listing = [r for r in records if r["created_at"] >= mark.since][:8]  # server cuts at 8
        result = new_samples(mark, listing, truncated=len(listing) == 8)
        got += fired(result)
        mark = result.mark
    assert got == [r["id"] for r in records]


def test_a_record_on_its_way_pins_the_mark_and_fires_when_ready():
    mark = START
    first = new_samples(mark, [sample(hexid(1), 1, "importing"), sample(hexid(2), 2)])
    assert fired(first) == [hexid(2)]
    assert (first.mark.since, first.mark.seen) == (at(1), (hexid(2),))
    second = new_samples(first.mark, [sample(hexid(1), 1, "available"), sample(hexid(2), 2)])
    assert fired(second) == [hexid(1)]
    assert (second.mark.since, set(second.mark.seen)) == (at(2), {hexid(1), hexid(2)})


def test_failed_samples_settle_without_firing_and_waiting_has_a_limit():
    result = new_samples(
        START,
        [sample(hexid(1), 1, "failed_validation"), sample(hexid(2), 2, "validating")],
        max_wait=60.0,
    )
    assert result.events == []
    assert result.mark.since == at(2)
    assert any("gave up" in note for note in result.notes)


def test_a_malformed_record_is_skipped_with_a_note_not_fired():
    result = new_samples(START, [sample(hexid(1), 1, "bogus"), {"id": hexid(2), "created_at": "x"}])
    assert result.events == []
    assert len(result.notes) == 2


def test_the_watchers_filter_applies_to_records_that_fire():
    match = compile_where("samples", {"tags": {"$contains": "00000000000000aa"}})
    records = [sample(hexid(1), 1, tags=["00000000000000aa"]), sample(hexid(2), 2, tags=[])]
    result = new_samples(START, records, match=match)
    assert fired(result) == [hexid(1)]
    assert hexid(2) in result.mark.seen  # settled all the same: not re-examined


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [("any", ["a1", "a2"]), ("success", ["a1"]), ("failure", ["a2"])],
)
def test_analysis_completion_by_outcome(outcome, expected):
    records = [
        {"id": "a1", "created_at": at(1), "complete": True, "success": True, "error_msg": ""},
        {"id": "a2", "created_at": at(2), "complete": True, "success": False, "error_msg": "bad"},
        {"id": "a3", "created_at": at(3), "complete": False, "success": False},
    ]
    result = w.step(
        START,
        records,
        rule=news.analysis_rule(outcome),
        payload=lambda r: news.analysis_payload("alignments", r),
        now=NOW,
    )
    assert [e["analysis_id"] for e in result.events] == expected
    assert result.mark.since == at(3)  # a3 still running


def test_slim_records_and_payloads_hold_no_links():
    record = {
        "$uri": "/api/v1/classifications/0123456789abcdef",
        "created_at": at(0),
        "complete": True,
        "success": True,
        "error_msg": None,
        "sample": {"$ref": "/api/v1/samples/fedcba9876543210"},
        "job": {"$ref": "/api/v1/jobs/1111111111111111"},
        "results_uri": "https://bucket.s3.amazonaws.com/x?X-Amz-Signature=secret",
    }
    slim = news.slim_record("classifications", record)
    assert "results_uri" not in slim
    payload = news.analysis_payload("classifications", slim)
    assert payload["sample_id"] == "fedcba9876543210"
    assert payload["outcome"] == "success"
    assert "Signature" not in str(payload)


def test_mark_round_trips_and_corrupt_marks_are_refused():
    mark = w.Mark(at(3), ("b", "a"), at(0))
    assert w.Mark.from_json(mark.to_json()) == w.Mark(at(3), ("a", "b"), at(0))
    assert w.Mark.from_json({"since": at(3), "seen": []}) == w.Mark(at(3))
    for bad in (None, {"since": "nope", "seen": []}, {"since": at(0), "seen": "a"}):
        with pytest.raises(ValueError):
            w.Mark.from_json(bad)


def event(ident: str, kind: str, status: str = "success") -> dict:
    return {"$uri": f"/api/v1/events/{ident}", "status": status, "payload": {"event_type": kind}}


def test_events_first_listing_starts_at_now_then_fires_unseen_matching_types():
    old = [ev.event_payload(event(hexid(1), "sample.uploaded"))]
    first = ev.event_step(w.Mark(None), old, ["sample.uploaded"])
    assert first.events == []
    listing = [
        *old,
        *map(ev.event_payload, [event(hexid(2), "analysis.failed"), event(hexid(3), "sample.uploaded")]),
    ]
    second = ev.event_step(first.mark, listing, ["sample.uploaded"])
    assert [e["event_id"] for e in second.events] == [hexid(3)]
    assert set(second.mark.seen) == {hexid(1), hexid(2), hexid(3)}
    # events that aged out of the listing are forgotten
    third = ev.event_step(second.mark, [ev.event_payload(event(hexid(3), "sample.uploaded"))], ["*"])
    assert third.events == [] and third.mark.seen == (hexid(3),)
    assert w.Mark.from_json(third.mark.to_json()) == third.mark


def test_event_payload_string_form_and_ids_only():
    e = {"$uri": f"/api/v1/events/{hexid(9)}", "status": "retryable",
         "payload": '{"event_type": "sample.uploaded", "sample": {"$ref": "/api/v1/samples/0123456789abcdef"},'
                    ' "download_uri": "https://x/?sig=1"}'}  # fmt: skip
    assert ev.event_payload(e) == {
        "kind": "event",
        "event_id": hexid(9),
        "event_type": "sample.uploaded",
        "status": "retryable",
        "sample_id": "0123456789abcdef",
    }


def test_error_delay_backs_off_and_honours_retry_after():
    assert w.error_delay(60, 1, None) == 60
    assert w.error_delay(60, 3, None) == 240
    assert w.error_delay(60, 10, None) == 480
    assert w.error_delay(60, 1, 300.0) == 300
    assert w.error_delay(600, 9, None) == 900


@pytest.mark.parametrize(
    ("where", "message"),
    [({"created_at": 1}, "not 'created_at'"), ({"status": {"$regex": "a"}}, "not supported"),
     ({"size": "big"}, "expected a number"), ({"tags": {"$eq": "x"}}, "use one of")],
)  # fmt: skip
def test_unsupported_filters_are_refused(where, message):
    with pytest.raises(ValueError, match=message):
        compile_where("samples", where)


def test_filters_on_analyses():
    match = compile_where(
        "alignments", {"sample": {"$ref": "/api/v1/samples/0123456789abcdef"}, "tax_id": {"$in": ["1280"]}}
    )
    assert match({"sample": "0123456789abcdef", "tax_id": "1280"})
    assert not match({"sample": "0123456789abcdef", "tax_id": "562"})
