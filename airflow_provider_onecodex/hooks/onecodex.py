"""Hooks for the One Codex REST API v1: :class:`OneCodexHook` (requests) and :class:`OneCodexAsyncHook` (httpx).

Both are thin: they resolve the Airflow connection lazily, register the API key (and the Basic-auth
token derived from it) with Airflow's secret masker, and delegate to the Airflow-free clients in
:mod:`airflow_provider_onecodex.api`. Records are returned as plain JSON dicts.

Connection ``onecodex``: password = API key; host = base URL (default ``https://app.onecodex.com``);
extras ``auth_style``, ``connect_timeout``, ``read_timeout``, ``max_retries``, ``max_retry_after``,
``retry_initial_wait``, ``page_size`` (see :data:`airflow_provider_onecodex.api.config.EXTRA_FIELDS`).
The key is only ever read from the connection, never from ``~/.onecodex`` or ``ONE_CODEX_API_KEY``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from airflow.sdk import BaseHook

from airflow_provider_onecodex.api.config import ClientConfig, OneCodexConfigError, config_from_connection
from airflow_provider_onecodex.api.errors import OneCodexAPIError, OneCodexAuthError
from airflow_provider_onecodex.api.http import secret_forms
from airflow_provider_onecodex.api.ids import validate_ids
from airflow_provider_onecodex.api.records import Account, Alignment, Analysis, Sample
from airflow_provider_onecodex.api.resources import sample_where, uri_in_where
from airflow_provider_onecodex.api.retry import NO_RETRY
from airflow_provider_onecodex.hooks.resources import OneCodexAsyncResourcesMixin, OneCodexResourcesMixin

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient
    from airflow_provider_onecodex.api.client import OneCodexClient

TEST_CONNECTION_TIMEOUT = (5.0, 10.0)  # seconds: (connect, read) for test_connection
ID_CHUNK = 100  # ids per "$uri $in" listing request: keeps URLs well under common proxy limits


def _config_of(conn: Connection, extra: dict[str, Any]) -> ClientConfig:
    return config_from_connection(
        host=conn.host, password=conn.password, extra=extra, port=conn.port, schema=conn.schema
    )


class _OneCodexHookBase(BaseHook):
    """The connection attributes both hooks share; no I/O in ``__init__``."""

    conn_name_attr = "onecodex_conn_id"
    default_conn_name = "onecodex_default"
    conn_type = "onecodex"
    hook_name = "One Codex"

    def __init__(self, onecodex_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(onecodex_conn_id, str) or not onecodex_conn_id.strip():
            raise ValueError(f"onecodex_conn_id must be a non-empty string, got {onecodex_conn_id!r}")
        self.onecodex_conn_id = onecodex_conn_id


class OneCodexHook(OneCodexResourcesMixin, _OneCodexHookBase):
    """Synchronous access to One Codex, one ``requests.Session`` per hook.

    :param onecodex_conn_id: Airflow connection id (default ``onecodex_default``).

    No I/O happens in ``__init__``: the connection is read on first use.
    """

    @cached_property
    def config(self) -> ClientConfig:
        """Client settings from the connection; the key is masked in logs from here on."""
        from airflow.sdk.log import mask_secret

        conn = self.get_connection(self.onecodex_conn_id)
        if conn.password:
            for secret in secret_forms(conn.password):
                mask_secret(secret)
        return _config_of(conn, conn.extra_dejson)

    @cached_property
    def client(self) -> OneCodexClient:
        from airflow_provider_onecodex.api.client import OneCodexClient

        return OneCodexClient(self.config)

    def get_conn(self) -> OneCodexClient:
        """The underlying :class:`~airflow_provider_onecodex.api.client.OneCodexClient`."""
        return self.client

    def close(self) -> None:
        """Close the HTTP session (a new one is opened on next use)."""
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]

    # -- generic -----------------------------------------------------------------------------
    def get_record(self, resource: str, record_id: str) -> dict[str, Any]:
        """``GET /api/v1/<resource>/<id>``.

        :raises ValueError: bad resource or id, before any request.
        :raises OneCodexNotFoundError: 404. :raises OneCodexAuthError: 401/402/403.
        """
        return self.client.get_record(resource, record_id)

    def iter_records(self, resource: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Lazily page through ``GET /api/v1/<resource>``; see ``OneCodexClient.iter_records``."""
        return self.client.iter_records(resource, **kwargs)

    def list_records(self, resource: str, **kwargs: Any) -> list[dict[str, Any]]:
        """All records of :meth:`iter_records` as a list."""
        return list(self.iter_records(resource, **kwargs))

    # -- alignments, analyses, samples -------------------------------------------------------
    def get_alignment(self, alignment_id: str) -> Alignment:
        """``GET /api/v1/alignments/{id}``: one alignment record (``complete``, ``success``, ``tax_id``...)."""
        return cast(Alignment, self.get_record("alignments", alignment_id))

    def iter_alignments(
        self,
        sample_id: str | None = None,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        tax_id: str | None = None,
        per_page: int | None = None,
    ) -> Iterator[Alignment]:
        """Lazily list ``GET /api/v1/alignments``, optionally of one sample and reference ``tax_id``."""
        clause = sample_where(sample_id, tax_id, where)
        return cast(
            Iterator[Alignment],
            self.iter_records(
                "alignments", where=clause, sort=sort, max_records=max_records, per_page=per_page
            ),
        )

    def list_alignments(
        self,
        sample_id: str | None = None,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        tax_id: str | None = None,
        per_page: int | None = None,
    ) -> list[Alignment]:
        """Alignments as a list; arguments as :meth:`iter_alignments`."""
        return list(self.iter_alignments(sample_id, where, sort, max_records, tax_id, per_page))

    def list_by_ids(self, resource: str, ids: list[str]) -> list[dict[str, Any]]:
        """Records of ``ids`` with one listing request per page (``where={"$uri": {"$in": [...]}}``).

        Ids the key cannot see are simply absent from the result.
        """
        ids = validate_ids(ids, "ids", resource=resource)
        records: list[dict[str, Any]] = []
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            records += self.list_records(resource, where=uri_in_where(resource, chunk), per_page=len(chunk))
        return records

    def get_analysis(self, analysis_id: str) -> Analysis:
        """``GET /api/v1/analyses/{id}``: any analysis type, with ``analysis_type``."""
        return cast(Analysis, self.get_record("analyses", analysis_id))

    def get_sample(self, sample_id: str) -> Sample:
        """``GET /api/v1/samples/{id}``."""
        return cast(Sample, self.get_record("samples", sample_id))

    def get_account(self) -> Account:
        """``GET /api/v1/account``: the account the key belongs to."""
        return cast(Account, self.client.get_account())

    # -- connection test ---------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """One authenticated, read-only call (``GET /api/v1/account``) with a short timeout, no retries.

        :returns: ``(True, "Connected to One Codex as <email>")`` or ``(False, reason)``; the reason
            never contains the key or a response body.
        """
        from airflow_provider_onecodex.api.client import OneCodexClient

        try:
            config = dataclasses.replace(
                self.config,
                connect_timeout=TEST_CONNECTION_TIMEOUT[0],
                read_timeout=TEST_CONNECTION_TIMEOUT[1],
                retry=NO_RETRY,
            )
        except OneCodexConfigError as exc:
            return False, f"Connection settings are not usable: {exc}"
        try:
            with OneCodexClient(config) as client:
                account = client.get_account()
        except OneCodexAuthError as exc:
            return False, f"Authentication failed (HTTP {exc.status}): check the API key in the connection"
        except OneCodexAPIError as exc:
            if exc.status is None:
                return False, f"Could not reach {config.base_url}: {exc.message}"
            return False, f"One Codex answered HTTP {exc.status} to GET /api/v1/account"
        email = account.get("email")
        if not isinstance(email, str) or not email:
            return False, "GET /api/v1/account answered without an email: is the host a One Codex API?"
        return True, f"Connected to One Codex at {config.base_url} as {email}"


class OneCodexAsyncHook(OneCodexAsyncResourcesMixin, _OneCodexHookBase):
    """Async access to One Codex for triggers (httpx), with the same methods and errors as :class:`OneCodexHook`.

    The connection is resolved with ``await BaseHook.aget_connection(...)``; nothing blocks the loop.

    :param onecodex_conn_id: Airflow connection id (default ``onecodex_default``).
    """

    hook_name = "One Codex (async)"

    def __init__(self, onecodex_conn_id: str = _OneCodexHookBase.default_conn_name, **kwargs: Any) -> None:
        super().__init__(onecodex_conn_id, **kwargs)
        self._client: AsyncOneCodexClient | None = None
        self._client_lock = asyncio.Lock()

    async def aget_config(self) -> ClientConfig:
        """Client settings from the connection, read without blocking; masks the key."""
        from airflow.sdk.log import amask_secret

        conn = await BaseHook.aget_connection(self.onecodex_conn_id)
        if conn.password:
            for secret in secret_forms(conn.password):
                await amask_secret(secret)
        aextra = getattr(conn, "aextra_dejson", None)
        if aextra is not None:
            extra = await aextra()
        else:  # Airflow < 3.3.2: parse extra ourselves; its values are not secrets
            extra = json.loads(conn.extra) if conn.extra else {}
        return _config_of(conn, extra)

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

    async def get_record(self, resource: str, record_id: str) -> dict[str, Any]:
        """Async ``GET /api/v1/<resource>/<id>``."""
        return await (await self.aget_client()).get_record(resource, record_id)

    async def iter_records(self, resource: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Async lazily paged ``GET /api/v1/<resource>``."""
        client = await self.aget_client()
        async for record in client.iter_records(resource, **kwargs):
            yield record

    async def list_records(self, resource: str, **kwargs: Any) -> list[dict[str, Any]]:
        return [r async for r in self.iter_records(resource, **kwargs)]

    async def get_alignment(self, alignment_id: str) -> Alignment:
        return cast(Alignment, await self.get_record("alignments", alignment_id))

    async def list_alignments(
        self,
        sample_id: str | None = None,
        where: object = None,
        sort: object = None,
        max_records: int | None = None,
        tax_id: str | None = None,
        per_page: int | None = None,
    ) -> list[Alignment]:
        clause = sample_where(sample_id, tax_id, where)
        records = await self.list_records(
            "alignments", where=clause, sort=sort, max_records=max_records, per_page=per_page
        )
        return cast(list[Alignment], records)

    async def list_by_ids(self, resource: str, ids: list[str]) -> list[dict[str, Any]]:
        """Async :meth:`OneCodexHook.list_by_ids`."""
        ids = validate_ids(ids, "ids", resource=resource)
        records: list[dict[str, Any]] = []
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            records += await self.list_records(
                resource, where=uri_in_where(resource, chunk), per_page=len(chunk)
            )
        return records

    async def get_analysis(self, analysis_id: str) -> Analysis:
        return cast(Analysis, await self.get_record("analyses", analysis_id))

    async def get_sample(self, sample_id: str) -> Sample:
        return cast(Sample, await self.get_record("samples", sample_id))

    async def get_account(self) -> Account:
        return cast(Account, await (await self.aget_client()).get_account())
