"""Asynchronous One Codex API client on one reused ``httpx.AsyncClient``.

It runs the same operations (:mod:`.ops`) as :mod:`.client`, with the same decoding (:mod:`.http`)
and retry policy; only the transport differs. Used by the triggers, where nothing may block the
event loop, so it has only what they need: ``run``, ``get_record`` and ``list_records``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any

import httpx

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.errors import OneCodexAPIError
from airflow_provider_onecodex.api.http import (
    connection_error,
    decode,
    policy_for,
    request_headers,
)
from airflow_provider_onecodex.api.ops import ApiCall, Effect, FetchUrl, Listing, Op, Sleep, T, arun_op
from airflow_provider_onecodex.api.paging import all_pages


class AsyncOneCodexClient:
    """The async executor of operations (see :class:`~airflow_provider_onecodex.api.client.OneCodexClient`).

    :param config: where and how to connect.
    :param sleep: how retries wait (injectable for tests); default ``asyncio.sleep``.
    """

    def __init__(
        self, config: ClientConfig, *, sleep: Callable[[float], Awaitable[None]] | None = None
    ) -> None:
        self.config = config
        self._sleep = sleep or asyncio.sleep

    @cached_property
    def client(self) -> httpx.AsyncClient:
        """The one ``httpx.AsyncClient`` of this client (connection pool reused across calls)."""
        connect, read = self.config.timeout
        return httpx.AsyncClient(
            base_url=self.config.base_url,
            headers=request_headers(self.config),
            timeout=httpx.Timeout(read, connect=connect),
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        """Close the connection pool (a new one is opened on next use)."""
        if "client" in self.__dict__:
            await self.__dict__.pop("client").aclose()

    async def __aenter__(self) -> AsyncOneCodexClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send_once(self, call: ApiCall) -> tuple[Any, httpx.Headers]:
        try:
            response = await self.client.request(
                call.method, call.path, params=call.params, json=call.json_body, headers=call.headers
            )
        except httpx.HTTPError as exc:
            raise connection_error(exc, self.config, call.method, call.path) from None
        return decode(response, call, self.config)

    async def perform(self, effect: Effect) -> Any:
        """Carry out one effect of an operation, with the retry policy of :func:`.http.policy_for`."""
        if isinstance(effect, ApiCall):
            call, policy = policy_for(self.config, effect)
            try:
                data, headers = await policy.async_retrying(sleep=self._sleep)(self._send_once, call)
            except OneCodexAPIError as exc:
                raise policy.mark_throttled(exc) from None
            return (data, headers) if effect.with_headers else data
        if isinstance(effect, Listing):
            return await self.run(all_pages(effect, self.config.page_size))
        if isinstance(
            effect, FetchUrl
        ):  # rare here (no trigger reads results): the one downloader, in a thread
            from airflow_provider_onecodex.api.downloads import Downloader

            with Downloader(self.config.timeout, self.config.retry) as downloader:
                return await asyncio.to_thread(downloader.fetch_bytes, effect.url)
        if isinstance(effect, Sleep):
            await self._sleep(effect.seconds)
            return None
        raise TypeError(f"not an effect: {effect!r}")

    async def run(self, op: Op[T]) -> T:
        """Run an operation of :mod:`airflow_provider_onecodex.api` to its result."""
        return await arun_op(op, self.perform)

    async def get_record(self, resource: str, record_id: str) -> dict[str, Any]:
        """``GET /api/v1/<resource>/<id>`` (:func:`.ops.get_record`)."""
        return await self.run(ops.get_record(resource, record_id))

    async def list_records(self, resource: str, **listing: Any) -> list[dict[str, Any]]:
        """Every record of a listing; arguments as :class:`.ops.Listing`."""
        return await self.run(ops.list_records(resource, **listing))
