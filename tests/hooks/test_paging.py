"""Listings under misbehaving pagination: lazy, complete or failing loudly, never silently partial.

Ten alignments of one sample, complete from the start, listed oldest first (the bulk scenario's
``created_at`` grows with the position), so page ``n`` of ``per_page=2`` holds positions
``2n-2`` and ``2n-1``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import pytest

from airflow_provider_onecodex.api.errors import OneCodexResponseError, OneCodexServerError
from airflow_provider_onecodex.api.ops import Listing
from airflow_provider_onecodex.api.paging import next_page, pager_of
from airflow_provider_onecodex.testing.faults import Fault
from airflow_provider_onecodex.triggers.connection import ConnectionClient
from bench.scenarios import make_bulk_scenario
from tests._reliability import ALIGNMENTS, connect  # noqa: F401  (connect: a fixture)

N = 10
SORT = {"created_at": False}


@pytest.fixture(scope="module")
def scenario():
    return make_bulk_scenario(N, seed=11, max_complete_after=0.0, failure_rate=0.0)


@pytest.fixture
def sim(onecodex_simulator, scenario):
    """The plugin's session simulator, reset to this module's scenario."""
    onecodex_simulator.state.reset(scenario)
    return onecodex_simulator


@pytest.fixture
def ids(scenario):
    return [a["id"] for a in scenario["analyses"]]


def ids_of(records):
    return [r["$uri"].rsplit("/", 1)[-1] for r in records]


def sync_hook(connect, sim, **extra):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    return OneCodexHook(connect(sim, **extra))


def run_async(connect, sim, body, **extra):
    """``await body(client)``: the triggers' async client (connection read now) on ``sim``; its result."""

    async def main():
        hook = ConnectionClient(connect(sim, **extra))
        try:
            return await body(await hook.current())
        finally:
            await hook.aclose()

    return asyncio.run(main())


def test_sync_listing_is_lazy_target_on_page_3_of_5_costs_3_requests(sim, connect, ids):
    target = ids[4]
    seen = []
    for record in sync_hook(connect, sim).iter_alignments(sort=SORT, per_page=2):
        seen.append(record)
        if record["$uri"].endswith(target):
            break
    assert ids_of(seen) == ids[:5]
    assert sim.state.count(ALIGNMENTS) == 3
    assert [parse_qs(r.query)["page"] for r in sim.state.requests] == [["1"], ["2"], ["3"]]


def test_async_paging_stops_when_the_target_is_found_page_3_of_5_costs_3_requests(sim, connect, ids):
    target = ids[5]

    async def find(hook):
        seen = []
        listing = Listing("alignments", sort=SORT, per_page=2)
        pager = pager_of(listing, 100)
        while not pager.done:  # the async driver runs the same page operation as the sync one
            seen += await hook.run(next_page(listing, pager))
            if any(record["$uri"].endswith(target) for record in seen):
                break
        return seen

    assert ids_of(run_async(connect, sim, find)) == ids[:6]
    assert sim.state.count(ALIGNMENTS) == 3


@pytest.mark.parametrize(
    ("per_page", "requests"), [(3, 4), (5, 3)], ids=["short-last-page", "empty-last-page"]
)
def test_without_x_total_count_the_listing_still_reaches_the_last_page(sim, connect, ids, per_page, requests):
    sim.state.faults.set_rate(1.0, ["no_total"], path_prefix=ALIGNMENTS)
    records = sync_hook(connect, sim).list_alignments(sort=SORT, per_page=per_page)
    assert ids_of(records) == ids
    assert sim.state.count(ALIGNMENTS) == requests == sim.state.faults.counts["no_total"]

    sim.state.reset_counters()
    records = run_async(connect, sim, lambda h: h.list_records("alignments", sort=SORT, per_page=per_page))
    assert ids_of(records) == ids
    assert sim.state.count(ALIGNMENTS) == requests


def test_empty_pages_while_the_count_promises_more_stop_with_an_error(sim, connect):
    sim.state.faults.script(ALIGNMENTS, [None, *[Fault.vanish(drop=1000)] * 10])
    with pytest.raises(OneCodexResponseError, match=f"X-Total-Count promised {N} records but 3 pages"):
        sync_hook(connect, sim).list_alignments(sort=SORT, per_page=2)
    assert sim.state.count(ALIGNMENTS) == 4  # page 1, then three empty pages: the cap

    sim.state.faults.clear()
    sim.state.reset_counters()
    sim.state.faults.script(ALIGNMENTS, [None, *[Fault.vanish(drop=1000)] * 10])
    with pytest.raises(OneCodexResponseError, match="3 pages in a row were empty"):
        run_async(connect, sim, lambda h: h.list_records("alignments", sort=SORT, per_page=2))
    assert sim.state.count(ALIGNMENTS) == 4


def test_an_item_vanishing_from_a_page_fails_the_listing_rather_than_returning_it_short(sim, connect):
    sim.state.faults.script(ALIGNMENTS, [Fault.vanish(drop=1)])
    with pytest.raises(OneCodexResponseError, match=f"promised {N} records"):
        sync_hook(connect, sim).list_alignments(sort=SORT, per_page=2)


@pytest.mark.parametrize("max_retries", [0, 2])
def test_a_500_on_page_2_raises_rather_than_returning_page_1(sim, connect, max_retries):
    from airflow_provider_onecodex.operators.onecodex import OneCodexListAlignmentsOperator

    def fail_page_2():
        sim.state.faults.clear()
        sim.state.reset_counters()
        sim.state.faults.script(ALIGNMENTS, [None, *[Fault.http_error(500)] * (max_retries + 1)])

    fail_page_2()
    with pytest.raises(OneCodexServerError):
        sync_hook(connect, sim, max_retries=max_retries).list_alignments(sort=SORT, per_page=2)
    assert sim.state.count(ALIGNMENTS) == 2 + max_retries

    fail_page_2()
    with pytest.raises(OneCodexServerError):
        run_async(
            connect,
            sim,
            lambda h: h.list_records("alignments", sort=SORT, per_page=2),
            max_retries=max_retries,
        )
    assert sim.state.count(ALIGNMENTS) == 2 + max_retries

    fail_page_2()
    operator = OneCodexListAlignmentsOperator(
        task_id="list", sort=SORT, per_page=2, onecodex_conn_id=connect(sim, max_retries=max_retries)
    )
    with pytest.raises(OneCodexServerError):
        operator.execute({})  # no XCom value: the task fails instead of pushing 2 of 10 records
    assert sim.state.count(ALIGNMENTS) == 2 + max_retries
