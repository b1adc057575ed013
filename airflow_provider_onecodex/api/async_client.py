"""Asynchronous One Codex API client on one reused ``httpx.AsyncClient``.

The same routes, validation, retry policy, pagination and error mapping as :mod:`.client`; only
the transport differs. Used by the triggers, where nothing may block the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.errors import OneCodexAPIError, OneCodexConnectionError
from airflow_provider_onecodex.api.http import (
    RETRIED_METHODS,
    build_listing,
    decode_response,
    describe_transport_error,
    request_headers,
)
from airflow_provider_onecodex.api.ids import API_PREFIX, validate_id
from airflow_provider_onecodex.api.ops import ApiCall, Effect, FetchUrl, Listing, Op, T, arun_op
from airflow_provider_onecodex.api.paging import DEFAULT_MAX_PAGES, Pager, parse_total_count
from airflow_provider_onecodex.api.resources import id_arg_name, validate_resource
from airflow_provider_onecodex.api.retry import NO_RETRY


class AsyncOneCodexClient:
    """Async twin of :class:`~airflow_provider_onecodex.api.client.OneCodexClient`.

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

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        expect: type | None = dict,
        retry: bool | None = None,
    ) -> tuple[Any, httpx.Headers]:
        """Send one API request with the retry policy; return ``(json_data, headers)``.

        :param retry: ``None`` = retried when the method is idempotent (never a POST).
        :raises OneCodexAPIError: a subclass per failure class, after the last attempt.
        """
        method = method.upper()
        retried = method in RETRIED_METHODS if retry is None else retry
        policy = self.config.retry if retried else NO_RETRY
        retrying = policy.async_retrying(sleep=self._sleep)
        try:
            return await retrying(self._send_once, method, path, params, json_body, expect)  # type: ignore[no-any-return]
        except OneCodexAPIError as exc:
            raise policy.mark_throttled(exc) from None

    async def perform(self, effect: Effect) -> Any:
        """Carry out one effect of an operation (async twin of ``OneCodexClient.perform``)."""
        if isinstance(effect, ApiCall):
            data, headers = await self.request(
                effect.method,
                effect.path,
                params=effect.params,
                json_body=effect.json_body,
                expect=effect.expect,
                retry=effect.retried,
            )
            return (data, headers) if effect.with_headers else data
        if isinstance(effect, Listing):
            return await self.list_records(
                effect.resource,
                where=effect.where,
                sort=effect.sort,
                per_page=effect.per_page,
                max_records=effect.max_records,
                variant=effect.variant,
                **effect.extra,
            )
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

    async def get_record(self, resource: str, record_id: str, suffix: str = "") -> dict[str, Any]:
        """``GET /api/v1/<resource>/<id>[/<suffix>]`` as a JSON object."""
        resource = validate_resource(resource)
        record_id = validate_id(record_id, id_arg_name(resource), resource=resource)
        path = f"{API_PREFIX}/{resource}/{record_id}" + (f"/{suffix}" if suffix else "")
        data, _ = await self.request("GET", path)
        return data  # type: ignore[no-any-return]

    def iter_records(
        self,
        resource: str,
        *,
        where: object = None,
        sort: object = None,
        per_page: int | None = None,
        max_records: int | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        variant: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Async twin of ``OneCodexClient.iter_records`` (arguments validated at the call)."""
        path, params, pager = build_listing(
            self.config, resource, where, sort, per_page, max_records, max_pages, variant
        )
        return self._iterate(path, params, pager)

    async def _iterate(
        self, path: str, params: dict[str, str], pager: Pager
    ) -> AsyncIterator[dict[str, Any]]:
        while not pager.done:
            items, headers = await self.request("GET", path, params={**params, **pager.params()}, expect=list)
            for item in pager.accept(items, parse_total_count(headers.get("x-total-count"))):
                yield item

    async def list_records(self, resource: str, **kwargs: Any) -> list[dict[str, Any]]:
        """All records of :meth:`iter_records` in a list."""
        return [record async for record in self.iter_records(resource, **kwargs)]

    async def get_account(self) -> dict[str, Any]:
        """``GET /api/v1/account``."""
        data, _ = await self.request("GET", f"{API_PREFIX}/account")
        return data  # type: ignore[no-any-return]
