"""The One Codex connection and :meth:`OneCodexBaseHook.run`, which every hook method calls.

Connection ``onecodex``: password = API key; host = base URL (default ``https://app.onecodex.com``);
extras in :data:`airflow_provider_onecodex.api.config.EXTRA_FIELDS`. The key is only read from the
connection (never ``~/.onecodex`` or ``ONE_CODEX_API_KEY``); it, its Basic-auth token and every
pre-signed link an answer carries are masked in logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.batch import list_by_ids
from airflow_provider_onecodex.api.config import ClientConfig, OneCodexConfigError, config_from_connection
from airflow_provider_onecodex.api.downloads import url_secrets
from airflow_provider_onecodex.api.http import secret_forms
from airflow_provider_onecodex.api.ops import Effect, FetchUrl, Op, T
from airflow_provider_onecodex.api.paging import DEFAULT_MAX_RECORDS
from airflow_provider_onecodex.api.records import Account, signed_urls

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from airflow_provider_onecodex.api.client import OneCodexClient


def config_of(conn: Connection, extra: dict[str, Any]) -> tuple[ClientConfig, list[str]]:
    """Client settings of an Airflow connection (``extra`` parsed), and the secrets to mask."""
    config = config_from_connection(
        host=conn.host, password=conn.password, extra=extra, port=conn.port, schema=conn.schema
    )
    return config, secret_forms(conn.password) if conn.password else []


class OneCodexConnection(BaseHook):
    """Airflow's connection attributes, shared by both hooks; no I/O in ``__init__``."""

    conn_name_attr = "onecodex_conn_id"
    default_conn_name = "onecodex_default"
    conn_type = "onecodex"
    hook_name = "One Codex"

    def __init__(self, onecodex_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(onecodex_conn_id, str) or not onecodex_conn_id.strip():
            raise ValueError(f"onecodex_conn_id must be a non-empty string, got {onecodex_conn_id!r}")
        self.onecodex_conn_id = onecodex_conn_id


class OneCodexBaseHook(OneCodexConnection):
    """The sync hook's core: the connection read on first use, one ``requests`` session, :meth:`run`,
    and the calls of any resource. Concept hooks subclass it and add ``return self.run(op)`` methods."""

    @cached_property
    def config(self) -> ClientConfig:
        """Client settings from the connection; the key is masked in logs from here on."""
        from airflow.sdk.log import mask_secret

        conn = self.get_connection(self.onecodex_conn_id)
        config, secrets = config_of(conn, conn.extra_dejson)
        for secret in secrets:
            mask_secret(secret)
        return config

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

    def _perform(self, effect: Effect) -> Any:
        from airflow.sdk.log import mask_secret

        result = self.client.perform(effect)
        urls = [effect.url] if isinstance(effect, FetchUrl) else signed_urls(result)
        for secret in (s for url in urls for s in url_secrets(url)):
            mask_secret(secret)
        return result

    def run(self, op: Op[T]) -> T:
        """Run an operation of :mod:`airflow_provider_onecodex.api`; pre-signed links in its
        answers are registered with Airflow's secret masker as they arrive."""
        return ops.run_op(op, self._perform)

    def get_record(self, resource: str, record_id: str) -> dict[str, Any]:
        """``GET /api/v1/<resource>/<id>``; ``TypeError``/``ValueError`` for a bad resource or id
        before any request; ``OneCodexNotFoundError`` on 404, ``OneCodexAuthError`` on 401-403."""
        return self.run(ops.get_record(resource, record_id))

    def list_records(
        self, resource: str, *, max_records: int | None = DEFAULT_MAX_RECORDS, **listing: Any
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/<resource>[/<variant>]``, every page: ``where``, ``sort``, ``per_page``,
        ``max_pages``, ``variant`` as :class:`~airflow_provider_onecodex.api.ops.Listing`;
        ``max_records`` defaults to :data:`~airflow_provider_onecodex.api.paging.DEFAULT_MAX_RECORDS`
        (1000), ``None`` = all."""
        return self.run(ops.list_records(resource, max_records=max_records, **listing))

    def iter_records(
        self, resource: str, *, max_records: int | None = DEFAULT_MAX_RECORDS, **listing: Any
    ) -> Iterator[dict[str, Any]]:
        """:meth:`list_records`, lazily: stopping the iteration stops the requests."""
        return self.client.iter_records(resource, max_records=max_records, **listing)

    def list_by_ids(self, resource: str, ids: list[str]) -> list[dict[str, Any]]:
        """Records of ``ids``, one ``$uri $in`` request per :data:`~airflow_provider_onecodex.api.batch.ID_BATCH`."""
        return self.run(list_by_ids(resource, ids))

    def get_account(self) -> Account:
        """``GET /api/v1/account``: the account the key belongs to."""
        return self.run(ops.get_account())  # type: ignore[return-value]

    def test_connection(self) -> tuple[bool, str]:
        """``(ok, message)`` of :func:`airflow_provider_onecodex.api.client.check_connection`."""
        from airflow_provider_onecodex.api.client import check_connection

        try:
            return check_connection(self.config)
        except OneCodexConfigError as exc:
            return False, f"Connection settings are not usable: {exc}"
