"""One Codex operations as sans-I/O generators, and the two drivers that run them.

An operation is a generator that *yields effects* (values describing one piece of I/O) and
*receives their results*; its ``return`` value is the operation's result. It holds every decision
(validation, request building, multi-step logic, response interpretation) and no I/O, so it is
defined once and runs unchanged under the sync hook (requests) and the async hook (httpx)::

    def get_sample_metadata(sample_id: object) -> Op[dict]:
        ident = validate_id(sample_id, "sample_id", resource="samples")  # before any request
        sample = yield ApiCall("GET", f"/api/v1/samples/{ident}")
        return (yield ApiCall("GET", f"/api/v1/metadata/{metadata_id_of(sample, ident)}"))

    hook.run(get_sample_metadata("0123456789abcdef"))          # sync driver
    await async_hook.run(get_sample_metadata("0123456789abcdef"))  # async driver

A failed effect is *thrown into* the generator at its ``yield``, so an operation can decide what a
failure means (fall back to another route, look for what an unknown-outcome POST created) or let
it propagate. Validation before the first ``yield`` runs when the driver starts the generator, i.e.
before any request.

Effects (each executor in :mod:`.client` / :mod:`.async_client` performs them):

- :class:`ApiCall`: one authenticated request to the One Codex API, with the one retry policy
  (creating POSTs are never resent blindly: ``retry=False`` unless the call says otherwise);
- :class:`Listing`: every record of a paged listing (``GET /api/v1/<resource>``), as a list;
- :class:`FetchUrl`: the body of a pre-signed URL, fetched with a plain client (no One Codex auth);
- :class:`Sleep`: wait (e.g. a server's ``Retry-After`` before resending a refused POST).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from contextlib import closing
from dataclasses import dataclass, fields
from typing import Any, TypeVar

T = TypeVar("T")

# Idempotent methods are retried; POST is not (it may create something or cost money).
RETRIED_METHODS = frozenset({"GET", "HEAD", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True)
class ApiCall:
    """One request to the One Codex API.

    :param method: HTTP method, upper case.
    :param path: route starting with ``/api/v1/`` (no query string; see ``params``).
    :param params: query parameters.
    :param json_body: JSON body, or ``None`` for none.
    :param expect: ``dict``/``list`` to require that JSON type of the answer, ``None`` for any
        (or no body); ``str`` for a text body (e.g. logs).
    :param retry: ``None`` = by method (:data:`RETRIED_METHODS`); ``True``/``False`` to override.
    :param with_headers: the result is ``(data, headers)`` instead of ``data``.
    :param headers: extra request headers (e.g. ``X-Pagination-Style``), added to the client's.

    The result sent back into the operation is the decoded JSON (or text for ``expect=str``).
    """

    method: str
    path: str
    json_body: Any = None
    expect: type | None = dict
    params: dict[str, str] | None = None
    retry: bool | None = None
    with_headers: bool = False
    headers: dict[str, str] | None = None

    @property
    def retried(self) -> bool:
        return self.method in RETRIED_METHODS if self.retry is None else self.retry


#: what the hook's listings of one sample's analyses take besides (an unknown-argument error says it)
BY_SAMPLE_NOTE = (
    "; listings of one sample's analyses also: sample_id, tax_id (alignments), analysis_type (analyses)"
)


@dataclass(frozen=True)
class Listing:
    """Every record of ``GET /api/v1/<resource>[/<variant>]`` matching ``where``, as one list.

    Validated and normalized when built (so in the operation, before any request; the executors
    trust it): ``where``/``sort`` become dicts (their JSON text is accepted), see
    :func:`~airflow_provider_onecodex.api.paging.validate_listing` for the rules and errors.

    :param per_page: page size 1..1000; ``None`` = the connection's ``page_size`` (default 100).
    :param max_records: stop after this many records; ``None`` = all. The hook and operators
        default to :data:`~airflow_provider_onecodex.api.paging.DEFAULT_MAX_RECORDS` (1000).
    :param max_pages: hard cap on page requests; reaching it raises ``ValueError``.
    :param variant: ``"public"`` or ``"organization"`` listings where the resource has them.
    """

    resource: str
    where: Any = None
    sort: Any = None
    per_page: int | None = None
    max_records: int | None = None
    variant: str | None = None
    max_pages: int = 10_000

    def __post_init__(self) -> None:
        from airflow_provider_onecodex.api.paging import validate_listing

        for name, value in validate_listing(self).items():
            object.__setattr__(self, name, value)

    @classmethod
    def of(cls, resource: str, **listing: Any) -> Listing:
        """``Listing(resource, **listing)`` for arguments a user passed: an unknown one raises
        ``TypeError`` naming it and the arguments a listing takes."""
        from airflow_provider_onecodex.api.resources import check_known_arguments

        known = [f.name for f in fields(cls) if f.name != "resource"]
        check_known_arguments("listing", listing, known, BY_SAMPLE_NOTE)
        return cls(resource, **listing)

    @property
    def path(self) -> str:
        return f"/api/v1/{self.resource}" + (f"/{self.variant}" if self.variant else "")


@dataclass(frozen=True)
class FetchUrl:
    """The body (bytes) of a pre-signed URL, fetched without One Codex auth, size-capped."""

    url: str


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` (the executor's sleep: ``time.sleep`` / ``asyncio.sleep``, injectable)."""

    seconds: float


Effect = ApiCall | Listing | FetchUrl | Sleep
Op = Generator[Effect, Any, T]


class Driving:
    """One operation being driven: the effect it waits on, or (``done``) its return value.

    Both drivers below only add the I/O: perform :attr:`effect`, then :meth:`send` its result or
    :meth:`throw` its failure (the operation decides what a failure means).
    """

    def __init__(self, op: Op[Any]) -> None:
        self.op = op
        self.done = False
        self.value: Any = None
        self.effect: Effect | None = None
        self._step(op.__next__)

    def _step(self, resume: Callable[..., Effect], *args: Any) -> None:
        try:
            self.effect = resume(*args)
        except StopIteration as stop:
            self.done, self.value, self.effect = True, stop.value, None
            self.op.close()

    def send(self, result: Any) -> None:
        self._step(self.op.send, result)

    def throw(self, exc: Exception) -> None:
        self._step(self.op.throw, exc)


def run_op(op: Op[T], perform: Callable[[Effect], Any]) -> T:
    """Drive ``op`` to its return value, performing each effect with ``perform`` (sync)."""
    with closing(op):
        driving = Driving(op)
        while not driving.done:
            try:
                result = perform(driving.effect)  # type: ignore[arg-type]
            except Exception as exc:
                driving.throw(exc)
            else:
                driving.send(result)
        return driving.value  # type: ignore[no-any-return]


async def arun_op(op: Op[T], perform: Callable[[Effect], Awaitable[Any]]) -> T:
    """:func:`run_op` for an async ``perform``: the same operation, its effects awaited."""
    with closing(op):
        driving = Driving(op)
        while not driving.done:
            try:
                outcome = await perform(driving.effect)  # type: ignore[arg-type]
            except Exception as exc:
                driving.throw(exc)
            else:
                driving.send(outcome)
        return driving.value  # type: ignore[no-any-return]


def call(effect: ApiCall) -> Op[Any]:
    """The operation of a single request: ``return (yield effect)``."""
    return (yield effect)


# -- the plain calls: one record, one listing --------------------------------------------------


def record_path(resource: object, record_id: object, name: str | None = None) -> str:
    """``/api/v1/<resource>/<id>``, validated: ``TypeError``/``ValueError`` naming the argument
    (``name``, default the resource's own, e.g. ``alignment_id``) and the bad value."""
    from airflow_provider_onecodex.api.ids import API_PREFIX, validate_id
    from airflow_provider_onecodex.api.resources import id_arg_name, validate_resource

    resource = validate_resource(resource)
    ident = validate_id(record_id, name or id_arg_name(resource), resource=resource)
    return f"{API_PREFIX}/{resource}/{ident}"


def get_record(resource: str, record_id: object, *, name: str | None = None) -> Op[dict[str, Any]]:
    """``GET /api/v1/<resource>/<id>``: one record (a JSON object).

    :param name: the argument name to use in errors (default: ``<singular>_id``).
    :raises TypeError, ValueError: bad resource or id, before any request.
    :raises OneCodexNotFoundError: 404. :raises OneCodexAuthError: 401/402/403.
    """
    path = record_path(resource, record_id, name)
    record: dict[str, Any] = yield ApiCall("GET", path)
    return record


def list_records(resource: str, **listing: Any) -> Op[list[dict[str, Any]]]:
    """``GET /api/v1/<resource>``, every page: the arguments of :class:`Listing`.

    :raises TypeError, ValueError: an unknown argument, or a bad value (before any request).
    """
    records: list[dict[str, Any]] = yield Listing.of(resource, **listing)
    return records


def get_account() -> Op[dict[str, Any]]:
    """``GET /api/v1/account``: the key's own account (one object, not a list)."""
    account: dict[str, Any] = yield ApiCall("GET", "/api/v1/account")
    return account
