"""Progress lines of long transfers (sample uploads): at most every 10 % of the bytes or every
30 s, never per chunk."""

from __future__ import annotations


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError  # pragma: no cover


class TransferProgress:
    """When to report an upload's progress: at most every ``fraction`` of the file or ``seconds``.

    :param total: bytes to send; :param label: what is being sent (no keys, no URLs);
    :param start: the clock's value (seconds) when sending began.
    """

    def __init__(
        self, total: int, label: str, start: float, *, fraction: float = 0.1, seconds: float = 30.0
    ) -> None:
        self.total, self.label, self.start = total, label, start
        self.fraction, self.seconds = fraction, seconds
        self.sent = 0
        self._last_bytes = 0
        self._last_time = start

    def add(self, nbytes: int, now: float) -> str | None:
        """Count ``nbytes`` more; a log line when one is due, else None."""
        self.sent += nbytes
        due_bytes = self.sent - self._last_bytes >= self.fraction * self.total
        if not (due_bytes or now - self._last_time >= self.seconds) or self.sent >= self.total:
            return None
        self._last_bytes, self._last_time = self.sent, now
        return self.describe(now)

    def describe(self, now: float) -> str:
        """``label: sent of total (pct), rate, ETA``."""
        elapsed = max(now - self.start, 1e-9)
        rate = self.sent / elapsed
        pct = 100.0 * self.sent / self.total if self.total else 100.0
        eta = (self.total - self.sent) / rate if rate > 0 else float("inf")
        eta_text = f"{eta:.0f} s" if eta != float("inf") else "unknown"
        return (
            f"{self.label}: {_size(self.sent)} of {_size(self.total)} ({pct:.0f} %), "
            f"{_size(rate)}/s, ETA {eta_text}"
        )
