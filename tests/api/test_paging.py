"""The pagination state machine, driven by hand: page after page, as the clients do."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.errors import OneCodexResponseError
from airflow_provider_onecodex.api.paging import (
    DEFAULT_PER_PAGE,
    MAX_EMPTY_PAGES,
    MAX_PER_PAGE,
    Pager,
    parse_total_count,
    validate_limit,
    validate_per_page,
)

PATH = "/api/v1/alignments"


def records(start, count):
    return [{"$uri": f"{PATH}/{i:016x}"} for i in range(start, start + count)]


def drive(pager, pages, total):
    """Feed ``pages`` (lists of items) to ``pager`` until it is done; return (requests, items)."""
    out, requests = [], []
    for page in pages:
        if pager.done:
            break
        requests.append(pager.params())
        out.extend(pager.accept(page, total))
    return requests, out


def test_defaults_and_first_params():
    pager = Pager(PATH)
    assert pager.params() == {"page": 1, "per_page": DEFAULT_PER_PAGE}
    assert not pager.done


def test_stops_on_total_count():
    pager = Pager(PATH, per_page=3)
    pages = [records(0, 3), records(3, 3), records(6, 1), records(99, 3)]
    requests, items = drive(pager, pages, total=7)
    assert requests == [{"page": 1, "per_page": 3}, {"page": 2, "per_page": 3}, {"page": 3, "per_page": 3}]
    assert items == records(0, 7)
    assert pager.done and pager.seen == 7 and pager.total == 7


def test_stops_when_total_reached_on_a_full_page():
    pager = Pager(PATH, per_page=2)
    requests, items = drive(pager, [records(0, 2), records(2, 2), records(9, 2)], total=4)
    assert len(requests) == 2 and len(items) == 4 and pager.done


def test_stops_on_short_page_without_count():
    pager = Pager(PATH, per_page=3)
    requests, items = drive(pager, [records(0, 3), records(3, 2), records(9, 3)], total=None)
    assert len(requests) == 2
    assert items == records(0, 5)
    assert pager.done


def test_full_page_without_count_asks_for_more_then_empty_page_ends():
    pager = Pager(PATH, per_page=2)
    requests, items = drive(pager, [records(0, 2), records(2, 2), []], total=None)
    assert len(requests) == 3 and len(items) == 4 and pager.done


def test_short_page_continues_when_count_promises_more():
    pager = Pager(PATH, per_page=5)
    requests, items = drive(pager, [records(0, 5), records(5, 2), records(7, 3)], total=10)
    assert len(requests) == 3
    assert items == records(0, 10)
    assert pager.done


def test_empty_pages_while_count_promises_more_raise():
    pager = Pager(PATH, per_page=2)
    pager.accept(records(0, 2), 10)
    for _ in range(MAX_EMPTY_PAGES - 1):
        assert pager.accept([], 10) == []
        assert not pager.done
    with pytest.raises(OneCodexResponseError) as info:
        pager.accept([], 10)
    exc = info.value
    assert exc.path == PATH
    assert exc.transient is True
    assert "10" in exc.message and str(MAX_EMPTY_PAGES) in exc.message


def test_empty_page_counter_resets_after_a_non_empty_page():
    pager = Pager(PATH, per_page=2)
    for _ in range(MAX_EMPTY_PAGES - 1):
        pager.accept([], 20)
    pager.accept(records(0, 1), 20)
    for _ in range(MAX_EMPTY_PAGES - 1):
        pager.accept([], 20)
    assert not pager.done
    with pytest.raises(OneCodexResponseError):
        pager.accept([], 20)


def test_max_records_truncates_and_stops():
    pager = Pager(PATH, per_page=4, max_records=6)
    requests, items = drive(pager, [records(0, 4), records(4, 4), records(8, 4)], total=100)
    assert len(requests) == 2
    assert items == records(0, 6)
    assert pager.seen == 6 and pager.done


def test_max_records_smaller_than_one_page():
    pager = Pager(PATH, per_page=10, max_records=1)
    assert pager.accept(records(0, 10), None) == records(0, 1)
    assert pager.done


def test_max_records_above_total_stops_on_total():
    pager = Pager(PATH, per_page=2, max_records=50)
    requests, items = drive(pager, [records(0, 2), records(2, 1)], total=3)
    assert len(requests) == 2 and len(items) == 3 and pager.done


def test_max_pages_raises_when_more_remains():
    pager = Pager(PATH, per_page=2, max_pages=2)
    pager.accept(records(0, 2), 100)
    assert pager.page == 2
    with pytest.raises(ValueError, match="max_pages=2") as info:
        pager.accept(records(2, 2), 100)
    assert PATH in str(info.value) and not isinstance(info.value, OneCodexResponseError)


def test_max_pages_reached_exactly_at_the_end_is_fine():
    pager = Pager(PATH, per_page=2, max_pages=2)
    _, items = drive(pager, [records(0, 2), records(2, 2)], total=4)
    assert len(items) == 4 and pager.done


@pytest.mark.parametrize("value", [1, 50, DEFAULT_PER_PAGE, MAX_PER_PAGE])
def test_validate_per_page_ok(value):
    assert validate_per_page(value) == value


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (MAX_PER_PAGE + 1, ValueError),
        (10.0, TypeError),
        ("10", TypeError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_validate_per_page_bad(value, error):
    with pytest.raises(error) as info:
        validate_per_page(value, "page_size")
    assert "page_size" in str(info.value) and repr(value) in str(info.value)


def test_validate_limit():
    assert validate_limit(None) is None
    assert validate_limit(1) == 1
    assert validate_limit(10**6) == 10**6


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-3, ValueError), (1.0, TypeError), ("5", TypeError), (False, TypeError)],
)
def test_validate_limit_bad(value, error):
    with pytest.raises(error) as info:
        validate_limit(value)
    assert str(info.value) == f"max_records must be a positive int or None, got {value!r}"
    with pytest.raises(error) as info:
        validate_limit(value, "tail", "lines")
    assert str(info.value) == f"tail must be a positive int (lines) or None, got {value!r}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("46", 46), (" 0 ", 0), (None, None), ("", None), ("many", None), ("-1", None), ("4.5", None)],
)
def test_parse_total_count(header, expected):
    assert parse_total_count(header) == expected


# -- cursor mode (samples, metadata) ---------------------------------------------------------------


def drive_cursor(pager, answers):
    """Feed ``answers`` ([items, headers]) to ``pager``; return (requests as (params, headers), items)."""
    out, requests = [], []
    for items, headers in answers:
        if pager.done:
            break
        requests.append((pager.params(), pager.headers()))
        out.extend(pager.take(items, headers))
    return requests, out


def test_cursor_mode_follows_next_cursor_until_it_is_absent():
    pager = Pager("/api/v1/samples", per_page=2, cursor_mode=True)
    requests, out = drive_cursor(
        pager,
        [
            (records(0, 2), {"x-next-cursor": "c1"}),
            (records(2, 2), {"x-next-cursor": "c2"}),
            (records(4, 1), {}),
            (records(9, 9), {}),  # never asked for
        ],
    )
    cursor = {"X-Pagination-Style": "cursor"}
    assert requests == [
        ({"per_page": 2}, cursor),
        ({"per_page": 2, "cursor": "c1"}, cursor),
        ({"per_page": 2, "cursor": "c2"}, cursor),
    ]
    assert out == records(0, 5) and pager.done


def test_cursor_mode_falls_back_to_pages_when_the_server_ignores_it():
    pager = Pager("/api/v1/samples", per_page=2, cursor_mode=True)
    requests, out = drive_cursor(
        pager,
        [
            (records(0, 2), {"x-total-count": "5"}),
            (records(2, 2), {"x-total-count": "5"}),
            (records(4, 1), {"x-total-count": "5"}),
        ],
    )
    assert requests == [
        ({"per_page": 2}, {"X-Pagination-Style": "cursor"}),
        ({"page": 2, "per_page": 2}, {}),
        ({"page": 3, "per_page": 2}, {}),
    ]
    assert out == records(0, 5) and pager.done


def test_cursor_mode_one_page_without_cursor_or_count_ends_on_a_short_page():
    pager = Pager("/api/v1/metadata", per_page=3, cursor_mode=True)
    requests, out = drive_cursor(pager, [(records(0, 2), {}), (records(5, 5), {})])
    assert len(requests) == 1 and out == records(0, 2) and pager.done


@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_next_cursor_ends_the_listing(blank):
    pager = Pager("/api/v1/samples", per_page=2, cursor_mode=True)
    requests, out = drive_cursor(
        pager,
        [
            (records(0, 2), {"x-next-cursor": "c1"}),
            (records(2, 2), {"x-next-cursor": blank}),
            (records(4, 2), {}),
        ],
    )
    assert len(requests) == 2 and out == records(0, 4) and pager.done


def test_a_repeated_cursor_raises_instead_of_looping():
    pager = Pager("/api/v1/samples", per_page=2, cursor_mode=True)
    answers = [(records(0, 2), {"x-next-cursor": "c1"}), (records(2, 2), {"x-next-cursor": "c2"})]
    drive_cursor(pager, answers)
    with pytest.raises(OneCodexResponseError, match="repeated cursor 'c1' after 6 records"):
        pager.take(records(4, 2), {"x-next-cursor": "c1"})


def test_cursor_mode_stops_at_max_records_and_on_empty_pages():
    pager = Pager("/api/v1/samples", per_page=2, max_records=3, cursor_mode=True)
    requests, out = drive_cursor(
        pager, [(records(0, 2), {"x-next-cursor": "a"}), (records(2, 2), {"x-next-cursor": "b"})]
    )
    assert len(requests) == 2 and out == records(0, 3) and pager.done

    empty = Pager("/api/v1/samples", per_page=2, cursor_mode=True)
    with pytest.raises(OneCodexResponseError, match=f"{MAX_EMPTY_PAGES} pages in a row were empty"):
        drive_cursor(empty, [([], {"x-next-cursor": f"c{i}"}) for i in range(MAX_EMPTY_PAGES + 1)])


def test_cursor_mode_respects_max_pages():
    pager = Pager("/api/v1/samples", per_page=1, max_pages=2, cursor_mode=True)
    with pytest.raises(ValueError, match="max_pages=2"):
        drive_cursor(pager, [(records(i, 1), {"x-next-cursor": f"c{i}"}) for i in range(3)])
