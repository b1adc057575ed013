"""The one mode driver of the tests: runs a sensor to its end in each mode the way Airflow does,
without a scheduler.

- poke: ``sensor.execute(context)`` (it sleeps ``poke_interval`` between pokes);
- reschedule: a fresh sensor per try (as each try is a new process), ``execute`` until it stops
  raising ``AirflowRescheduleException``, with a fake ``ti`` that knows the first try's start;
- deferrable: ``execute`` raises ``TaskDeferred``; the trigger is rebuilt from its JSON-encoded
  ``serialize()`` output (as the triggerer does), run to its first event, and a fresh sensor
  resumes through Airflow's ``resume_execution(method_name, {**defer_kwargs, "event": payload},
  context)`` (the triggerer adds the event to the deferral's kwargs).

The ``drive`` and ``waits`` fixtures (tests/conftest.py) hand these out.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MODES = ("poke", "reschedule", "deferrable")
TRIGGER_TIMEOUT = 30.0  # a wait that has not ended by then is a hang: fail the test


@dataclass(frozen=True)
class Result:
    """How a wait ended: its XCom value, or the exception's exact type and message."""

    xcom: Any = None
    exc_type: type[BaseException] | None = None
    message: str | None = None

    @classmethod
    def of_error(cls, exc: BaseException) -> Result:
        return cls(exc_type=type(exc), message=str(exc))


class FakeTI:
    """The part of a task instance that reschedule mode reads: when the first try started."""

    def __init__(self) -> None:
        self.stats_tags: dict[str, str] = {}  # ResumableJobMixin tags its metrics with them
        self.first_try_start: datetime.datetime | None = None
        self.rescheduled = False
        self.reschedules = 0

    def get_first_reschedule_date(self, context: Any) -> datetime.datetime | None:
        return self.first_try_start if self.rescheduled else None


class MemoryStateStore:
    """Airflow 3.3's ``task_state_store`` for one task: what a wait keeps across tries and reschedules."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        self.values[key] = json.loads(json.dumps(value))  # stored as JSON


async def first_event(trigger: Any, timeout: float = TRIGGER_TIMEOUT) -> Any:
    """Rebuild ``trigger`` from its JSON-encoded serialization, run it to its first event, then
    close it (so it leaves the shared poller). Returns the ``TriggerEvent``."""
    from airflow.sdk.module_loading import import_string

    classpath, kwargs = trigger.serialize()
    rebuilt = import_string(classpath)(**json.loads(json.dumps(kwargs)))
    events = rebuilt.run()
    try:
        return await asyncio.wait_for(anext(events), timeout)
    finally:
        await events.aclose()


async def first_payload(trigger: Any, timeout: float = TRIGGER_TIMEOUT) -> Any:
    """The payload of :func:`first_event`, JSON-decoded as the resumed task gets it."""
    return json.loads(json.dumps((await first_event(trigger, timeout)).payload))


class Waits:
    """Runs sensors to their end (:meth:`run`); records executions, triggers and events."""

    def __init__(self) -> None:
        self.triggers: list[Any] = []
        self.events: list[Any] = []
        self.executions = 0

    def run(
        self,
        make: Callable[..., Any],
        mode: str,
        context: dict[str, Any] | None = None,
        max_tries: int = 200,
    ) -> Any:
        """``make(**mode_kwargs)`` builds a fresh sensor (Airflow builds one per try and per
        resume). Returns the XCom value; raises what the task would raise."""
        from airflow.sdk import timezone
        from airflow.sdk.exceptions import AirflowRescheduleException, TaskDeferred

        from airflow_provider_onecodex.triggers import poller

        ti = FakeTI()
        # Airflow 3.3 gives every task a task_state_store (a wait keeps its start and progress there)
        context = {"task_state_store": MemoryStateStore(), **(context or {}), "ti": ti}
        if mode == "poke":
            self.executions += 1
            return make(mode="poke").execute(context)
        if mode == "reschedule":
            ti.first_try_start = timezone.utcnow()
            for _ in range(max_tries):
                self.executions += 1
                try:
                    return make(mode="reschedule").execute(context)
                except AirflowRescheduleException as again:
                    ti.rescheduled = True
                    ti.reschedules += 1
                    time.sleep(max(0.0, (again.reschedule_date - timezone.utcnow()).total_seconds()))
            raise AssertionError(f"still rescheduling after {max_tries} tries")
        assert mode == "deferrable", mode
        self.executions += 1
        try:
            return make(deferrable=True).execute(context)
        except TaskDeferred as deferred:
            self.triggers.append(deferred.trigger)
            event = asyncio.run(first_event(deferred.trigger))
            assert not poller._POLLERS, "the trigger left its poller behind"
            payload = json.loads(json.dumps(event.payload))
            self.events.append(payload)
            resumed = make(deferrable=True)
            next_kwargs = {**json.loads(json.dumps(deferred.kwargs or {})), "event": payload}
            return resumed.resume_execution(deferred.method_name, next_kwargs, context)


def run_mode(
    mode: str, make: Callable[..., Any], max_tries: int = 200, context: dict[str, Any] | None = None
) -> Result:
    """Run the sensor built by ``make(**mode_kwargs)`` to its end in ``mode`` (see :class:`Waits`);
    how it ended as a :class:`Result`. A failure of the driver itself is raised."""
    try:
        return Result(xcom=Waits().run(make, mode, context=context, max_tries=max_tries))
    except AssertionError:
        raise
    except Exception as exc:
        return Result.of_error(exc)
