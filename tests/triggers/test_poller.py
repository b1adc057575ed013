"""The shared poller: many deferred waits, few listing requests, and clean departures."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any
from urllib.parse import parse_qs

import pytest

from airflow_provider_onecodex.api.ids import id_from_uri
from airflow_provider_onecodex.api.waiting import WaitSpec
from airflow_provider_onecodex.triggers import poller as poller_module
from airflow_provider_onecodex.triggers.onecodex import OneCodexAnalysisTrigger
from airflow_provider_onecodex.triggers.poller import ID_BATCH, SharedPoller
from tests._modes import first_payload
from tests._reliability import until

DEMO_SAMPLE = "a1b2c3d4e5f60718"


def trigger_for(interval: float, **spec: Any) -> OneCodexAnalysisTrigger:
    """A trigger on ``alignments`` that gives up at the first failed poll."""
    return OneCodexAnalysisTrigger(
        spec=WaitSpec.build("alignments", **spec).to_dict(),
        onecodex_conn_id="onecodex_default",
        poll_interval=interval,
        max_consecutive_failures=1,
    )


def the_poller() -> SharedPoller:
    (only,) = poller_module._POLLERS.values()
    return only


def listing_wheres(sim: Any) -> list[dict[str, Any]]:
    """The ``where`` of every listing request the simulator saw, in order."""
    return [
        json.loads(parse_qs(r.query)["where"][0])
        for r in sim.state.requests
        if r.path == "/api/v1/alignments"
    ]


async def test_waits_cost_one_listing_per_batch_per_round_and_fire_when_final(
    sim, connect, monkeypatch
) -> None:
    n, interval = 2 * ID_BATCH + 50, 0.1
    ids = [sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280") for _ in range(n)]
    rounds: list[int] = []  # requests seen by the simulator when each round started
    poll_once = SharedPoller.poll_once

    async def counted(self: SharedPoller) -> None:
        rounds.append(sim.state.count())
        await poll_once(self)

    monkeypatch.setattr(SharedPoller, "poll_once", counted)
    tasks = {aid: asyncio.create_task(first_payload(trigger_for(interval, record_id=aid))) for aid in ids}
    await until(lambda: len(rounds) >= 3)
    shared = the_poller()
    assert len(shared.waiters) == n

    # Every round so far: ceil(n / ID_BATCH) = 3 listing requests, no GET per id.
    per_round = math.ceil(n / ID_BATCH)
    finished_rounds = len(rounds) - 1
    assert per_round == 3
    assert rounds[1 : finished_rounds + 1] == [per_round * k for k in range(1, finished_rounds + 1)]
    assert sim.state.count("/api/v1/alignments/") == 0
    assert all(len(w["$uri"]["$in"]) <= ID_BATCH for w in listing_wheres(sim))
    # a full batch's request line fits gunicorn's default limit (4094 bytes)
    lines = [f"GET {r.path}?{r.query} HTTP/1.1" for r in sim.state.requests]
    assert max(len(line) for line in lines) <= 4094
    assert max(len(line) for line in lines) > 3000  # the batch uses most of it

    # Ten alignments complete: their triggers fire at the next round, the others keep waiting.
    done = ids[::25]
    round_at_completion = len(rounds)
    for aid in done:
        sim.state.set_outcome(aid, success=True)
    fired = await asyncio.wait_for(asyncio.gather(*(tasks[a] for a in done)), 5)
    assert [e["status"] for e in fired] == ["success"] * len(done)
    assert [e["value"]["$uri"].rsplit("/", 1)[1] for e in fired] == done
    assert len(rounds) <= round_at_completion + 1
    waiting = [t for a, t in tasks.items() if a not in done]
    assert not any(t.done() for t in waiting)
    assert len(shared.waiters) == n - len(done)

    # Cancelled triggers leave the poller; the last one takes it down.
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    assert not shared.waiters
    assert not poller_module._POLLERS
    assert shared._task is not None
    await until(shared._task.done)


async def test_a_cancelled_trigger_leaves_the_poller(sim, connect) -> None:
    first, second = (sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280") for _ in range(2))
    one = asyncio.create_task(first_payload(trigger_for(0.05, record_id=first)))
    two = asyncio.create_task(first_payload(trigger_for(0.05, record_id=second)))
    await until(lambda: bool(poller_module._POLLERS) and len(the_poller().waiters) == 2)
    shared = the_poller()

    one.cancel()
    with pytest.raises(asyncio.CancelledError):
        await one
    assert [w.spec.ids for w in shared.waiters] == [(second,)]
    assert poller_module._POLLERS and not shared._task.done()  # type: ignore[union-attr]
    before = sim.state.count()
    await until(lambda: sim.state.count() >= before + 2)
    # the request before + 1 may come from a round that began before the cancel; the next cannot
    assert listing_wheres(sim)[-1] == {"$uri": {"$in": [f"/api/v1/alignments/{second}"]}}

    two.cancel()
    await asyncio.gather(two, return_exceptions=True)
    assert not shared.waiters and not poller_module._POLLERS
    await until(shared._task.done)  # type: ignore[union-attr]
    settled = sim.state.count()
    await asyncio.sleep(0.15)
    assert sim.state.count() == settled  # nothing polls any more


async def test_a_failed_chunk_fails_only_its_own_waits(sim, connect) -> None:
    ids = [sim.state.add_alignment(DEMO_SAMPLE, tax_id="562", complete_after=0) for _ in range(ID_BATCH + 50)]
    sim.state.faults.script(path_regex=r"^/api/v1/alignments$", faults=[503])  # the first request only
    results = await asyncio.wait_for(
        asyncio.gather(*(first_payload(trigger_for(0.05, record_id=aid)) for aid in ids)), 10
    )
    faulted = sim.state.requests[0]
    assert faulted.status == 503
    in_failed_chunk = {id_from_uri(u) for u in json.loads(parse_qs(faulted.query)["where"][0])["$uri"]["$in"]}
    assert len(in_failed_chunk) == ID_BATCH
    outcomes = dict(zip(ids, results, strict=True))
    for aid, event in outcomes.items():
        if aid in in_failed_chunk:  # max_consecutive_failures=1: the failed request ends these waits
            assert event["status"] == "failed" and event["kind"] == "transient", event
        else:
            assert event["status"] == "success" and event["value"]["$uri"].endswith(aid), event
    assert sum(e["status"] == "success" for e in results) == 50
    assert sim.state.count("/api/v1/alignments") == 2


async def test_sample_waits_share_listings_by_tax_id(sim, connect) -> None:
    a, b, c = (sim.state.add_sample(f"group_{x}_R1.fastq.gz") for x in "abc")
    a_staph = sim.state.add_alignment(a, tax_id="1280", complete_after=0)
    b_staph = sim.state.add_alignment(b, tax_id="1280", complete_after=0)
    a_coli = sim.state.add_alignment(a, tax_id="562", complete_after=0)
    c_any = sim.state.add_alignment(c, tax_id="28901", complete_after=0)
    waits = {
        "a-1280": trigger_for(0.05, sample_id=a, tax_id="1280"),
        "b-1280": trigger_for(0.05, sample_id=b, tax_id="1280"),
        "a-562": trigger_for(0.05, sample_id=a, tax_id="562"),
        "c": trigger_for(0.05, sample_id=c),
    }
    results = await asyncio.wait_for(asyncio.gather(*(first_payload(t) for t in waits.values())), 10)
    got = {
        name: [id_from_uri(r["$uri"]) for r in event["value"]]
        for name, event in zip(waits, results, strict=True)
    }
    assert got == {"a-1280": [a_staph], "b-1280": [b_staph], "a-562": [a_coli], "c": [c_any]}

    # One round: one listing per (tax_id, filters) group, samples of a group together.
    wheres = listing_wheres(sim)
    assert len(wheres) == 3
    by_tax = {w.get("tax_id"): sorted(id_from_uri(s) or "" for s in w["sample"]["$in"]) for w in wheres}
    assert by_tax == {"1280": sorted([a, b]), "562": [a], None: [c]}
