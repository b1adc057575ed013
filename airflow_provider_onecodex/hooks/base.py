"""The ``onecodex`` connection and :meth:`OneCodexBaseHook.run`, which every hook method calls.

Connection fields: README "The connection". The key is only read from the connection; it, its
Basic-auth token and every pre-signed link an answer carries are masked in logs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from airflow.sdk import BaseHook

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.analyses import analysis_where
from airflow_provider_onecodex.api.batch import list_by_ids
from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.downloads import url_secrets
from airflow_provider_onecodex.api.http import config_of
from airflow_provider_onecodex.api.ops import Effect, FetchUrl, Op, T
from airflow_provider_onecodex.api.paging import DEFAULT_MAX_RECORDS
from airflow_provider_onecodex.api.records import Account, signed_urls

if TYPE_CHECKING:
    from airflow_provider_onecodex.api.client import OneCodexClient


R = TypeVar("R")


class Route(Generic[R]):
    """A hook method that is one plain call of one route: ``get_tag = Route[Tag]("tags", doc)`` makes
    ``hook.get_tag(tag_id)`` = ``hook.get_record("tags", tag_id)``; ``listing=True`` (and fixed
    arguments, e.g. ``variant="public"``) makes ``hook.list_x(**listing)`` = ``hook.list_records``."""

    def __init__(self, resource: str, doc: str, *, listing: bool = False, **fixed: Any) -> None:
        self.resource, self.listing, self.fixed, self.__doc__ = resource, listing, fixed, doc

    def __get__(self, hook: OneCodexBaseHook | None, owner: type | None = None) -> Callable[..., R]:
        if hook is None:
            return cast(Callable[..., R], self)
        call = hook.list_records if self.listing else hook.get_record
        return cast(Callable[..., R], functools.partial(call, self.resource, **self.fixed))


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
            self.__dict__.pop("client").close()

    def _perform(self, effect: Effect) -> Any:
        from airflow.sdk.log import mask_secret

        result = self.client.perform(effect)
        urls = [effect.url] if isinstance(effect, FetchUrl) else signed_urls(result)
        for secret in (s for url in urls for s in url_secrets(url)):
            mask_secret(secret)
        return result

    def run(self, op: Op[T]) -> T:
        """Run an operation of :mod:`airflow_provider_onecodex.api`; pre-signed links are masked."""
        return ops.run_op(op, self._perform)

    def get_record(self, resource: str, record_id: str) -> dict[str, Any]:
        """``GET /api/v1/<resource>/<id>`` (``OneCodexNotFoundError``: 404; ``OneCodexAuthError``: 401-403)."""
        return self.run(ops.get_record(resource, record_id))

    def list_records(self, resource: str, **listing: Any) -> list[dict[str, Any]]:
        """``GET /api/v1/<resource>``, every page; arguments of :class:`~airflow_provider_onecodex.api.ops.Listing`
        (``where``, ``sort``, ``per_page``, ``variant``...); ``max_records`` 1000 by default, ``None`` = all."""
        return self.run(ops.list_records(resource, **{"max_records": DEFAULT_MAX_RECORDS, **listing}))

    def list_by_sample(
        self, resource: str, sample_id: str | None = None, **listing: Any
    ) -> list[dict[str, Any]]:
        """:meth:`list_records` filtered by ``sample_id``, ``tax_id`` and ``analysis_type`` when given."""
        filters = {k: listing.pop(k, None) for k in ("where", "analysis_type", "tax_id")}
        return self.list_records(resource, where=analysis_where(sample_id, **filters), **listing)

    def iter_records(self, resource: str, **listing: Any) -> Iterator[dict[str, Any]]:
        """:meth:`list_records`, lazily: stopping the iteration stops the requests."""
        return self.client.iter_records(resource, **{"max_records": DEFAULT_MAX_RECORDS, **listing})

    def list_by_ids(self, resource: str, ids: list[str]) -> list[dict[str, Any]]:
        """Records of ``ids``, one ``$uri $in`` request per :data:`~airflow_provider_onecodex.api.batch.ID_BATCH`."""
        return self.run(list_by_ids(resource, ids))

    def get_account(self) -> Account:
        """``GET /api/v1/account``: the account the key belongs to."""
        return self.run(ops.get_account())  # type: ignore[return-value]

    def test_connection(self) -> tuple[bool, str]:
        """``(ok, message)`` of :func:`airflow_provider_onecodex.api.client.check_connection`."""
        from airflow_provider_onecodex.api.client import check_connection

        return check_connection(lambda: self.config)
