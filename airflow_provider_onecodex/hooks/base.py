"""The ``onecodex`` connection (fields: README "The connection") as the sync hooks read it
(:class:`OneCodexBaseHook`, its :meth:`~OneCodexBaseHook.run` and :class:`Route`) and as the triggers do
(:class:`OneCodexAsyncHook`). The key (only read from the connection), its Basic-auth token and every
pre-signed link a sync answer carries are masked in logs."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, get_args

from airflow.sdk import BaseHook

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.analyses import FILTERED_ONLY_ON, get_sub, sample_listing_where
from airflow_provider_onecodex.api.batch import list_by_ids
from airflow_provider_onecodex.api.config import ClientConfig, validate_conn_id
from airflow_provider_onecodex.api.downloads import url_secrets
from airflow_provider_onecodex.api.http import config_of
from airflow_provider_onecodex.api.ops import Effect, FetchUrl, Op, T
from airflow_provider_onecodex.api.paging import DEFAULT_MAX_RECORDS
from airflow_provider_onecodex.api.records import Account, signed_urls
from airflow_provider_onecodex.api.resources import id_arg_name

if TYPE_CHECKING:
    from airflow_provider_onecodex.api.client import OneCodexClient


R = TypeVar("R")
ARG = inspect.Parameter.POSITIONAL_OR_KEYWORD
Call = str | Callable[..., Any]  # what a Route calls: a route path, or an operation of the api
_ONE = (
    "\n\n    :raises TypeError, ValueError: a bad id, before any request. :raises OneCodexNotFoundError: 404."
)
_LISTING = "\n\n    Keywords of :meth:`~OneCodexBaseHook.list_records`: ``where``, ``sort``, ``per_page``, ``max_records``..."


class Route(Generic[R]):
    """A hook method that is one call, declared in a line, made a real method returning ``R`` (docs:
    docs/architecture.md). ``Route[R](op)``: ``hook.run(op(...))`` with ``op``'s arguments and docstring
    (``kw_only=N``: keyword-only after the first N). ``Route[R](path)``: ``GET /api/v1/<path>``:
    ``"tags/{id}"`` -> ``hook.x(tag_id)``; ``"<resource>/{id}/results"`` -> ``hook.x(resource,
    analysis_id)``; ``"samples/public"`` -> ``hook.x(**listing)``; ``by_sample=True``: ``sample_id`` first."""

    def __init__(self, call: Call, note: str = "", *, by_sample: bool = False, kw_only: int = 0) -> None:
        self.call, self.by_sample, self.kw_only = call, by_sample, kw_only
        if callable(call):
            self.__doc__ = f"{(call.__doc__ or '').rstrip()}\n\n    {note}" if note else call.__doc__
            return
        only = [f", ``{name}``" for name, route in FILTERED_ONLY_ON.items() if by_sample and call == route]
        where = f" by ``sample_id``{''.join(only)}" if by_sample else ""
        how = _ONE if "{id}" in call else _LISTING
        self.__doc__ = f"``GET /api/v1/{call}``{where}" + (f": {note}." if note else ".") + how

    def _form(self, owner: type) -> tuple[inspect.Signature, Callable[..., Any]]:
        call = self.call
        if callable(call):
            params = list(inspect.signature(call).parameters.values())
            if n := self.kw_only:  # the hooks' rule: keyword-only after the first id(s)
                params[n:] = [p.replace(kind=p.KEYWORD_ONLY) if p.kind is ARG else p for p in params[n:]]
            return inspect.Signature(params), lambda hook, *a, **k: hook.run(call(*a, **k))
        resource, *rest = call.split("/")
        if rest[:1] == ["{id}"]:  # a record or its sub-route: (sample_id...), or (resource, analysis_id)
            ids = ["resource", "analysis_id"] if resource.startswith("<") else [id_arg_name(resource)]
            signature = inspect.Signature([inspect.Parameter(name, ARG, annotation="str") for name in ids])
            if not rest[1:]:
                return signature, lambda hook, record_id: hook.get_record(resource, record_id)
            return signature, lambda hook, *a: hook.run(get_sub(a[0] if a[1:] else resource, a[-1], rest[1]))
        via = "list_by_sample" if self.by_sample else "list_records"
        fixed = {"variant": rest[0]} if via == "list_records" and rest else {}
        signature = inspect.signature(functools.partial(getattr(owner, via), None, resource, **fixed))
        return signature, lambda hook, *a, **k: getattr(hook, via)(resource, *a, **{**fixed, **k})

    def __set_name__(self, owner: type, name: str) -> None:
        signature, call = self._form(owner)

        def method(hook: OneCodexBaseHook, /, *args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:  # name the method and its signature, as Python names a plain one's
                raise TypeError(f"{name}(): {exc}; it takes {name}{shown_args}") from None
            return call(hook, *bound.args, **bound.kwargs)

        returns = get_args(getattr(self, "__orig_class__", None)) or [signature.return_annotation]
        shown_args = signature.replace(return_annotation=returns[0])
        params = [inspect.Parameter("self", ARG), *signature.parameters.values()]
        shown = signature.replace(parameters=params, return_annotation=returns[0])
        method.__signature__ = shown  # type: ignore[attr-defined]
        method.__name__, method.__qualname__ = name, f"{owner.__qualname__}.{name}"
        method.__doc__, method.__module__ = self.__doc__, owner.__module__
        self.method = method

    def __get__(self, hook: OneCodexBaseHook | None, owner: type | None = None) -> Callable[..., R]:
        return cast(Callable[..., R], self.method.__get__(hook, owner))


class OneCodexConnection(BaseHook):
    """Airflow's connection attributes, shared by both hooks; no I/O in ``__init__``."""

    conn_name_attr = "onecodex_conn_id"
    default_conn_name = "onecodex_default"
    conn_type = "onecodex"
    hook_name = "One Codex"

    def __init__(self, onecodex_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        validate_conn_id(onecodex_conn_id)
        self.onecodex_conn_id = onecodex_conn_id


class OneCodexBaseHook(OneCodexConnection):
    """The sync hook's core: the connection read on first use, one ``requests`` session, :meth:`run`,
    and the calls of any resource. Concept hooks subclass it: :class:`Route` declarations, or methods
    that sequence I/O (``return self.run(op)``)."""

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

    list_by_ids = Route[list[dict[str, Any]]](list_by_ids)
    get_account = Route[Account](ops.get_account)

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
        """:meth:`list_records` by ``sample_id``; ``tax_id`` (alignments), ``analysis_type`` (analyses)."""
        filters = {k: listing.pop(k, None) for k in ("where", "analysis_type", "tax_id")}
        return self.list_records(
            resource, where=sample_listing_where(resource, sample_id, **filters), **listing
        )

    def iter_records(self, resource: str, **listing: Any) -> Iterator[dict[str, Any]]:
        """:meth:`list_records`, lazily: stopping the iteration stops the requests."""
        return self.client.iter_records(resource, **{"max_records": DEFAULT_MAX_RECORDS, **listing})

    def test_connection(self) -> tuple[bool, str]:
        """``(ok, message)`` of :func:`airflow_provider_onecodex.api.client.check_connection`."""
        from airflow_provider_onecodex.api.client import check_connection

        return check_connection(lambda: self.config)


class OneCodexAsyncHook(OneCodexConnection):
    """What deferrable code calls, nothing more: the connection's settings, read with ``await
    BaseHook.aget_connection(...)`` (nothing blocks the loop). The triggers build their
    :class:`~airflow_provider_onecodex.api.async_client.AsyncOneCodexClient` from it anew whenever the
    connection changed (:class:`~airflow_provider_onecodex.triggers.connection.ConnectionClient`), and run
    the same operations as :class:`OneCodexHook` with the same errors."""

    hook_name = "One Codex (async)"

    async def aget_config(self) -> ClientConfig:
        """Client settings from the connection as it is now, read without blocking; masks the key."""
        from airflow.sdk.log import amask_secret

        conn = await BaseHook.aget_connection(self.onecodex_conn_id)
        aextra = getattr(conn, "aextra_dejson", None)
        # Airflow < 3.3.2 has no aextra_dejson: parse extra ourselves (its values are not secrets)
        extra = await aextra() if aextra is not None else (json.loads(conn.extra) if conn.extra else {})
        config, secrets = config_of(conn, extra)
        for secret in secrets:
            await amask_secret(secret)
        return config
