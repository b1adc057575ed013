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
- :class:`FetchUrl`: the body of a pre-signed URL, fetched with a plain client (no One Codex auth).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
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

    The result sent back into the operation is the decoded JSON (or text for ``expect=str``).
    """

    method: str
    path: str
    json_body: Any = None
    expect: type | None = dict
    params: dict[str, str] | None = None
    retry: bool | None = None
    with_headers: bool = False

    @property
    def retried(self) -> bool:
        return self.method in RETRIED_METHODS if self.retry is None else self.retry


@dataclass(frozen=True)
class Listing:
    """Every record of ``GET /api/v1/<resource>[/<variant>]`` matching ``where``, as one list.

    Arguments as ``OneCodexClient.iter_records``; they are validated by the executor before the
    first request.
    """

    resource: str
    where: Any = None
    sort: Any = None
    per_page: int | None = None
    max_records: int | None = None
    variant: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchUrl:
    """The body (bytes) of a pre-signed URL, fetched without One Codex auth, size-capped."""

    url: str


Effect = ApiCall | Listing | FetchUrl
Op = Generator[Effect, Any, T]


def run_op(op: Op[T], perform: Callable[[Effect], Any]) -> T:
    """Drive ``op`` to its return value, performing each effect with ``perform`` (sync)."""
    try:
        effect = next(op)
        while True:
            try:
                result = perform(effect)
            except Exception as exc:  # the operation decides what a failure means
                effect = op.throw(exc)
            else:
                effect = op.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        op.close()


async def arun_op(op: Op[T], perform: Callable[[Effect], Awaitable[Any]]) -> T:
    """Async twin of :func:`run_op`: the same operation, effects awaited."""
    try:
        effect = next(op)
        while True:
            try:
                result = await perform(effect)
            except Exception as exc:
                effect = op.throw(exc)
            else:
                effect = op.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        op.close()


def call(effect: ApiCall) -> Op[Any]:
    """The operation of a single request: ``return (yield effect)``."""
    return (yield effect)
