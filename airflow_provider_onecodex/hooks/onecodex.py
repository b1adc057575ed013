"""The hooks: :class:`OneCodexHook` (requests), composed of one hook per concept (a new concept is
a new module and one more base class below), and :class:`OneCodexAsyncHook` (httpx, for triggers).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, cast

from airflow.sdk import BaseHook

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.batch import list_by_ids
from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.http import config_of
from airflow_provider_onecodex.api.ops import Op, T
from airflow_provider_onecodex.api.records import Sample
from airflow_provider_onecodex.hooks.analyses import OneCodexAnalysesHook
from airflow_provider_onecodex.hooks.base import OneCodexConnection
from airflow_provider_onecodex.hooks.files import OneCodexFilesHook
from airflow_provider_onecodex.hooks.samples import OneCodexSamplesHook
from airflow_provider_onecodex.hooks.uploads import OneCodexUploadsHook

if TYPE_CHECKING:
    from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient


class OneCodexHook(OneCodexSamplesHook, OneCodexAnalysesHook, OneCodexFilesHook, OneCodexUploadsHook):
    """One Codex for operators and sensors; ``onecodex_conn_id`` default ``onecodex_default``, read
    on first use (no I/O in ``__init__``), one ``requests.Session`` per hook."""


class OneCodexAsyncHook(OneCodexConnection):
    """What the triggers call, nothing more: the same operations and errors as :class:`OneCodexHook`;
    the connection is read with ``await BaseHook.aget_connection(...)`` (nothing blocks the loop)."""

    hook_name = "One Codex (async)"

    def __init__(self, onecodex_conn_id: str = OneCodexConnection.default_conn_name, **kwargs: Any) -> None:
        super().__init__(onecodex_conn_id, **kwargs)
        self._client: AsyncOneCodexClient | None = None
        self._client_lock = asyncio.Lock()

    async def aget_config(self) -> ClientConfig:
        """Client settings from the connection, read without blocking; masks the key."""
        from airflow.sdk.log import amask_secret

        conn = await BaseHook.aget_connection(self.onecodex_conn_id)
        aextra = getattr(conn, "aextra_dejson", None)
        # Airflow < 3.3.2 has no aextra_dejson: parse extra ourselves (its values are not secrets)
        extra = await aextra() if aextra is not None else (json.loads(conn.extra) if conn.extra else {})
        config, secrets = config_of(conn, extra)
        for secret in secrets:
            await amask_secret(secret)
        return config

    async def aget_client(self) -> AsyncOneCodexClient:
        """The one async client of this hook, created on first use."""
        async with self._client_lock:  # concurrent first calls must not each build a client
            if self._client is None:
                from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient

                self._client = AsyncOneCodexClient(await self.aget_config())
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run(self, op: Op[T]) -> T:
        """Run an operation of :mod:`airflow_provider_onecodex.api` with this connection."""
        return await (await self.aget_client()).run(op)

    async def get_record(self, resource: str, record_id: str) -> dict[str, Any]:
        """``GET /api/v1/<resource>/<id>`` (the analysis trigger's fallback for unlisted ids)."""
        return await self.run(ops.get_record(resource, record_id))

    async def get_sample(self, sample_id: str) -> Sample:
        """``GET /api/v1/samples/{id}`` (the sample trigger's poll)."""
        return cast(Sample, await self.get_record("samples", sample_id))

    async def list_records(self, resource: str, **listing: Any) -> list[dict[str, Any]]:
        """A listing as :meth:`OneCodexHook.list_records`, but every record by default (``max_records``
        ``None``): the poller's wait on whole samples must see them all."""
        return await self.run(ops.list_records(resource, **listing))

    async def list_by_ids(self, resource: str, ids: list[str]) -> list[dict[str, Any]]:
        """:meth:`OneCodexHook.list_by_ids` (the poller's batched poll)."""
        return await self.run(list_by_ids(resource, ids))
