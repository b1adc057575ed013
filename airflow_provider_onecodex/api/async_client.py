"""Asynchronous One Codex API client on one reused ``httpx.AsyncClient``.

It runs the same operations (:mod:`.ops`) as :mod:`.client`, with the same decoding (:mod:`.http`)
and retry policy; only the transport differs. Used by the triggers, where nothing may block the
event loop, so it has only what they need: ``run``, ``get_record`` and ``list_records``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.errors import OneCodexAPIError, OneCodexConnectionError
from airflow_provider_onecodex.api.http import (
    decode_response,
    describe_transport_error,
    policy_for,
    request_headers,
)
from airflow_provider_onecodex.api.ops import ApiCall, Effect, FetchUrl, Listing, Op, T, arun_op
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
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The one ``httpx.AsyncClient`` of this client (connection pool reused across calls)."""
        if self._client is None:
            connect, read = self.config.timeout
            self._client = httpx.AsyncClient(
                base_url=self.config.base_url,
                headers=request_headers(self.config),
                timeout=httpx.Timeout(read, connect=connect),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> AsyncOneCodexClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send_once(
        self, method: str, path: str, params: dict[str, Any] | None, json_body: Any, expect: type | None
    ) -> tuple[Any, httpx.Headers]:
        try:
            response = await self.client.request(method, path, params=params, json=json_body)
        except httpx.HTTPError as exc:
            raise OneCodexConnectionError(
                None, method, path, describe_transport_error(exc, self.config)
            ) from None
        return decode_response(
            response.status_code, response.headers, response.content, method, path, expect
        ), response.headers

    async def perform(self, effect: Effect) -> Any:
        """Carry out one effect of an operation, with the retry policy of :func:`.http.policy_for`."""
        if isinstance(effect, ApiCall):
            policy = policy_for(self.config, effect.method.upper(), effect.retried)
            retrying = policy.async_retrying(sleep=self._sleep)
            args = (effect.method.upper(), effect.path, effect.params, effect.json_body, effect.expect)
            try:
                data, headers = await retrying(self._send_once, *args)
            except OneCodexAPIError as exc:
                raise policy.mark_throttled(exc) from None
            return (data, headers) if effect.with_headers else data
        if isinstance(effect, Listing):
            return await self.run(all_pages(effect, self.config.page_size))
        if isinstance(effect, FetchUrl):
            from airflow_provider_onecodex.api.downloads import AsyncDownloader

            downloader = AsyncDownloader(self.config.timeout, self.config.retry)
            try:
                return await downloader.fetch_bytes(effect.url)
            finally:
                await downloader.aclose()
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
