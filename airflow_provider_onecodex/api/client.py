"""Synchronous One Codex API client on one reused ``requests.Session``.

Airflow-free. :class:`~airflow_provider_onecodex.hooks.onecodex.OneCodexHook` builds one from a
connection; tests and scripts can build one from a :class:`ClientConfig`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

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
from airflow_provider_onecodex.api.ops import ApiCall, Effect, FetchUrl, Listing, Op, T, run_op
from airflow_provider_onecodex.api.paging import DEFAULT_MAX_PAGES, Pager, parse_total_count
from airflow_provider_onecodex.api.resources import id_arg_name, validate_resource
from airflow_provider_onecodex.api.retry import NO_RETRY


class OneCodexClient:
    """One Codex REST API v1 over HTTP(S), with retries, timeouts and pagination.

    :param config: where and how to connect.
    :param sleep: how retries wait (injectable for tests); default ``time.sleep``.
    """

    def __init__(self, config: ClientConfig, *, sleep: Callable[[float], None] | None = None) -> None:
        self.config = config
        self._sleep = sleep or time.sleep
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        """The one session of this client: connections are pooled and reused across calls."""
        if self._session is None:
            session = requests.Session()
            session.headers.update(request_headers(self.config))
            session.trust_env = False  # never pick up ~/.netrc credentials or proxies silently
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> OneCodexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request -------------------------------------------------------------------------
    def _send_once(
        self, method: str, path: str, params: dict[str, Any] | None, json_body: Any, expect: type | None
    ) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        try:
            response = self.session.request(
                method,
                self.config.base_url + path,
                params=params,
                json=json_body,
                timeout=self.config.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise OneCodexConnectionError(
                None, method, path, describe_transport_error(exc, self.config)
            ) from None
        return decode_response(
            response.status_code, response.headers, response.content, method, path, expect
        ), response.headers

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        expect: type | None = dict,
        retry: bool | None = None,
    ) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        """Send one API request with the retry policy; return ``(json_data, headers)``.

        :param path: route starting with ``/api/v1/``; query parameters go in ``params``.
        :param retry: ``None`` = retried when the method is idempotent (never a POST).
        :raises OneCodexAPIError: a subclass per failure class, after the last attempt.
        """
        method = method.upper()
        retried = method in RETRIED_METHODS if retry is None else retry
        policy = self.config.retry if retried else NO_RETRY
        retrying = policy.retrying(sleep=self._sleep)
        try:
            return retrying(self._send_once, method, path, params, json_body, expect)
        except OneCodexAPIError as exc:
            raise policy.mark_throttled(exc) from None

    # -- operations (api/ops.py) -------------------------------------------------------------
    def perform(self, effect: Effect) -> Any:
        """Carry out one effect of an operation: a request, a listing or a pre-signed fetch."""
        if isinstance(effect, ApiCall):
            data, headers = self.request(
                effect.method,
                effect.path,
                params=effect.params,
                json_body=effect.json_body,
                expect=effect.expect,
                retry=effect.retried,
            )
            return (data, headers) if effect.with_headers else data
        if isinstance(effect, Listing):
            return self.list_records(
                effect.resource,
                where=effect.where,
                sort=effect.sort,
                per_page=effect.per_page,
                max_records=effect.max_records,
                variant=effect.variant,
                **effect.extra,
            )
        if isinstance(effect, FetchUrl):
            from airflow_provider_onecodex.api.downloads import Downloader

            downloader = Downloader(self.config.timeout, self.config.retry)
            try:
                return downloader.fetch_bytes(effect.url)
            finally:
                downloader.close()
        raise TypeError(f"not an effect: {effect!r}")

    def run(self, op: Op[T]) -> T:
        """Run an operation of :mod:`airflow_provider_onecodex.api` to its result."""
        return run_op(op, self.perform)

    # -- records -----------------------------------------------------------------------------
    def get_record(self, resource: str, record_id: str, suffix: str = "") -> dict[str, Any]:
        """``GET /api/v1/<resource>/<id>[/<suffix>]`` as a JSON object.

        :raises ValueError: bad id (before any request). :raises OneCodexNotFoundError: 404.
        """
        resource = validate_resource(resource)
        record_id = validate_id(record_id, id_arg_name(resource), resource=resource)
        path = f"{API_PREFIX}/{resource}/{record_id}" + (f"/{suffix}" if suffix else "")
        data, _ = self.request("GET", path)
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
    ) -> Iterator[dict[str, Any]]:
        """Yield the records of ``GET /api/v1/<resource>[/public|/organization]`` page by page.

        Lazy: stopping the iteration stops the requests. Arguments are validated before the first
        request (at the call, not at the first ``next``).

        :param where: Mongo-style filter (dict or its JSON text), e.g. ``{"sample": "<id>"}``.
        :param sort: ``{"created_at": true}`` (``true`` = descending).
        :param per_page: page size, 1..1000 (default: the connection's ``page_size``, 100).
        :param max_records: stop after this many records (default: all).
        :param max_pages: hard cap on page requests; reaching it raises ``OneCodexResponseError``.
        :param variant: ``"public"`` or ``"organization"`` listings where the resource has them.
        """
        path, params, pager = build_listing(
            self.config, resource, where, sort, per_page, max_records, max_pages, variant
        )
        return self._iterate(path, params, pager)

    def _iterate(self, path: str, params: dict[str, str], pager: Pager) -> Iterator[dict[str, Any]]:
        while not pager.done:
            items, headers = self.request("GET", path, params={**params, **pager.params()}, expect=list)
            yield from pager.accept(items, parse_total_count(headers.get("x-total-count")))

    def list_records(self, resource: str, **kwargs: Any) -> list[dict[str, Any]]:
        """All records of :meth:`iter_records` in a list (mind ``max_records`` on big listings)."""
        return list(self.iter_records(resource, **kwargs))

    def get_account(self) -> dict[str, Any]:
        """``GET /api/v1/account``: the key's own account (one object)."""
        data, _ = self.request("GET", f"{API_PREFIX}/account")
        return data  # type: ignore[no-any-return]
