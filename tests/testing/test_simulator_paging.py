"""Cursor paging (samples, metadata) in the simulator, and the hooks' listings in both modes: a
server that pages by cursor, and one that ignores ``X-Pagination-Style`` (offset paging only)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import requests

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from airflow_provider_onecodex.triggers.connection import ConnectionClient

N_EXTRA = 230  # with the demo's 3 own samples: 233 own samples, 237 metadata records
CURSOR = {"X-Pagination-Style": "cursor"}


@pytest.fixture
def many(onecodex_simulator, onecodex_connection):
    state = onecodex_simulator.state
    for i in range(N_EXTRA):
        state.add_sample(f"bulk_{i:03d}.fastq.gz", metadata={"external_sample_id": f"B-{i:03d}"})
    state.reset_counters()
    return onecodex_simulator


def raw(sim, path, headers=None, **params):
    return requests.get(
        f"{sim.base_url}/api/v1/{path}", params=params, headers=headers, auth=(sim.api_key, ""), timeout=5
    )


def uris(response):
    assert response.status_code == 200, response.text
    return [r["$uri"] for r in response.json()]


def queries(sim, path):
    return [parse_qs(r.query) for r in sim.state.requests if r.path == f"/api/v1/{path}"]


def test_cursor_pages_cover_the_listing_once_without_counts(many):
    everything = uris(raw(many, "samples", per_page=1000))
    seen, cursor, answers = [], None, 0
    while True:
        params = {"per_page": 100, **({"cursor": cursor} if cursor else {})}
        response = raw(many, "samples", CURSOR, **params)
        answers += 1
        assert "X-Total-Count" not in response.headers and "Link" not in response.headers
        seen += uris(response)
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
    assert answers == 3 and seen == everything and len(seen) == N_EXTRA + 3


def test_cursor_mode_keeps_where_and_sort_and_refuses_bad_cursors(many):
    where = '{"filename": {"$startswith": "bulk_1"}}'
    first = raw(many, "samples", CURSOR, per_page=50, where=where, sort='{"filename": true}')
    rest = raw(many, "samples", CURSOR, per_page=50, where=where, sort='{"filename": true}',
               cursor=first.headers["X-Next-Cursor"])  # fmt: skip
    names = [r["filename"] for r in first.json() + rest.json()]
    assert names == sorted((f"bulk_{i:03d}.fastq.gz" for i in range(100, 200)), reverse=True)
    assert "X-Next-Cursor" not in rest.headers
    assert raw(many, "samples", CURSOR, cursor="not-a-cursor").status_code == 400
    # other routes ignore the header, as the API's do
    assert "X-Total-Count" in raw(many, "alignments", CURSOR).headers


@pytest.mark.parametrize("server_pages_by_cursor", [True, False], ids=["cursor-server", "offset-server"])
@pytest.mark.parametrize("resource", ["samples", "metadata"])
def test_hook_lists_samples_and_metadata_in_both_modes(many, resource, server_pages_by_cursor):
    many.state.cursor_pagination = server_pages_by_cursor
    expected = uris(raw(many, resource, per_page=1000))
    many.state.reset_counters()

    listed = OneCodexHook().list_records(resource, per_page=100)

    assert [r["$uri"] for r in listed] == expected
    sent = queries(many, resource)
    if server_pages_by_cursor:
        assert len(sent) == 3 and "page" not in sent[0] and "cursor" not in sent[0]
        assert all("cursor" in q and "page" not in q for q in sent[1:])
    else:  # the first answer had no X-Next-Cursor: offset paging from page 2 on
        assert [q.get("page") for q in sent] == [None, ["2"], ["3"]]


@pytest.mark.parametrize("server_pages_by_cursor", [True, False], ids=["cursor-server", "offset-server"])
async def test_async_hook_lists_samples_in_both_modes(many, server_pages_by_cursor):
    many.state.cursor_pagination = server_pages_by_cursor
    expected = uris(raw(many, "samples", per_page=1000))
    many.state.reset_counters()

    connection = ConnectionClient("onecodex_default")
    try:
        listed = await (await connection.current()).run(ops.list_records("samples", per_page=100))
    finally:
        await connection.aclose()

    assert [r["$uri"] for r in listed] == expected
    assert len(queries(many, "samples")) == 3


def test_hook_listing_other_routes_stays_in_offset_mode(many):
    OneCodexHook().list_records("tags", per_page=2)
    assert [q["page"] for q in queries(many, "tags")] == [["1"], ["2"]]


def test_max_records_in_cursor_mode_stops_early(many):
    listed = OneCodexHook().list_records("metadata", per_page=50, max_records=120)
    assert len(listed) == 120 and len(queries(many, "metadata")) == 3
