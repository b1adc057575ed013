"""Start a One Codex job run (an alignment, a custom workflow...) and wait for its analysis.

:class:`OneCodexRunJobOperator` is crash-safe: a run costs money, so it is started at most once per
task, across task retries and worker deaths, as far as One Codex lets a client know.

What is guaranteed (Airflow 3.3, ``task_state_store``; Airflow's ``ResumableJobMixin``):

- the analysis id is stored before the wait starts; a retry reconnects to a running analysis,
  returns a succeeded one, and starts a new run only after a failed (or vanished) one;
- the time just before the first run request is stored too, so a retry that finds no id (the
  worker died between the POST and storing the id, the window ``ResumableJobMixin`` documents)
  first looks for an analysis of the same job on the same sample with the same ``job_args``,
  created since then, not failed: one is adopted, several fail the task naming them;
- within one try, a run request whose outcome is unknown (connection dropped after sending, read
  timeout, 5xx) is never resent before the same lookup found nothing (see
  :mod:`airflow_provider_onecodex.api.jobs`); 4xx is never resent.

On Airflow 3.2 (no ``task_state_store``) every try from the second on does that lookup bounded by
the DAG run's start: a retry adopts the running or succeeded run an earlier try started. Reschedule
mode needs the store (each reschedule runs ``execute`` anew) and is refused on 3.2 with a clear error.

Not guaranteed: a run started by someone else (another task, a person) for the same job, sample
and ``job_args`` inside that window is indistinguishable from ours and may be adopted (two or more
are refused); One Codex may list a new analysis late (the lookup then finds nothing and one resend
follows); ``on_kill`` cannot cancel built-in analyses (One Codex allows cancelling custom
workflow runs only) and is not called while the task is deferred.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from airflow_provider_onecodex.api.errors import OneCodexError, OneCodexNotFoundError
from airflow_provider_onecodex.api.ids import record_id, validate_id
from airflow_provider_onecodex.api.jobs import (
    JobRun,
    find_reusable_run,
    find_started_run,
    validate_dependencies,
    validate_description,
    validate_job_args,
    validate_job_choice,
)
from airflow_provider_onecodex.api.resources import validate_flag
from airflow_provider_onecodex.api.waiting import WaitSpec
from airflow_provider_onecodex.sensors.base import STARTED_KEY
from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor

try:
    from airflow.sdk import ResumableJobMixin
except ImportError:  # Airflow < 3.3: no task_state_store; the created-since lookup prevents duplicates

    class ResumableJobMixin:  # type: ignore[no-redef]
        """Airflow 3.2 stand-in: submit (after the lookup), wait, return."""

        external_id_key = "remote_job_id"

        def __init__(self, *, durable: bool = True, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.durable = durable

        def execute_resumable(self, context: Any) -> Any:
            external_id = self.submit_job(context)  # type: ignore[attr-defined]
            self.poll_until_complete(external_id, context)  # type: ignore[attr-defined]
            return self.get_job_result(external_id, context)  # type: ignore[attr-defined]


if TYPE_CHECKING:
    from airflow.sdk import Context, PokeReturnValue

SUBMITTED_KEY = "onecodex_run_submitted_at"  # task_state_store: epoch seconds before the first run POST
RUN_TRY_KEY = "onecodex_run_try"  # task_state_store: the try that started, adopted or reconnected to the run
SEVEN_DAYS = 7 * 24 * 3600.0
LOG_TAIL_LINES = 20


class OneCodexRunJobOperator(ResumableJobMixin, OneCodexAnalysisSensor):
    """Run a One Codex job on a sample (``POST /api/v1/jobs/{id}/run``) and wait for the analysis.

    :param job_id: the job (16 hex characters or ``/api/v1/jobs/<id>``). Give this or ``job_name``.
    :param job_name: the job's exact name, e.g. ``"Alignment Run"`` (own and public jobs; none or
        several with that name fail the task before any run).
    :param sample_id: the sample to run it on.
    :param job_args: the job's arguments, a dict or its JSON text (default ``{}``).
    :param dependencies: parent analyses replacing the job's defaults: ids or
        ``{"analysis": id, "download_path": "relative/dir"}``.
    :param description: up to 250 characters, sent only when given.
    :param populate_default_arguments: let One Codex fill in default arguments (default True).
    :param wait_for_completion: wait for the analysis (default True). XCom value: the finished
        analysis record (``/api/v1/analyses`` shape); without waiting ``{"analysis_id": <id>}``.
    :param reuse_existing: when the sample already has a successful analysis of this job with the
        same ``job_args``, use it and start nothing (default False).
    :param deferrable: wait in the triggerer (the analysis sensor's trigger and shared poller).
        Default: ``[operators] default_deferrable``, else False.
    :param poke_interval: seconds between polls in every mode (default 60).
    :param timeout: seconds the wait for one run may take (default 7 days); then
        ``AirflowSensorTimeout`` (the analysis keeps running; a retry reconnects to it).
    :param onecodex_conn_id: Airflow connection id (default ``onecodex_default``).
    :param mode: ``poke`` (default) or ``reschedule``, as for sensors.

    Outcomes are the analysis sensor's in every mode, except that a failed analysis raises
    ``AirflowException`` (task retries apply: a retry starts a new run) with the last lines of the
    analysis's logs when One Codex has them. 401/403/404 and malformed records fail at once.
    Bad arguments raise ``TypeError``/``ValueError`` before any request; a literal bad ``sample_id``
    and a flag that is not ``True``/``False`` (flags are not templated) when the DAG is parsed.
    """

    template_fields: Sequence[str] = (
        "job_id",
        "job_name",
        "sample_id",
        "job_args",
        "dependencies",
        "description",
        "onecodex_conn_id",
    )
    template_fields_renderers = {"job_args": "json"}
    ui_color = "#d9f0d3"
    external_id_key = "onecodex_analysis_id"

    def __init__(
        self,
        *,
        sample_id: str,
        job_id: str | None = None,
        job_name: str | None = None,
        job_args: dict[str, Any] | str | None = None,
        dependencies: list[Any] | None = None,
        description: str | None = None,
        populate_default_arguments: bool = True,
        wait_for_completion: bool = True,
        reuse_existing: bool = False,
        poke_interval: float = 60,
        timeout: float = SEVEN_DAYS,
        **kwargs: Any,
    ) -> None:
        # sample_id is the analysis sensor's (a literal bad id fails when the DAG is parsed).
        super().__init__(sample_id=sample_id, poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.job_id = job_id
        self.job_name = job_name
        self.job_args = job_args
        self.dependencies = dependencies
        self.description = description
        # Not templated: checked when the DAG is parsed.
        self.populate_default_arguments = validate_flag(
            populate_default_arguments, "populate_default_arguments"
        )
        self.wait_for_completion = validate_flag(wait_for_completion, "wait_for_completion")
        self.reuse_existing = validate_flag(reuse_existing, "reuse_existing")
        self.analysis_id: str | None = None
        self._result: Any = None

    # -- arguments ---------------------------------------------------------------------------
    def _check_run_args(self) -> None:
        """Every argument, after templating and before any request."""
        validate_job_choice(self.job_id, self.job_name)
        self.sample_id = validate_id(self.sample_id, "sample_id", resource="samples")
        self.job_args = validate_job_args(self.job_args)
        validate_dependencies(self.dependencies)
        validate_description(self.description)

    def _job_run(self) -> JobRun:
        job_id = self.job_id
        if job_id is None:
            job = self.hook.get_job_by_name(str(self.job_name), include_public=True)
            job_id = record_id(dict(job))
            self.log.info("Job %r is %s", self.job_name, job_id)
        return JobRun.build(
            job_id,
            self.sample_id,
            job_args=self.job_args,
            dependencies=self.dependencies,
            description=self.description,
            populate_default_arguments=self.populate_default_arguments,
        )

    # -- the wait is the analysis sensor's, on the started analysis --------------------------
    @property
    def spec(self) -> WaitSpec:
        if self.analysis_id is None:
            raise AirflowException("no One Codex analysis was started yet")
        return WaitSpec.build("analyses", record_id=self.analysis_id)

    def describe(self) -> str:
        return f"analysis {self.analysis_id}" if self.analysis_id else f"a run on sample {self.sample_id}"

    def _finish(self, outcome: Any) -> PokeReturnValue:
        if isinstance(outcome, dict) and outcome.get("kind") == "analysis_failed":
            from airflow_provider_onecodex.api.job_actions import redact_log_text

            message = redact_log_text(str(outcome.get("message", "")))  # error_msg may hold a signed URL
            tail = self._log_tail()
            if tail:
                self.log.error("Last log lines of analysis %s:\n%s", self.analysis_id, tail)
                message = f"{message}\nLast log lines:\n{tail}"
            # Retryable, unlike the sensor's failure: a retry of this task starts a new run.
            raise AirflowException(message)
        return super()._finish(outcome)

    def _log_tail(self) -> str:
        from airflow_provider_onecodex.api.job_actions import redact_log_text

        try:
            text = self.hook.get_analysis_logs("analyses", str(self.analysis_id), tail=LOG_TAIL_LINES)
        except OneCodexError as exc:  # built-in analyses have no logs (404): nothing to add
            self.log.info("No logs for analysis %s: %s", self.analysis_id, getattr(exc, "message", exc))
            return ""
        return redact_log_text(text.strip())

    def defer(self, *, kwargs: dict[str, Any] | None = None, **rest: Any) -> Any:
        # the resumed task is a fresh object: it learns the analysis id from the deferral kwargs
        return super().defer(kwargs={**(kwargs or {}), "analysis_id": self.analysis_id}, **rest)

    # -- ResumableJobMixin -------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        """Start (or find) the run and wait. Errors a task retry cannot fix (bad arguments, 400,
        401-404, 409, 422, no or several jobs of that name, several candidate runs) fail the task
        without retries, as the other operators do; transient ones stay retryable."""
        from airflow_provider_onecodex.api.jobs import DuplicateRunError, JobNotFoundError
        from airflow_provider_onecodex.operators.base import failing_fast

        with failing_fast(also=(JobNotFoundError, DuplicateRunError)):
            self._check_wait_args()
            self._check_run_args()
            if self.reschedule and self.wait_for_completion and context.get("task_state_store") is None:
                # each reschedule runs execute() anew: only the store says which analysis it started
                raise ValueError(
                    "mode='reschedule' needs Airflow 3.3's task_state_store to remember the started "
                    "analysis; on Airflow 3.2 use mode='poke' or deferrable=True"
                )
            return self.execute_resumable(context)

    def submit_job(self, context: Context) -> str:
        """Reuse, adopt, or start the run; returns the analysis id."""
        run = self._job_run()
        store = context.get("task_state_store")
        self._store_set(store, RUN_TRY_KEY, self._try_number(context))
        if self.reuse_existing:
            existing = self.hook.run(find_reusable_run(run))
            if existing is not None:
                self.log.info("Reusing successful analysis %s (reuse_existing=True)", record_id(existing))
                return str(record_id(existing))
        since = self._lookup_since(context, store)
        if since is not False:
            found = self.hook.run(find_started_run(run, since if isinstance(since, float) else None))
            if found is not None:
                self.log.info(
                    "Adopting analysis %s, started by an earlier try of this task", record_id(found)
                )
                return str(record_id(found))
        now = time.time()
        self._store_set(store, SUBMITTED_KEY, now, keep=True)
        analysis_id = self.hook.run_job(
            run.job_id,
            run.sample_id,
            job_args=run.job_args,
            dependencies=run.dependencies,
            description=run.description,
            populate_default_arguments=run.populate_default_arguments,
        )
        self._store_set(store, STARTED_KEY, now)  # the wait's timeout starts with the new run
        self.log.info("Started analysis %s (job %s on sample %s)", analysis_id, run.job_id, run.sample_id)
        return analysis_id

    @staticmethod
    def _try_number(context: Context) -> int:
        number = getattr(context.get("ti"), "try_number", 1)
        return number if isinstance(number, int) else 1

    def _lookup_since(self, context: Context, store: Any) -> float | bool | None:
        """Since when this task may have started a run: epoch seconds, ``None`` (no bound) or
        ``False`` (it cannot have: first try, first execution)."""
        stored = self._store_get(store, SUBMITTED_KEY)
        if isinstance(stored, (int, float)) and not isinstance(stored, bool):
            return float(stored)
        if store is not None or self._try_number(context) <= 1:
            return False  # with a store, the marker above precedes every run request of this task
        start = getattr(context.get("dag_run"), "start_date", None)
        return float(start.timestamp()) if start is not None else None

    def _store_get(self, store: Any, key: str) -> Any:
        if store is None:
            return None
        try:
            return store.get(key)
        except Exception as exc:  # a convenience: the lookup still protects the run
            self.log.warning("task_state_store unreadable (%s)", type(exc).__name__)
            return None

    def _store_set(self, store: Any, key: str, value: float | int, *, keep: bool = False) -> None:
        if store is None or (keep and self._store_get(store, key) is not None):
            return
        try:
            store.set(key, value, retention=timedelta(seconds=float(self.timeout) + 7 * 86400))
        except Exception as exc:
            self.log.warning("task_state_store not writable (%s)", type(exc).__name__)

    def get_job_status(self, external_id: Any, context: Context) -> str:
        from airflow_provider_onecodex.api.status import completion_of

        try:
            record = self.hook.get_analysis(str(external_id))
        except OneCodexNotFoundError:
            return "missing"
        state = completion_of(record, str(external_id)).state.value
        store = context.get("task_state_store")
        if state == "failed" and self._store_get(store, RUN_TRY_KEY) == self._try_number(context):
            # a reschedule of the try that started it: the wait reports the failure, no new run
            return "pending"
        return state

    def is_job_active(self, status: str) -> bool:
        return status == "pending"

    def is_job_succeeded(self, status: str) -> bool:
        return status == "succeeded"

    def poll_until_complete(self, external_id: Any, context: Context) -> Any:
        self.analysis_id = str(external_id)
        # this try waits on it (started, adopted or reconnected): its reschedules report a failure
        self._store_set(context.get("task_state_store"), RUN_TRY_KEY, self._try_number(context))
        self._set_link()
        if not self.wait_for_completion:
            self._result = {"analysis_id": self.analysis_id}
        else:
            self._result = OneCodexAnalysisSensor.execute(self, context)
        return self._result

    def get_job_result(self, external_id: Any, context: Context) -> Any:
        if self.analysis_id == str(external_id) and self._result is not None:
            return self._result
        self.analysis_id = str(external_id)
        self._set_link()
        if not self.wait_for_completion:
            return {"analysis_id": self.analysis_id}
        return self.poke(context).xcom_value  # already succeeded: the record, as a wait returns it

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, analysis_id: str | None = None
    ) -> Any:
        """Resume after the trigger, as the analysis sensor does.

        The analysis id comes from the deferral's kwargs (the triggerer passes them back), else
        from the task_state_store (``airflow dags test`` resumes with the event only), else from a
        success event's record.
        """
        if analysis_id is None:
            stored = self._store_get(context.get("task_state_store"), self.external_id_key)
            analysis_id = stored if isinstance(stored, str) else None
        if analysis_id is None and isinstance(event, dict) and isinstance(event.get("value"), dict):
            analysis_id = record_id(event["value"])
        self.analysis_id = analysis_id
        return super().execute_complete(context, event)

    def on_kill(self) -> None:
        """Cancel the started analysis when One Codex allows it; log why when it does not."""
        if self.analysis_id is None:
            self.log.info("on_kill: no One Codex analysis started, nothing to cancel")
            return
        try:
            self.hook.cancel_analysis("analyses", self.analysis_id)
        except OneCodexError as exc:
            self.log.warning("on_kill: analysis %s left running: %s", self.analysis_id, exc)
            return
        self.log.info("on_kill: cancel of analysis %s requested", self.analysis_id)
