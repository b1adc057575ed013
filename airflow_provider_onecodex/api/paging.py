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

MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 100
DEFAULT_MAX_PAGES = 10_000
MAX_EMPTY_PAGES = 3


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
            (``MAX_EMPTY_PAGES`` in a row), or ``max_pages`` was reached with more to fetch.
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
                raise OneCodexResponseError(
                    200,
                    "GET",
                    self.path,
                    f"stopped after max_pages={self.max_pages} pages ({self.seen} records)",
                )
            self.page += 1
        return items
