"""What every One Codex sensor shares: :class:`OneCodexWaitSensor`.

``BaseSensorOperator`` does the waiting (``poke_interval``, ``timeout``, ``soft_fail``,
``never_fail``, reschedule mode); this class adds only what One Codex needs: the outcome gate
(:meth:`OneCodexWaitSensor._finish`), the one progress rule of every mode
(:func:`~airflow_provider_onecodex.api.progress.advance`: failure count, fail fast before any
answer, ``Retry-After`` pacing), a connection re-read at every poke, a ``timeout`` and progress that
survive task retries and reschedules (Airflow 3.3's ``task_state_store``; on 3.2 each try and each
reschedule starts afresh), the XCom size policy, and deferral to a trigger from the first pending poke.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_provider_onecodex.api.errors import OneCodexError
from airflow_provider_onecodex.api.progress import MAX_CONSECUTIVE_FAILURES, WaitProgress, advance
from airflow_provider_onecodex.api.waiting import OUTCOME_STATUSES
from airflow_provider_onecodex.links.onecodex import OneCodexLink
from airflow_provider_onecodex.operators.base import OneCodexTask, failing_fast

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger


STARTED_KEY = "onecodex_wait_started_at"  # task_state_store key: when this wait began, epoch seconds
PROGRESS_KEY = "onecodex_wait_progress"  # task_state_store key: WaitProgress.to_dict() of this wait


class OneCodexWaitSensor(OneCodexTask, BaseSensorOperator):
    """What every One Codex sensor shares: the hook, argument checks, the outcome gate, deferral.

    Subclasses say what one poll is (:meth:`_poll`, returning an outcome dict from
    :mod:`airflow_provider_onecodex.api.waiting`), which trigger waits for them (:meth:`_trigger`)
    and how to name the wait in logs (:meth:`describe`). Poke, reschedule and the trigger's events
    all go through :meth:`_finish`, so every mode ends the same way.
    """

    ui_color = "#e8f4f8"
    operator_extra_links = (OneCodexLink(),)

    def __init__(
        self,
        *,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_consecutive_failures: int = MAX_CONSECUTIVE_FAILURES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)  # onecodex_conn_id, xcom_max_bytes, destination...: OneCodexTask
        self.deferrable = deferrable
        self.max_consecutive_failures = max_consecutive_failures
        self._progress = WaitProgress()  # failure count, answered yet, Retry-After (api/progress.py)
        self._store: Any = None  # Airflow 3.3's task_state_store of this try, if any
        self._deadline: float | None = None  # epoch seconds; set by execute
        self.onecodex_url: str | None = None  # read by OneCodexLink when the task phase ends

    def _check_wait_args(self) -> None:
        """Checks shared by every wait, after templating and before any request."""
        failures = self.max_consecutive_failures
        if isinstance(failures, bool) or not isinstance(failures, int):
            raise TypeError(f"max_consecutive_failures must be an int, got {failures!r}")
        if failures < 1:
            raise ValueError(f"max_consecutive_failures must be >= 1, got {failures!r}")
        if not self.poke_interval > 0:
            raise ValueError(f"poke_interval must be > 0 seconds, got {self.poke_interval!r}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout!r}")

    # -- what subclasses define --------------------------------------------------------------
    def _validate(self) -> None:
        """Validate the wait's arguments (TypeError/ValueError naming the bad one)."""
        raise NotImplementedError

    def describe(self) -> str:
        """The wait in a few words, e.g. ``alignment 0123456789abcdef``."""
        raise NotImplementedError

    def _poll(self) -> dict[str, Any]:
        """One poll: fetch and decide. Returns an outcome dict."""
        raise NotImplementedError

    def _trigger(self, deadline: float) -> BaseTrigger:
        """The trigger that continues this wait in the triggerer."""
        raise NotImplementedError

    def _web_url(self, final: bool = False) -> str | None:
        """The One Codex web page of what is waited for, if known (``final``: the wait is ending)."""
        return None

    # -- the shared gate ---------------------------------------------------------------------
    def _finish(self, outcome: Any) -> PokeReturnValue:
        """Turn an outcome (a poke's or a trigger event) into a poke result or an exception."""
        if (
            not isinstance(outcome, dict)
            or outcome.get("status") not in OUTCOME_STATUSES
            or (outcome["status"] == "success" and "value" not in outcome)
        ):
            # A lost or unknown event must never fall through to success.
            raise AirflowException(
                f"One Codex wait for {self.describe()} got an unknown outcome: {outcome!r}"
            )
        status, message = outcome["status"], str(outcome.get("message", ""))
        if status == "success":
            self.log.info("One Codex wait done: %s", message)
            return PokeReturnValue(is_done=True, xcom_value=outcome["value"])
        if status == "pending":
            self.log.info("Waiting for %s: %s", self.describe(), message)
            return PokeReturnValue(is_done=False)
        if status == "transient":
            self.log.warning(
                "Polling %s failed (%d in a row), will retry: %s",
                self.describe(),
                self._progress.failures,
                message,
            )
            return PokeReturnValue(is_done=False)
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        if outcome.get("kind") == "transient":
            raise AirflowException(message)
        raise AirflowFailException(message)

    def _advance(self, outcome: dict[str, Any]) -> dict[str, Any]:
        """A poll's outcome under the one rule of every mode (:func:`~airflow_provider_onecodex.api.progress.advance`):
        failure count, fail fast before any answer, outages after one, ``Retry-After`` pacing."""
        before = self._progress.to_dict()
        outcome = advance(
            self._progress,
            outcome,
            now=time.time(),
            poll_interval=float(self.poke_interval),
            max_consecutive_failures=self.max_consecutive_failures,
            max_retry_after=self._max_retry_after(),
        )
        if self._store is not None and self._progress.to_dict() != before:
            self._save(PROGRESS_KEY, self._progress.to_dict())  # reschedule mode: the next poke reads it
        return outcome

    def _max_retry_after(self) -> float | None:
        try:
            return float(self.hook.config.retry.max_retry_after)
        except Exception:  # an unusable connection: the poll reports it
            return None

    def _get_next_poke_interval(self, started_at: Any, run_duration: Any, poke_count: int) -> float:
        """Airflow's interval, or longer when One Codex asked for a pause (``Retry-After``)."""
        interval = super()._get_next_poke_interval(started_at, run_duration, poke_count)
        return self._progress.next_poll_in(float(interval), time.time())

    def _pick_up_connection(self) -> bool:
        """Re-read the connection; when its key, host or settings changed, later requests use the
        new ones (a whole request always uses one or the other). True when it changed."""
        if "hook" not in self.__dict__:
            return False  # not read yet: the first use reads it as it is now
        from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

        fresh = OneCodexHook(self.onecodex_conn_id)
        try:
            changed = fresh.config != self.hook.config
        except Exception as exc:  # missing or unusable now: keep the old one, the poll reports
            self.log.debug("Could not re-read connection %s: %s", self.onecodex_conn_id, type(exc).__name__)
            return False
        if changed:
            self.log.info("Connection %s changed: polling with its new settings", self.onecodex_conn_id)
            self.hook.close()
            self.__dict__["hook"] = fresh
        return changed

    def _save(self, key: str, value: Any) -> None:
        try:
            self._store.set(key, value, retention=timedelta(seconds=float(self.timeout) + 86400))
        except Exception as exc:  # the store is a convenience: never fail a wait over it
            self.log.debug("task_state_store unavailable (%s)", type(exc).__name__)

    def _set_link(self, *, final: bool = False) -> None:
        """Set the extra link once known; ``final``: the wait is ending (a link that costs a
        request is resolved then, once, not at every poke)."""
        if self.onecodex_url is None:
            # An unusable connection is left to the poll that follows, which reports it as a failure.
            with contextlib.suppress(OneCodexError):
                self.onecodex_url = self._web_url(final)

    def _wait_started_at(self, context: Context) -> float:
        """When this wait began (epoch seconds), kept across task retries where Airflow allows.

        With Airflow 3.3's ``task_state_store`` a retry continues the same ``timeout`` instead of
        starting a new one. On Airflow 3.2 (no store), or outside a real task run, the wait starts
        now: each try gets the whole ``timeout``, as Airflow's own sensors do.
        """
        now = time.time()
        store = context.get("task_state_store") if hasattr(context, "get") else None
        if store is None:
            return now
        try:
            started = store.get(STARTED_KEY)
            self._progress = WaitProgress.from_dict(store.get(PROGRESS_KEY))
            self._store = store
            if isinstance(started, (int, float)) and not isinstance(started, bool) and started <= now:
                return float(started)
        except Exception as exc:  # the store is a convenience: never fail a wait over it
            self.log.debug("task_state_store unavailable (%s); the timeout starts now", type(exc).__name__)
            return now
        self._save(STARTED_KEY, now)
        return now

    # -- Airflow entry points ----------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        """Validate, then let ``BaseSensorOperator.execute`` poke (it applies ``timeout``,
        ``soft_fail`` and ``never_fail``); :meth:`poke` defers when ``deferrable``.

        :raises AirflowFailException: (also the original ``TypeError``/``ValueError``) a bad
            argument: task retries would meet it again, so the task fails without them.
        """
        with failing_fast():
            self._check_wait_args()
            self._validate()  # before any request
        # Airflow restarts the timeout at each task try (in reschedule mode too: a retry deletes
        # the reschedule rows); count from the wait's first start, kept in the task state store.
        self._deadline = self._wait_started_at(context) + float(self.timeout)
        return super().execute(context)

    def poke(self, context: Context) -> PokeReturnValue:
        """One poll: done, pending, or an exception (``AirflowFailException`` for a failed
        analysis; ``AirflowSensorTimeout`` when the wait's deadline, kept across retries, passed)."""
        self._pick_up_connection()  # a key rotation or host change since the last poke
        outcome = self._poll()
        if outcome.get("kind") == "auth" and self._pick_up_connection():
            outcome = self._poll()  # the key was rotated during this poke: ask again with the new one
        self._set_link()
        result = self._finish(self._advance(outcome))
        if result.is_done:
            self._set_link(final=True)
            return PokeReturnValue(is_done=True, xcom_value=self._bounded(result.xcom_value, context))
        if self._deadline is None:
            return result
        left = self._deadline - time.time()
        if left <= 0:
            raise AirflowSensorTimeout(
                f"Timed out after {float(self.timeout):g} s waiting for {self.describe()} (counted across retries)"
            )
        if self.deferrable:
            self.defer(
                trigger=self._trigger(self._deadline),
                method_name="execute_complete",
                timeout=timedelta(seconds=left),
            )
        return result

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger: return the XCom value or raise as the poke would have.

        :raises AirflowException: a missing or unknown event (never read as success).
        """
        with failing_fast():
            self._validate()
        self._set_link(final=True)
        result = self._finish(event)
        if not result.is_done:
            raise AirflowException(
                f"One Codex trigger for {self.describe()} ended without a final outcome: {event!r}"
            )
        return self._bounded(result.xcom_value, context)

    def _trigger_kwargs(self, deadline: float) -> dict[str, Any]:
        """The kwargs every One Codex trigger shares."""
        return {
            "onecodex_conn_id": self.onecodex_conn_id,
            "poll_interval": float(self.poke_interval),
            "deadline": deadline,
            "timeout": float(self.timeout),
            "max_consecutive_failures": self.max_consecutive_failures,
            "consecutive_failures": self._progress.failures,
            "reached": self._progress.reached,
            "unreachable_since": self._progress.unreachable_since,
        }
