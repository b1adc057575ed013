"""Synchronous One Codex API client on one reused ``requests.Session``.

Airflow-free. :class:`~airflow_provider_onecodex.hooks.onecodex.OneCodexHook` builds one from a
connection; tests and scripts can build one from a :class:`ClientConfig`. It only sequences I/O:
operations (:mod:`.ops`) decide, :mod:`.http` decodes, :mod:`.retry` retries.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import requests

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.config import ClientConfig, OneCodexConfigError
from airflow_provider_onecodex.api.errors import OneCodexAPIError, OneCodexAuthError
from airflow_provider_onecodex.api.http import (
    connection_error,
    decode,
    policy_for,
    request_headers,
)
from airflow_provider_onecodex.api.ops import ApiCall, Effect, FetchUrl, Listing, Op, Sleep, T, run_op
from airflow_provider_onecodex.api.paging import all_pages, next_page, pager_of
from airflow_provider_onecodex.api.retry import NO_RETRY

TEST_CONNECTION_TIMEOUT = (5.0, 10.0)  # seconds: (connect, read) for check_connection


class OneCodexClient:
    """One Codex REST API v1 over HTTP(S), with retries, timeouts and pagination.

    :param config: where and how to connect.
    :param sleep: how retries wait (injectable for tests); default ``time.sleep``.
    """

    def __init__(self, config: ClientConfig, *, sleep: Callable[[float], None] | None = None) -> None:
        self.config = config
        self._sleep = sleep or time.sleep

    @cached_property
    def session(self) -> requests.Session:
        """The one session of this client: connections are pooled and reused across calls."""
        session = requests.Session()
        session.headers.update(request_headers(self.config))
        session.trust_env = False  # never pick up ~/.netrc credentials or proxies silently
        return session

    def close(self) -> None:
        """Close the session (a new one is opened on next use)."""
        if "session" in self.__dict__:
            self.__dict__.pop("session").close()

    def __enter__(self) -> OneCodexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request -------------------------------------------------------------------------
    def _send_once(self, call: ApiCall) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        try:
            response = self.session.request(
                call.method,
                self.config.base_url + call.path,
                params=call.params,
                json=call.json_body,
                headers=call.headers,
                timeout=self.config.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise connection_error(exc, self.config, call.method, call.path) from None
        return decode(response, call, self.config)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        expect: type | None = dict,
        retry: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        """Send one API request with the retry policy; return ``(json_data, headers)``.

        :param path: route starting with ``/api/v1/``; query parameters go in ``params``.
        :param retry: ``None`` = retried when the method is idempotent (never a POST).
        :param headers: extra request headers (e.g. ``X-Pagination-Style``), added to the session's.
        :raises OneCodexAPIError: a subclass per failure class, after the last attempt.
        """
        return self._call(ApiCall(method, path, json_body, expect, params, retry, headers=headers))

    def _call(self, call: ApiCall) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        call, policy = policy_for(self.config, call)
        try:
            return policy.retrying(sleep=self._sleep)(self._send_once, call)
        except OneCodexAPIError as exc:
            raise policy.mark_throttled(exc) from None

    # -- operations (api/ops.py) -------------------------------------------------------------
    def perform(self, effect: Effect) -> Any:
        """Carry out one effect of an operation: a request, a listing or a pre-signed fetch."""
        if isinstance(effect, ApiCall):
            data, headers = self._call(effect)
            return (data, headers) if effect.with_headers else data
        if isinstance(effect, Listing):
            return self.run(all_pages(effect, self.config.page_size))
        if isinstance(effect, FetchUrl):
            from airflow_provider_onecodex.api.downloads import Downloader

            with Downloader(self.config.timeout, self.config.retry) as downloader:
                return downloader.fetch_bytes(effect.url)
        if isinstance(effect, Sleep):
            self._sleep(effect.seconds)
            return None
        raise TypeError(f"not an effect: {effect!r}")

    def run(self, op: Op[T]) -> T:
        """Run an operation of :mod:`airflow_provider_onecodex.api` to its result."""
        return run_op(op, self.perform)

    # -- records -----------------------------------------------------------------------------
    def get_record(self, resource: str, record_id: str) -> dict[str, Any]:
        """``GET /api/v1/<resource>/<id>`` as a JSON object (:func:`.ops.get_record`)."""
        return self.run(ops.get_record(resource, record_id))

    def iter_records(self, resource: str, **listing: Any) -> Iterator[dict[str, Any]]:
        """Yield the records of ``GET /api/v1/<resource>[/public|/organization]`` page by page.

        Lazy: stopping the iteration stops the requests. Arguments as :class:`.ops.Listing`
        (``where``, ``sort``, ``per_page``, ``max_records``, ``max_pages``, ``variant``), validated
        at the call, not at the first ``next``.
        """
        return self._iterate(Listing.of(resource, **listing))

    def _iterate(self, listing: Listing) -> Iterator[dict[str, Any]]:
        pager = pager_of(listing, self.config.page_size)
        while not pager.done:
            yield from self.run(next_page(listing, pager))

    def list_records(self, resource: str, **listing: Any) -> list[dict[str, Any]]:
        """All records of :meth:`iter_records` in a list (mind ``max_records`` on big listings)."""
        return self.run(ops.list_records(resource, **listing))

    def get_account(self) -> dict[str, Any]:
        """``GET /api/v1/account``: the key's own account (one object)."""
        return self.run(ops.get_account())


def check_connection(settings: Callable[[], ClientConfig]) -> tuple[bool, str]:
    """One authenticated, read-only call (``GET /api/v1/account``), short timeout, no retries.

    :param settings: gives the connection's settings (may raise ``OneCodexConfigError``).
    :returns: ``(True, "Connected to One Codex at <url> as <email>")`` or ``(False, reason)``; the
        reason names what to fix and never contains the key or a response body.
    """
    connect, read = TEST_CONNECTION_TIMEOUT
    try:
        config = dataclasses.replace(settings(), connect_timeout=connect, read_timeout=read, retry=NO_RETRY)
    except OneCodexConfigError as exc:
        return False, f"Connection settings are not usable: {exc}"
    try:
        with OneCodexClient(config) as client:
            email = client.get_account().get("email")
    except OneCodexAuthError as exc:
        return False, f"Authentication failed (HTTP {exc.status}): check the API key in the connection"
    except OneCodexAPIError as exc:
        if exc.status is None:
            return False, f"Could not reach {config.base_url}: {exc.message}"
        if exc.hint:  # 404: the host is probably not a One Codex API
            return False, f"{exc.hint}: it answered HTTP {exc.status} to GET /api/v1/account"
        return False, f"One Codex answered HTTP {exc.status} to GET /api/v1/account"
    if not isinstance(email, str) or not email:
        return False, "GET /api/v1/account answered without an email: is the host a One Codex API?"
    return True, f"Connected to One Codex at {config.base_url} as {email}"
