"""The poll loop behind the One Codex event triggers (one per shared stream, or per trigger on 3.2).

:func:`poll` lists one route once per interval from the oldest mark among the subscribers of its
stream (:data:`DEMAND`). What a failed poll means is the waits' rule
(:func:`~airflow_provider_onecodex.api.watching.after_failure`): a wrong connection stops the watch
(:func:`stop`), remembered so that a re-created watcher waits (:data:`AUTH_COOLDOWN`); an outage,
a key rotation's gap included, backs off and polls again with the connection read anew.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Hashable
from typing import Any, NoReturn

from airflow_provider_onecodex.api import events as event_watch
from airflow_provider_onecodex.api import progress as progress_rule
from airflow_provider_onecodex.api import watching
from airflow_provider_onecodex.api.errors import OneCodexError
from airflow_provider_onecodex.api.progress import WaitProgress

log = logging.getLogger(__name__)

#: seconds a restarted watcher waits after its watch stopped on a wrong connection in this process
AUTH_COOLDOWN = 300.0
#: stream key -> subscriber -> where it needs listing from: the poll lists from the oldest
DEMAND: dict[Hashable, dict[int, str | None]] = {}
#: connection id -> (monotonic time, what failed) of the last watch stopped on it
REFUSED: dict[str, tuple[float, str]] = {}


async def poll(
    conn_id: str, resource: str, poll_interval: float, key: Hashable
) -> AsyncGenerator[dict[str, Any], None]:
    """List ``resource`` once per ``poll_interval`` seconds from the oldest mark of the
    subscribers of ``key``; yield ``{"floor", "records", "truncated"}`` (records slim)."""
    from airflow_provider_onecodex.triggers.connection import ConnectionClient

    await _cool_down(conn_id, resource)
    connection = ConnectionClient(conn_id)  # read before every poll: a rotated key is used at once
    progress, host = WaitProgress(), "its host"
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
            except OneCodexError as exc:
                failed = watching.after_failure(
                    progress,
                    exc,
                    poll_interval=poll_interval,
                    now=time.monotonic(),
                    max_consecutive_failures=progress_rule.MAX_CONSECUTIVE_FAILURES,
                )
                if failed.stop:
                    stop(conn_id, resource, host, exc)
                log.warning(
                    "One Codex watch of %s on connection %r: poll failed: %s; next poll in %g s",
                    resource,
                    conn_id,
                    failed.message,
                    failed.delay,
                )
                await asyncio.sleep(failed.delay)
                continue
            except Exception as exc:  # no such connection...
                stop(conn_id, resource, host, exc)
            if not progress.reached:  # the connection works (again): restarts need not wait
                REFUSED.pop(conn_id, None)
            progress = WaitProgress(reached=True)
            yield {"floor": floor, "records": records, "truncated": truncated}
            await asyncio.sleep(poll_interval)
    finally:
        await connection.aclose()


async def _cool_down(conn_id: str, resource: str) -> None:
    """Wait out :data:`AUTH_COOLDOWN` after a watch on ``conn_id`` stopped, so that a watcher the
    triggerer re-creates at once does not hammer One Codex with a key it refuses."""
    if conn_id not in REFUSED:
        return
    stopped_at, what = REFUSED[conn_id]
    wait = stopped_at + AUTH_COOLDOWN - time.monotonic()
    if wait <= 0:
        return
    log.warning(
        "One Codex watch of %s on connection %r: a watch on this connection stopped %.0f s ago on %s; "
        "waiting %.0f s before polling again",
        resource,
        conn_id,
        AUTH_COOLDOWN - wait,
        what,
        wait,
    )
    await asyncio.sleep(wait)
    log.info(
        "One Codex watch of %s on connection %r resumes polling after its %.0f s pause",
        resource,
        conn_id,
        wait,
    )


def _what_failed(exc: Exception) -> str:
    """What stopped a watch, in a few words for the pause line (no message, no secret)."""
    status = getattr(exc, "status", None)
    if status in (401, 402, 403):
        return f"an authentication failure (HTTP {status})"
    cause = getattr(exc, "cause", None)
    detail = f"HTTP {status}" if status is not None else "connection refused" if cause == "refused" else cause
    return f"a configuration failure ({str(detail or type(exc).__name__).replace('_', ' ')})"


def stop(conn_id: str, resource: str, host: str, exc: Exception) -> NoReturn:
    """Log why the watch cannot go on, remember it (restarts wait), and end the watch with ``exc``."""
    REFUSED[conn_id] = (time.monotonic(), _what_failed(exc))
    log.error(
        "One Codex watch of %s on connection %r (%s) stops: %s. Fix the connection (API key, host); "
        "until then a restarted watcher asks at most every %.0f s.",
        resource,
        conn_id,
        host,
        str(exc).rstrip("."),
        AUTH_COOLDOWN,
    )
    raise exc
