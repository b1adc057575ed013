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
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_onecodex.api import events as event_watch
from airflow_provider_onecodex.api import progress as progress_rule
from airflow_provider_onecodex.api import watching
from airflow_provider_onecodex.api.errors import OneCodexError
from airflow_provider_onecodex.api.progress import WaitProgress

if TYPE_CHECKING:
    from airflow_provider_onecodex.api.config import ClientConfig
    from airflow_provider_onecodex.triggers.connection import ConnectionClient

log = logging.getLogger(__name__)

#: seconds a restarted watcher waits after its watch stopped on a wrong connection in this process
AUTH_COOLDOWN = 300.0
#: stream key -> subscriber -> where it needs listing from: the poll lists from the oldest
DEMAND: dict[Hashable, dict[int, str | None]] = {}
#: seconds between looks at the connection during that wait: a fixed connection ends it early
COOLDOWN_CHECK = 10.0
#: connection id -> (monotonic time, what failed, the settings it failed with) of the last stopped watch
REFUSED: dict[str, tuple[float, str, ClientConfig | None]] = {}


async def poll(
    conn_id: str, resource: str, poll_interval: float, key: Hashable
) -> AsyncGenerator[dict[str, Any], None]:
    """List ``resource`` once per ``poll_interval`` seconds from the oldest mark of the
    subscribers of ``key``; yield ``{"floor", "records", "truncated"}`` (records slim)."""
    from airflow_provider_onecodex.triggers.connection import ConnectionClient

    connection = ConnectionClient(conn_id)  # read before every poll: a rotated key is used at once
    await _cool_down(conn_id, resource, connection)
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
                    max_retry_after=connection.config.retry.max_retry_after if connection.config else None,
                )
                if failed.stop:
                    stop(conn_id, resource, host, exc, connection.config)
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
                stop(conn_id, resource, host, exc, connection.config)
            if not progress.reached:  # the connection works (again): restarts need not wait
                REFUSED.pop(conn_id, None)
            progress = WaitProgress(reached=True)
            yield {"floor": floor, "records": records, "truncated": truncated}
            await asyncio.sleep(poll_interval)
    finally:
        await connection.aclose()


async def _cool_down(conn_id: str, resource: str, connection: ConnectionClient) -> None:
    """Wait out :data:`AUTH_COOLDOWN` after a watch on ``conn_id`` stopped, so that a watcher the
    triggerer re-creates at once does not hammer One Codex with a key it refuses; end the wait as
    soon as the connection's settings differ from those that failed (looked at every
    :data:`COOLDOWN_CHECK` seconds, no request to One Codex)."""
    if conn_id not in REFUSED:
        return
    stopped_at, what, failed_with = REFUSED[conn_id]
    wait = stopped_at + AUTH_COOLDOWN - time.monotonic()
    if wait <= 0 or await _fixed(connection, failed_with, conn_id, resource):
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
    while (left := stopped_at + AUTH_COOLDOWN - time.monotonic()) > 0:
        await asyncio.sleep(min(left, COOLDOWN_CHECK))
        if await _fixed(connection, failed_with, conn_id, resource):
            return
    log.info("One Codex watch of %s on connection %r resumes polling after its pause", resource, conn_id)


async def _fixed(
    connection: ConnectionClient, failed_with: ClientConfig | None, conn_id: str, resource: str
) -> bool:
    """Whether the connection's settings now differ from those the stopped watch failed with."""
    try:
        changed = await connection.read_config() != failed_with
    except Exception:  # still unreadable: nothing changed that a poll could use
        return False
    if changed:
        log.info(
            "One Codex watch of %s: connection %r changed since the failure; polling again", resource, conn_id
        )
    return changed


def _what_failed(exc: Exception) -> str:
    """What stopped a watch, in a few words for the pause line (no message, no secret)."""
    status = getattr(exc, "status", None)
    if status in (401, 402, 403):
        return f"an authentication failure (HTTP {status})"
    cause = getattr(exc, "cause", None)
    detail = f"HTTP {status}" if status is not None else "connection refused" if cause == "refused" else cause
    return f"a configuration failure ({str(detail or type(exc).__name__).replace('_', ' ')})"


def stop(conn_id: str, resource: str, host: str, exc: Exception, config: ClientConfig | None) -> NoReturn:
    """Log why the watch cannot go on, remember it with the settings that failed (a restarted watcher
    waits until they change or :data:`AUTH_COOLDOWN` passes), and end the watch with ``exc``."""
    REFUSED[conn_id] = (time.monotonic(), _what_failed(exc), config)
    log.error(
        "One Codex watch of %s on connection %r (%s) stops: %s. Fix the connection (API key, host); "
        "until then a restarted watcher asks at most every %.0f s (at once after a change).",
        resource,
        conn_id,
        host,
        str(exc).rstrip("."),
        AUTH_COOLDOWN,
    )
    raise exc
