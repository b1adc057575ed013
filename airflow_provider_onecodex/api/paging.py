"""Offset pagination as One Codex documents it (``page``/``per_page``, ``X-Total-Count``).

One state machine, :class:`Pager`, drives the sync and the async listings. It stops when the
count header says everything was seen, on a short page when the header is missing, at
``max_records``, and raises instead of looping forever (``max_pages``) or silently returning a
partial listing (empty pages while the count promises more). Requests are built from ``page + 1``
rather than ``Link rel="next"`` because Link URLs drop ``where``/``sort``.
"""

from __future__ import annotations

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


def validate_per_page(value: object, name: str = "per_page") -> int:
    """``value`` as a page size in 1..1000, else ``TypeError``/``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int between 1 and {MAX_PER_PAGE}, got {value!r}")
    if not 1 <= value <= MAX_PER_PAGE:
        raise ValueError(f"{name} must be between 1 and {MAX_PER_PAGE}, got {value!r}")
    return value


def validate_max_records(value: object, name: str = "max_records") -> int | None:
    """``None`` (no limit) or a positive int, else ``TypeError``/``ValueError`` naming it."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int or None, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value!r}")
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
        "max_records": validate_max_records(listing.max_records),
    }


def pager_of(listing: Listing, page_size: int) -> Pager:
    """A fresh :class:`Pager` for ``listing`` (``page_size``: the connection's, when it sets none)."""
    per_page = listing.per_page or page_size
    return Pager(listing.path, per_page, listing.max_records, listing.max_pages)


def next_page(listing: Listing, pager: Pager) -> Op[list[Any]]:
    """The operation of one page request of ``listing``: returns its records (capped)."""
    from airflow_provider_onecodex.api.resources import query_params

    page = {k: str(v) for k, v in pager.params().items()}
    params = {**query_params(listing.where, listing.sort), **page}
    items, headers = yield ApiCall("GET", listing.path, params=params, expect=list, with_headers=True)
    return pager.accept(items, parse_total_count(headers.get("x-total-count")))


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
    """

    path: str
    per_page: int = DEFAULT_PER_PAGE
    max_records: int | None = None
    max_pages: int = DEFAULT_MAX_PAGES
    page: int = 1
    seen: int = 0
    total: int | None = None
    done: bool = False
    _empty_in_a_row: int = field(default=0, repr=False)

    def params(self) -> dict[str, int]:
        """Query parameters of the next request."""
        return {"page": self.page, "per_page": self.per_page}

    def accept(self, items: list[Any], total_count: int | None) -> list[Any]:
        """Take one page's items and count header; return the items to hand out (capped).

        Sets :attr:`done` when the listing is over.

        :raises OneCodexResponseError: the count promised more but pages stayed empty
            (``MAX_EMPTY_PAGES`` in a row): a server fault, transient.
        :raises ValueError: ``max_pages`` was reached with more to fetch: permanent, the message
            says which argument to raise.
        """
        self.total = total_count
        if self.max_records is not None:
            items = items[: self.max_records - self.seen]
        self.seen += len(items)
        if self.max_records is not None and self.seen >= self.max_records:
            self.done = True
        elif total_count is not None:
            if self.seen >= total_count:
                self.done = True
            elif not items:
                self._empty_in_a_row += 1
                if self._empty_in_a_row >= MAX_EMPTY_PAGES:
                    raise OneCodexResponseError(
                        200,
                        "GET",
                        self.path,
                        f"X-Total-Count promised {total_count} records but {self._empty_in_a_row} pages "
                        f"in a row were empty after {self.seen}",
                    )
        elif len(items) < self.per_page:
            self.done = True  # no count header: a short page is the last one
        if items:
            self._empty_in_a_row = 0
        if not self.done:
            if self.page >= self.max_pages:
                raise ValueError(
                    f"listing {self.path} stopped after max_pages={self.max_pages} pages "
                    f"({self.seen} records, more remain): raise max_pages or set max_records"
                )
            self.page += 1
        return items
