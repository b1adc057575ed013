"""Records by id in batches whose request line stays under gunicorn's limit (api/batch.py)."""

from __future__ import annotations

import httpx
import pytest
import requests

from airflow_provider_onecodex.api.batch import ID_BATCH, REQUEST_LINE_LIMIT, list_by_ids, records_by_ids
from airflow_provider_onecodex.api.ops import Listing
from airflow_provider_onecodex.api.paging import next_page, pager_of
from airflow_provider_onecodex.api.resources import RESOURCES


def _request_lines(listing: Listing) -> list[str]:
    call = next(next_page(listing, pager_of(listing, 100)))
    url = "http://onecodex.test" + call.path
    prepared = requests.Request("GET", url, params=call.params).prepare()
    encoded = httpx.URL(url, params=call.params)
    return [f"GET {prepared.path_url} HTTP/1.1", f"GET {encoded.raw_path.decode()} HTTP/1.1"]


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_a_full_batch_fits_gunicorns_request_line_with_either_client(resource):
    ids = [f"{i:016x}" for i in range(10**15, 10**15 + ID_BATCH)]
    listing = next(records_by_ids(resource, ids))
    assert len(listing.where["$uri"]["$in"]) == ID_BATCH
    for line in _request_lines(listing):
        assert len(line.encode()) <= REQUEST_LINE_LIMIT, (resource, len(line))


def test_ids_are_sent_in_batches_and_checked_before_any_request():
    ids = [f"{i:016x}" for i in range(2 * ID_BATCH + 1)]
    op = list_by_ids("alignments", ids)
    sizes = [len(next(op).where["$uri"]["$in"])]
    try:
        while True:
            sizes.append(len(op.send([]).where["$uri"]["$in"]))
    except StopIteration as stop:
        assert stop.value == []
    assert sizes == [ID_BATCH, ID_BATCH, 1]
    with pytest.raises(ValueError, match=r"ids\[0\]"):
        next(list_by_ids("alignments", ["nope"]))
    with pytest.raises(ValueError, match="resource must be one of"):
        next(list_by_ids("alignmentz", ids))


def test_no_ids_no_request():
    with pytest.raises(StopIteration):
        next(records_by_ids("tags", []))
