"""The poll loop behind the One Codex event triggers (one per shared stream, or per trigger on 3.2).

:func:`poll` lists one route once per interval from the oldest mark among the subscribers of its
stream (:data:`DEMAND`), backs off on transient errors and ends the watch on permanent ones
(:func:`stop`), remembering them so that a re-created watcher waits (:data:`AUTH_COOLDOWN`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Hashable
from typing import Any, NoReturn

from airflow_provider_onecodex.api import events as event_watch
from airflow_provider_onecodex.api import watching
from airflow_provider_onecodex.api.errors import OneCodexAPIError, is_transient

log = logging.getLogger(__name__)

#: seconds a restarted watcher waits after its connection was refused (401/403...) in this process
AUTH_COOLDOWN = 300.0
#: stream key -> subscriber -> where it needs listing from: the poll lists from the oldest
DEMAND: dict[Hashable, dict[int, str | None]] = {}
#: connection id -> monotonic time of its last permanent failure
REFUSED: dict[str, float] = {}


async def poll(
    conn_id: str, resource: str, poll_interval: float, key: Hashable
) -> AsyncGenerator[dict[str, Any], None]:
    """List ``resource`` once per ``poll_interval`` seconds from the oldest mark of the
    subscribers of ``key``; yield ``{"floor", "records", "truncated"}`` (records slim)."""
    from airflow_provider_onecodex.triggers.connection import ConnectionClient

    refused_at = REFUSED.get(conn_id)
    if refused_at is not None and (wait := refused_at + AUTH_COOLDOWN - time.monotonic()) > 0:
        log.error("One Codex connection %r was refused %.0f s ago; waiting %.0f s before trying again",
                  conn_id, AUTH_COOLDOWN - wait, wait)  # fmt: skip
        await asyncio.sleep(wait)
    connection = ConnectionClient(conn_id)  # read before every poll: a rotated key is used at once
    failures, host = 0, "its host"
    try:
        while True:
            floor: str | None = None
            if resource != "events":
                marks = [m for m in DEMAND.get(key, {}).values() if m is not None]
                if not marks:  # no subscriber has read its mark yet
                    await asyncio.sleep(min(poll_interval, 0.2))
                    continue
                floor = min(marks, key=watching.as_time)
            try:
                client = await connection.current()
                host = client.config.base_url
                op = event_watch.poll_events() if floor is None else watching.poll_records(resource, floor)
                records, truncated = await client.run(op)
            except OneCodexAPIError as exc:
                if not (is_transient(exc) or exc.throttled):
                    stop(conn_id, resource, host, exc)
                failures += 1
                delay = watching.error_delay(poll_interval, failures, exc.retry_after)
                log.warning(
                    "One Codex watch of %s: poll failed (%s); next poll in %.0f s", resource, exc, delay
                )
                await asyncio.sleep(delay)
                continue
            except Exception as exc:  # no such connection, a bad host or key format...
                stop(conn_id, resource, host, exc)
            failures = 0
            yield {"floor": floor, "records": records, "truncated": truncated}
            await asyncio.sleep(poll_interval)
    finally:
        await connection.aclose()


def stop(conn_id: str, resource: str, host: str, exc: Exception) -> NoReturn:
    """Log why the watch cannot go on, remember it (restarts wait), and end the watch with ``exc``."""
    REFUSED[conn_id] = time.monotonic()
    log.error("One Codex watch of %s on connection %r (%s) stops: %s. Fix the connection (API key, "
              "host); until then a restarted watcher asks at most every %.0f s.",
              resource, conn_id, host, str(exc).rstrip("."), AUTH_COOLDOWN)  # fmt: skip
    raise exc
