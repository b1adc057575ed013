"""The waiting benchmark's anchors: what a user would write with the http provider instead of ours.

Imported inside the bench's http venv (``bench/.venv-http``, see :mod:`bench.official`), by
Airflow's ``TriggerRunner`` in :mod:`bench.triggerer`:

- ``HttpEventTrigger`` (the http provider's own) with :func:`alignment_complete` as its
  ``response_check_path``: one ``GET /api/v1/alignments/<id>`` per wait per ``poll_interval``;
- :class:`AlignmentPollTrigger`: a hand-rolled loop in the style of the provider's
  ``HttpSensorTrigger`` (an ``HttpAsyncHook`` and a new ``aiohttp`` session per poll).

Neither knows One Codex: the check reads ``complete`` from the record, as a user's would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


async def alignment_complete(response: Any) -> bool:
    """``response_check_path`` target: the alignment record says it is complete."""
    return bool(json.loads(response.content).get("complete"))


class AlignmentPollTrigger(BaseTrigger):
    """Poll one alignment until ``complete``, ``HttpSensorTrigger``-style."""

    def __init__(self, alignment_id: str, http_conn_id: str, poll_interval: float) -> None:
        super().__init__()
        self.alignment_id = alignment_id
        self.http_conn_id = http_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "alignment_id": self.alignment_id,
                "http_conn_id": self.http_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        import aiohttp
        from airflow.providers.http.hooks.http import HttpAsyncHook

        hook = HttpAsyncHook(method="GET", http_conn_id=self.http_conn_id)
        while True:
            async with aiohttp.ClientSession() as session:
                response = await hook.run(session=session, endpoint=f"/api/v1/alignments/{self.alignment_id}")
                record = json.loads(await response.read())
            if record.get("complete"):
                yield TriggerEvent({"status": "success" if record.get("success") else "failed"})
                return
            await asyncio.sleep(self.poll_interval)
