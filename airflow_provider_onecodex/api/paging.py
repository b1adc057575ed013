"""Pagination of One Codex listings: offset (``page``/``per_page``, ``X-Total-Count``) and cursor.

One state machine, :class:`Pager`, drives the sync and the async listings. Offset mode stops when
the count header says everything was seen, on a short page when the header is missing, at
``max_records``, and raises instead of looping forever (``max_pages``) or silently returning a
partial listing (empty pages while the count promises more). Requests are built from ``page + 1``
rather than ``Link rel="next"`` because Link URLs drop ``where``/``sort``.

Cursor mode (samples and metadata, :data:`CURSOR_RESOURCES`; API reference §3 and the action
routes' §7): requests carry ``X-Pagination-Style: cursor`` and, after the first, ``cursor=<the
previous answer's X-Next-Cursor>``; an answer without ``X-Next-Cursor`` (or with an empty one) is
the last. When the very first answer has no ``X-Next-Cursor`` the server is taken not to page by
cursor, and the listing goes on in offset mode from page 2 (a cursor server whose listing fits in
one page costs one extra, empty request). A cursor the server already gave raises rather than
looping forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_onecodex.api.errors import OneCodexResponseError
from airflow_provider_onecodex.api.ops import ApiCall, Listing, Op

MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 100
DEFAULT_MAX_PAGES = 10_000
MAX_EMPTY_PAGES = 3
#: The one default of ``max_records`` for every listing of the hook and the operators: 1000
#: records (10 pages of 100), enough for a DAG step and bounded for XCom and public data. Pass
#: ``max_records=None`` for everything (the sensors and triggers do).
DEFAULT_MAX_RECORDS = 1000
#: routes that page by cursor when asked (the official client asks on these only)
CURSOR_RESOURCES = frozenset({"samples", "metadata"})
CURSOR_HEADER = "X-Pagination-Style"
NEXT_CURSOR_HEADER = "X-Next-Cursor"


def validate_per_page(value: object, name: str = "per_page") -> int:
    """``value`` as a page size in 1..1000, else ``TypeError``/``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int between 1 and {MAX_PER_PAGE}, got {value!r}")
    if not 1 <= value <= MAX_PER_PAGE:
        raise ValueError(f"{name} must be between 1 and {MAX_PER_PAGE}, got {value!r}")
    return value


def validate_limit(value: object, name: str = "max_records", unit: str | None = None) -> int | None:
    """An optional limit (``max_records``, a log's ``tail``...): ``None`` (no limit) or a positive
    int, else ``TypeError`` (not an int) / ``ValueError`` (< 1) naming ``name`` (and ``unit``)."""
    if value is None:
        return None
    wanted = f"a positive int ({unit}) or None" if unit else "a positive int or None"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be {wanted}, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return value


def validate_listing(listing: Listing) -> dict[str, Any]:
    """The fields of a :class:`~airflow_provider_onecodex.api.ops.Listing`, checked and normalized.

    :raises TypeError, ValueError: a bad ``resource``, ``where``, ``sort``, ``per_page``,
        ``max_records``, ``max_pages`` or ``variant``, named in the message with its value.
    """
    from airflow_provider_onecodex.api.resources import (
        VARIANTS_OF,
        validate_resource,
        validate_sort,
        validate_where,
    )

    resource = validate_resource(listing.resource)
    max_pages = listing.max_pages
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise ValueError(f"max_pages must be a positive int, got {max_pages!r}")
    variant = listing.variant
    if variant is not None and variant not in VARIANTS_OF.get(resource, frozenset()):
        allowed = sorted(VARIANTS_OF.get(resource, frozenset()))
        raise ValueError(f"variant must be one of {allowed} or None for {resource}, got {variant!r}")
    return {
        "resource": resource,
        "where": validate_where(listing.where),
        "sort": validate_sort(listing.sort),
        "per_page": None if listing.per_page is None else validate_per_page(listing.per_page),
        "max_records": validate_limit(listing.max_records),
    }


def pager_of(listing: Listing, page_size: int) -> Pager:
    """A fresh :class:`Pager` for ``listing`` (``page_size``: the connection's, when it sets none)."""
    per_page = listing.per_page or page_size
    cursor_mode = listing.resource in CURSOR_RESOURCES
    return Pager(listing.path, per_page, listing.max_records, listing.max_pages, cursor_mode)


def next_page(listing: Listing, pager: Pager) -> Op[list[Any]]:
    """The operation of one page request of ``listing``: returns its records (capped)."""
    from airflow_provider_onecodex.api.resources import query_params

    page = {k: str(v) for k, v in pager.params().items()}
    params = {**query_params(listing.where, listing.sort), **page}
    call = ApiCall(
        "GET", listing.path, params=params, expect=list, with_headers=True, headers=pager.headers() or None
    )
    items, headers = yield call
    return pager.take(items, headers)


def all_pages(listing: Listing, page_size: int) -> Op[list[Any]]:
    """The operation of a whole listing: every page until the :class:`Pager` says done."""
    pager = pager_of(listing, page_size)
    records: list[Any] = []
    while not pager.done:
        records += yield from next_page(listing, pager)
    return records


def parse_total_count(value: str | None) -> int | None:
    """The ``X-Total-Count`` header as an int, or ``None`` when absent or not a number."""
    if value is None:
        return None
    try:
        total = int(value.strip())
    except ValueError:
        return None
    return total if total >= 0 else None


@dataclass
class Pager:
    """Where a listing is, and whether to fetch another page.

    :param path: the route being listed, for error messages.
    :param per_page: page size (1..1000).
    :param max_records: stop after this many records; ``None`` = all.
    :param max_pages: hard cap on requests; reaching it raises.
    :param cursor_mode: ask for cursor paging (see the module docstring); falls back to offset
        paging when the server does not answer with ``X-Next-Cursor``.
    """

    path: str
    per_page: int = DEFAULT_PER_PAGE
    max_records: int | None = None
    max_pages: int = DEFAULT_MAX_PAGES
    cursor_mode: bool = False
    page: int = 1
    seen: int = 0
    total: int | None = None
    done: bool = False
    cursor: str | None = None
    _empty_in_a_row: int = field(default=0, repr=False)
    _cursors: set[str] = field(default_factory=set, repr=False)

    def params(self) -> dict[str, Any]:
        """Query parameters of the next request."""
        if self.cursor_mode:
            return {"per_page": self.per_page, **({"cursor": self.cursor} if self.cursor else {})}
        return {"page": self.page, "per_page": self.per_page}

    def headers(self) -> dict[str, str]:
        """Request headers of the next request (``X-Pagination-Style: cursor`` in cursor mode)."""
        return {CURSOR_HEADER: "cursor"} if self.cursor_mode else {}

    def take(self, items: list[Any], headers: Mapping[str, str]) -> list[Any]:
        """:meth:`accept` with the count and cursor read from a response's (case-insensitive) headers."""
        return self.accept(
            items, parse_total_count(headers.get("x-total-count")), headers.get(NEXT_CURSOR_HEADER.lower())
        )

    def accept(self, items: list[Any], total_count: int | None, next_cursor: str | None = None) -> list[Any]:
        """Take one page's items, count header and ``X-Next-Cursor``; return the items to hand out
        (capped). Sets :attr:`done` when the listing is over.

        :raises OneCodexResponseError: the count promised more but pages stayed empty
            (``MAX_EMPTY_PAGES`` in a row), or the server gave a cursor it had given before: a
            server fault, transient.
        :raises ValueError: ``max_pages`` was reached with more to fetch: permanent, the message
            says which argument to raise.
        """
        if self.cursor_mode:
            next_cursor = (next_cursor or "").strip() or None
            if next_cursor is None and self.cursor is None:
                self.cursor_mode = False  # the server answered page 1 of offset paging
            else:
                return self._accept_cursor(items, next_cursor)
        return self._accept_page(items, total_count)

    def _cap(self, items: list[Any]) -> list[Any]:
        if self.max_records is not None:
            items = items[: self.max_records - self.seen]
        self.seen += len(items)
        if self.max_records is not None and self.seen >= self.max_records:
            self.done = True
        return items

    def _accept_cursor(self, items: list[Any], next_cursor: str | None) -> list[Any]:
        items = self._cap(items)
        if self.done or next_cursor is None:
            self.done = True
            return items
        if next_cursor in self._cursors:
            raise OneCodexResponseError(
                200, "GET", self.path, f"the server repeated cursor {next_cursor!r} after {self.seen} records"
            )
        self._cursors.add(next_cursor)
        self.cursor = next_cursor
        self._next_request(items, None)
        return items

    def _accept_page(self, items: list[Any], total_count: int | None) -> list[Any]:
        self.total = total_count
        items = self._cap(items)
        if self.done:
            return items
        if total_count is not None:
            if self.seen >= total_count:
                self.done = True
                return items
        elif len(items) < self.per_page:
            self.done = True  # no count header: a short page is the last one
            return items
        self._next_request(items, total_count)
        return items

    def _next_request(self, items: list[Any], total_count: int | None) -> None:
        if items:
            self._empty_in_a_row = 0
        else:
            self._empty_in_a_row += 1
            if self._empty_in_a_row >= MAX_EMPTY_PAGES:
                n = self._empty_in_a_row
                if total_count is not None:
                    why = f"X-Total-Count promised {total_count} records but {n} pages in a row were empty after {self.seen}"
                else:
                    why = f"{n} pages in a row were empty after {self.seen} records, each with a next cursor"
                raise OneCodexResponseError(200, "GET", self.path, why)
        if self.page >= self.max_pages:
            raise ValueError(
                f"listing {self.path} stopped after max_pages={self.max_pages} pages "
                f"({self.seen} records, more remain): raise max_pages or set max_records"
            )
        self.page += 1
