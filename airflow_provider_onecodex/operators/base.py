"""What every One Codex operator shares: :class:`OneCodexOperator` (the connection, the lazily
built hook, failing without retries on errors retrying cannot fix, and the XCom size policy of
every value it pushes).

Importing this module is cheap (DAG files import it on every parse).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseOperator

from airflow_provider_onecodex.api.ids import is_literal
from airflow_provider_onecodex.api.results import DEFAULT_XCOM_MAX_BYTES, validate_xcom_max_bytes

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

T = TypeVar("T")


def checked_if_literal(value: T, check: Callable[..., object], *args: Any, **kwargs: Any) -> T:
    """``value``, after ``check(value, *args, **kwargs)`` when no template or XCom reference will
    change it (a plain string without Jinja, or a number): such a value fails when the DAG is
    parsed, not in a task."""
    if is_literal(value) or isinstance(value, (int, float)):
        check(value, *args, **kwargs)
    return value


def _fails_fast(execute: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an operator's ``execute``: errors a task retry cannot fix (a bad argument, 400, 401,
    402, 403, 404, 409, 422) raise ``AirflowFailException`` (no retries), as the sensors do;
    transient ones (429, 5xx, timeouts, connection errors) stay retryable. The XCom value then
    goes through the size policy (:meth:`OneCodexOperator._bounded`)."""

    @functools.wraps(execute)
    def wrapper(self: OneCodexOperator, context: Context, *args: Any, **kwargs: Any) -> Any:
        with failing_fast():
            value = execute(self, context, *args, **kwargs)
        return self._bounded(value, context)  # nested calls (super().execute) see a small value

    wrapper._onecodex_fails_fast = True  # type: ignore[attr-defined]
    return wrapper


@contextlib.contextmanager
def failing_fast(also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Re-raise an error a task retry cannot fix (:func:`~airflow_provider_onecodex.api.errors.retry_cannot_help`:
    a bad argument, a malformed record, 400/401/402/403/404/409/422; and ``also``) as the same error,
    now also an ``AirflowFailException`` (no retries). Operators and sensors both fail through this."""
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from airflow_provider_onecodex.api.errors import retry_cannot_help

    try:
        yield
    except AirflowException:
        raise
    except Exception as exc:
        if retry_cannot_help(exc) or isinstance(exc, also):
            raise _failing(exc, AirflowFailException) from exc.__cause__
        raise


_FAILING: dict[type, type] = {}


def _failing(exc: Exception, fail: type[Exception]) -> Exception:
    """``exc``, now also an ``AirflowFailException``: Airflow fails the task without retries, while
    ``except ValueError`` or ``except OneCodexNotFoundError`` in the user's code still catch it."""
    original = type(exc)
    combined = _FAILING.get(original)
    if combined is None:

        def __reduce__(self: Exception) -> Any:  # pickles as the original class
            reduced = original.__reduce__(self)
            func, args = reduced[0], tuple(original if a is type(self) else a for a in reduced[1])
            return (original if func is type(self) else func, args, *reduced[2:])

        namespace = {"__module__": original.__module__, "__doc__": original.__doc__, "__reduce__": __reduce__}
        combined = _FAILING.setdefault(original, type(original.__name__, (original, fail), namespace))
    twin = combined.__new__(combined, *exc.args)  # the same error; __init__ ran for the original
    twin.__dict__.update(exc.__dict__)
    twin.__cause__, twin.__context__ = exc.__cause__, exc.__context__
    return twin.with_traceback(exc.__traceback__)  # type: ignore[no-any-return]


class OneCodexTask(BaseOperator):
    """The arguments and helpers every One Codex operator and sensor shares: the connection id, the
    lazily built hook and the XCom size policy of the value the task returns.

    :param onecodex_conn_id: Airflow connection id (default ``onecodex_default``).
    :param xcom_max_bytes: largest XCom value in bytes of compact JSON (default 49152 = 48 KiB).
        A larger value goes to ``destination`` (XCom gets ``{uri, size, sha256, summary}``), or the
        task fails before pushing, with the size, the limit and what to set. A literal bad value
        (negative, not an int) raises ``TypeError``/``ValueError`` when the DAG is parsed.
    :param destination: folder for values too large for XCom (``s3://bucket/prefix``,
        ``file:///data/onecodex``, a local path); ``file://`` is single-machine only. Default None.
    :param destination_conn_id: Airflow connection of that storage.
    """

    _results_policy = False  # True where execute applies its own (results) policy

    def __init__(
        self,
        *,
        onecodex_conn_id: str = "onecodex_default",
        xcom_max_bytes: int = DEFAULT_XCOM_MAX_BYTES,
        destination: Any = None,
        destination_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.onecodex_conn_id = onecodex_conn_id
        self.xcom_max_bytes = checked_if_literal(xcom_max_bytes, validate_xcom_max_bytes)
        self.destination = destination
        self.destination_conn_id = destination_conn_id

    @cached_property
    def hook(self) -> OneCodexHook:
        from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

        return OneCodexHook(self.onecodex_conn_id)

    def _bounded(self, value: Any, context: Context) -> Any:
        """``value`` under the XCom size policy (:func:`~airflow_provider_onecodex.operators.storage.bounded_xcom`):
        over ``xcom_max_bytes`` it goes to ``destination``, or the task fails before pushing (results
        operators apply their own)."""
        if self._results_policy:
            return value
        from airflow_provider_onecodex.operators.storage import bounded_task_value

        return bounded_task_value(self, value, context)


class OneCodexOperator(OneCodexTask):
    """A One Codex operator: :class:`OneCodexTask`, and failing without retries on errors retrying
    cannot fix (see ``_fails_fast``).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        execute = cls.__dict__.get("execute")
        if execute is not None and not getattr(execute, "_onecodex_fails_fast", False):
            cls.execute = _fails_fast(execute)  # type: ignore[method-assign]


def sample_link(hook: OneCodexHook, sample_id: str | None) -> str | None:
    """The "One Codex" link of a sample (:func:`~airflow_provider_onecodex.api.weblinks.sample_url`:
    its primary classification's page, else the samples list), reading the sample once
    (``GET /api/v1/samples/{id}``). A link is a convenience: a failed read gives the samples list."""
    from airflow_provider_onecodex.api.errors import OneCodexError
    from airflow_provider_onecodex.api.weblinks import sample_url

    sample: Any = None
    if sample_id:
        with contextlib.suppress(OneCodexError):
            sample = hook.get_sample(sample_id)
    return sample_url(hook.config.base_url, sample)
