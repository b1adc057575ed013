"""What every One Codex sensor shares: :class:`OneCodexWaitSensor`.

``BaseSensorOperator`` does the waiting (``poke_interval``, ``timeout``, ``soft_fail``,
``never_fail``, reschedule mode); this class adds only what One Codex needs: the outcome gate
(:meth:`OneCodexWaitSensor._finish`), a ``timeout`` that survives task retries (Airflow 3.3's
``task_state_store``), and deferral to a trigger from the first pending poke.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_provider_onecodex.api.errors import OneCodexError
from airflow_provider_onecodex.api.waiting import OUTCOME_STATUSES, give_up_on_transient
from airflow_provider_onecodex.links.onecodex import OneCodexLink

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger

    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook


STARTED_KEY = "onecodex_wait_started_at"  # task_state_store key: when this wait began, epoch seconds


class OneCodexWaitSensor(BaseSensorOperator):
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
        onecodex_conn_id: str = "onecodex_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_consecutive_failures: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.onecodex_conn_id = onecodex_conn_id
        self.deferrable = deferrable
        self.max_consecutive_failures = max_consecutive_failures
        self._transient_failures = 0
        self._deadline: float | None = None  # epoch seconds; set by execute, None in reschedule mode
        self.onecodex_url: str | None = None  # read by OneCodexLink when the task phase ends

    @cached_property
    def hook(self) -> OneCodexHook:
        from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

        return OneCodexHook(self.onecodex_conn_id)

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

    def _web_url(self) -> str | None:
        """The One Codex web page of what is waited for, if there is one."""
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
            self._transient_failures = 0
            self.log.info("One Codex wait done: %s", message)
            return PokeReturnValue(is_done=True, xcom_value=outcome["value"])
        if status == "pending":
            self._transient_failures = 0
            self.log.info("Waiting for %s: %s", self.describe(), message)
            return PokeReturnValue(is_done=False)
        if status == "transient":
            self._transient_failures += 1
            if self._transient_failures >= self.max_consecutive_failures:
                return self._finish(give_up_on_transient(message, self._transient_failures))
            self.log.warning(
                "Polling %s failed (%d in a row), will retry: %s",
                self.describe(),
                self._transient_failures,
                message,
            )
            return PokeReturnValue(is_done=False)
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        if outcome.get("kind") == "transient":
            raise AirflowException(message)
        raise AirflowFailException(message)

    def _set_link(self) -> None:
        if self.onecodex_url is None:
            # An unusable connection is left to the poll that follows, which reports it as a failure.
            with contextlib.suppress(OneCodexError):
                self.onecodex_url = self._web_url()

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
            if isinstance(started, (int, float)) and not isinstance(started, bool) and started <= now:
                return float(started)
            store.set(STARTED_KEY, now, retention=timedelta(seconds=float(self.timeout) + 86400))
        except Exception as exc:  # the store is a convenience: never fail a wait over it
            self.log.debug("task_state_store unavailable (%s); the timeout starts now", type(exc).__name__)
        return now

    # -- Airflow entry points ----------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        """Validate, then let ``BaseSensorOperator.execute`` poke (it applies ``timeout``,
        ``soft_fail`` and ``never_fail``); :meth:`poke` defers when ``deferrable``."""
        self._check_wait_args()
        self._validate()  # before any request
        if self.reschedule and not self.deferrable:
            self._deadline = None  # Airflow counts a reschedule-mode timeout from the first reschedule
        else:
            # Airflow restarts a poke-mode timeout at each try: count from the wait's first start.
            started = time.time() if self.reschedule else self._wait_started_at(context)
            self._deadline = started + float(self.timeout)
        return super().execute(context)

    def poke(self, context: Context) -> PokeReturnValue:
        """One poll: done, pending, or an exception (``AirflowFailException`` for a failed
        analysis; ``AirflowSensorTimeout`` when the wait's deadline, kept across retries, passed)."""
        self._set_link()
        result = self._finish(self._poll())
        if result.is_done or self._deadline is None:
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
        self._validate()
        self._set_link()
        result = self._finish(event)
        if not result.is_done:
            raise AirflowException(
                f"One Codex trigger for {self.describe()} ended without a final outcome: {event!r}"
            )
        return result.xcom_value

    def _trigger_kwargs(self, deadline: float) -> dict[str, Any]:
        """The kwargs every One Codex trigger shares."""
        return {
            "onecodex_conn_id": self.onecodex_conn_id,
            "poll_interval": float(self.poke_interval),
            "deadline": deadline,
            "timeout": float(self.timeout),
            "max_consecutive_failures": self.max_consecutive_failures,
            "consecutive_failures": self._transient_failures,
        }
