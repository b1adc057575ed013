"""The simulator's request log: every One Codex API request served, for tests to count."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _method(method: str | None) -> str | None:
    return method.upper() if method else None


@dataclass
class RequestRecord:
    """One request as the simulator saw it. The API key itself is never stored."""

    method: str
    path: str
    query: str
    auth: bool
    at: float
    status: int | None = None
    fault: str | None = None


class RequestLog:
    """Every One Codex API request served (admin routes excluded), in arrival order."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._clock = clock

    def start(self, method: str, path: str, query: str, auth: bool) -> RequestRecord:
        record = RequestRecord(method, path, query, auth, self._clock())
        with self._lock:
            self._records.append(record)
        return record

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def count(
        self, path_prefix: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        method = _method(method)
        return sum(
            1
            for r in self.records
            if (path_prefix is None or r.path.startswith(path_prefix))
            and (method is None or r.method == method)
            and (status is None or r.status == status)
        )

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def stats(self) -> dict[str, Any]:
        records = self.records
        return {
            "total": len(records),
            "by_status": dict(Counter(str(r.status) for r in records)),
            "by_method": dict(Counter(r.method for r in records)),
        }
