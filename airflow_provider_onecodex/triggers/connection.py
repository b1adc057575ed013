"""The Airflow connection as it is now, for deferred waits that last hours.

A trigger (or the shared poller) reads its connection before every poll: after an API key
rotation or a host change the next poll uses the new settings, with a new HTTP client, so one
request never mixes old and new credentials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient
    from airflow_provider_onecodex.api.config import ClientConfig


class ConnectionClient:
    """An async API client that follows the Airflow connection as it is *now*.

    :meth:`current` reads the connection (``aget_connection``) and keeps the client while the
    settings are unchanged; when the key, host or an extra changed it closes the old client and
    builds a new one, so one request never mixes old and new settings.
    """

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id
        self.config: ClientConfig | None = None
        self.client: AsyncOneCodexClient | None = None

    async def read_config(self) -> ClientConfig:
        from airflow_provider_onecodex.hooks.base import OneCodexAsyncHook  # not the sync hooks

        return await OneCodexAsyncHook(self.conn_id).aget_config()

    async def current(self) -> AsyncOneCodexClient:
        """The client for the connection's current settings (read now)."""
        config = await self.read_config()
        if self.client is None or config != self.config:
            from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient

            await self.aclose()
            self.config, self.client = config, AsyncOneCodexClient(config)
        return self.client

    async def changed(self) -> bool:
        """Read the connection again; ``True`` (and a new client) when its settings changed."""
        before = self.client
        return await self.current() is not before

    async def aclose(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            await client.aclose()
