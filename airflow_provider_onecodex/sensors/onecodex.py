"""Sensors that wait for One Codex analyses: alignments, classifications, panels, any analysis.

Poke, reschedule and deferrable modes share one decision (:func:`~airflow_provider_onecodex.api.waiting.outcome_of`),
so they push the same XCom value and raise the same exception with the same message for the same
API answers:

- every analysis ``complete`` and ``success`` -> done; the XCom value is the record (one id) or the
  list of records (several ids, or a sample);
- ``complete`` with ``success: false`` -> ``AirflowFailException`` naming the id(s) and ``error_msg``
  (``failure_policy="fail_fast"``), or done with the failures inside the records (``"report"``);
- 404 or a malformed record -> ``AirflowFailException`` at once (task retries would not help);
- 401/402/403, connection refused, name not resolved, TLS error: before One Codex ever answered this
  wait, the connection is wrong: ``AirflowFailException`` (401-403 at once, network causes within
  about a minute); after an answer they are an outage (a key rotation, a restart), counted as below;
- transient errors (429, 5xx, timeouts, connection errors) -> logged, the wait goes on; after
  ``max_consecutive_failures`` polls in a row it fails with ``AirflowException`` (retries apply).
  A ``Retry-After`` longer than ``poke_interval`` delays the next poke (capped by the connection's
  ``max_retry_after``). The connection is re-read at every poke: a rotated key or moved host is used
  from the next request on.

Importing this module is cheap (no requests, httpx or tenacity at module level): DAG files import it
on every parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_onecodex.api.errors import OneCodexError
from airflow_provider_onecodex.api.ids import check_literal_id, check_literal_ids
from airflow_provider_onecodex.api.resources import (
    ANALYSIS_TYPES,
    validate_flag,
    validate_resource,
    validate_where,
)
from airflow_provider_onecodex.api.waiting import (
    FAILURE_POLICIES,
    WaitSpec,
    missing_ids,
    outcome_of,
)
from airflow_provider_onecodex.operators.base import checked_if_literal
from airflow_provider_onecodex.sensors.base import OneCodexWaitSensor

if TYPE_CHECKING:
    from airflow.triggers.base import BaseTrigger


def _check_literal_ids(name: str, one: object, many: object, sample_id: object) -> None:
    """At DAG parse time: exactly one of ``name``, ``names`` and ``sample_id``, and literal ids valid."""
    given = [n for n, v in ((name, one), (f"{name}s", many), ("sample_id", sample_id)) if v is not None]
    if len(given) > 1:
        raise ValueError(f"give exactly one of {name}, {name}s or sample_id; got {given}")
    check_literal_id(one, name)
    check_literal_ids(many, f"{name}s")
    check_literal_id(sample_id, "sample_id", resource="samples")


def _check_analysis_type(value: object) -> None:
    if value not in ANALYSIS_TYPES:
        raise ValueError(f"analysis_type must be one of {sorted(ANALYSIS_TYPES)}, got {value!r}")


class OneCodexAnalysisSensor(OneCodexWaitSensor):
    """Wait until One Codex analyses are complete.

    Give exactly one of ``analysis_id``, ``analysis_ids`` or ``sample_id``.

    :param analysis_id: one analysis id (16 hex characters); the XCom value is its record.
    :param analysis_ids: several ids; the XCom value is the list of records, in this order.
        Polled with one listing request per :data:`~airflow_provider_onecodex.api.batch.ID_BATCH`
        (62) ids, not one GET each.
    :param sample_id: wait for every analysis of this sample on ``resource`` (e.g. all its
        classifications); the XCom value is the list of records.
    :param analysis_type: with ``sample_id`` on ``resource="analyses"``, only this type
        (``classification``, ``alignment``, ``panel``...).
    :param where: with ``sample_id``, an extra ``where`` filter (JSON object).
    :param min_count: with ``sample_id``, fewer analyses than this counts as pending (default 1: a
        sample with no analyses yet is not a success).
    :param resource: the analyses route to poll: ``analyses`` (default), ``alignments``,
        ``classifications``, ``panels``, ``functional_profiles``, ``mlsts``, ``workflows``.
    :param failure_policy: ``"fail_fast"`` (default) fails as soon as one analysis failed, naming
        every failed id and its ``error_msg``; ``"report"`` waits for all and returns the records,
        failures included (``success: false``).
    :param onecodex_conn_id: Airflow connection id (default ``onecodex_default``).
    :param deferrable: hand the wait to the triggerer (no worker slot while waiting). Default: the
        ``[operators] default_deferrable`` option, else False.
    :param max_consecutive_failures: polls in a row that may end in transient errors, after the
        hook's own retries, before the wait fails (default 10). Reschedule mode keeps the count
        across pokes in Airflow 3.3's ``task_state_store`` (on 3.2 it restarts at each poke).
    :param poke_interval: seconds between polls in every mode (BaseSensorOperator; default 60).
    :param xcom_max_bytes: largest XCom value, bytes of compact JSON (default 49152); a larger one
        goes to ``destination`` (``{uri, size, sha256, summary}``) or fails the task before pushing.
    :param destination: folder for such values (``s3://...``, ``file://...``: one machine only).
    :param destination_conn_id: Airflow connection of that storage.
    :param timeout: seconds the whole wait may take, in every mode (default 7 days); what happens
        then is ``AirflowSensorTimeout``, or SKIPPED with ``soft_fail=True``.
    """

    template_fields: Sequence[str] = (
        "analysis_id",
        "analysis_ids",
        "sample_id",
        "analysis_type",
        "where",
        "destination",
        "onecodex_conn_id",
    )

    def __init__(
        self,
        *,
        analysis_id: str | None = None,
        analysis_ids: list[str] | None = None,
        sample_id: str | None = None,
        analysis_type: str | None = None,
        where: dict[str, Any] | str | None = None,
        min_count: int = 1,
        resource: str | None = None,
        failure_policy: str = "fail_fast",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.analysis_id = analysis_id
        self.analysis_ids = analysis_ids
        self.sample_id = sample_id
        self.analysis_type = checked_if_literal(analysis_type, _check_analysis_type)
        self.where = where
        self.min_count = min_count
        self.resource = resource or "analyses"
        self.failure_policy = failure_policy
        # Literal bad arguments fail at DAG parse time; templated ones when the task runs.
        validate_resource(self.resource, analyses_only=True)
        if failure_policy not in FAILURE_POLICIES:
            raise ValueError(f"failure_policy must be one of {FAILURE_POLICIES}, got {failure_policy!r}")
        _check_literal_ids(self.id_name, analysis_id, analysis_ids, sample_id)

    id_name = "analysis_id"  # the parameter users give ids with; messages name it

    def _ids(self) -> tuple[object, object]:
        """(single id, list of ids) as given; subclasses rename them."""
        return self.analysis_id, self.analysis_ids

    def _tax_id(self) -> object:
        return None

    @cached_property
    def spec(self) -> WaitSpec:
        """The validated wait. Built after templating; raises TypeError/ValueError naming bad input."""
        where = self.where
        if self.analysis_type is not None:
            if self.resource != "analyses":
                raise ValueError(f"analysis_type only applies to resource='analyses', not {self.resource!r}")
            _check_analysis_type(self.analysis_type)
            where = {**(validate_where(where) or {}), "analysis_type": self.analysis_type}
        record_id, ids = self._ids()
        return WaitSpec.build(
            self.resource,
            record_id=record_id,
            ids=ids,
            sample_id=self.sample_id,
            tax_id=self._tax_id(),
            where=where,
            min_count=self.min_count,
            failure_policy=self.failure_policy,
            id_name=self.id_name,
        )

    def _validate(self) -> None:
        self.spec  # noqa: B018  (building the spec is the validation)

    def describe(self) -> str:
        return self.spec.describe()

    def _fetch(self, spec: WaitSpec) -> tuple[list[dict[str, Any]], BaseException | None]:
        records: list[dict[str, Any]] = []
        try:
            if spec.sample_id is not None:
                records = self.hook.list_records(spec.resource, where=spec.listing_where(), max_records=None)
            else:
                # One id too is fetched by listing, as the trigger's poller does: both modes then
                # send the same requests and fail with the same messages.
                records = self.hook.list_by_ids(spec.resource, list(spec.ids))
                for absent in missing_ids(spec, records):
                    records.append(self.hook.get_record(spec.resource, absent))
        except OneCodexError as exc:
            return records, exc
        return records, None

    def _poll(self) -> dict[str, Any]:
        records, error = self._fetch(self.spec)
        return outcome_of(self.spec, records, error)

    def _web_url(self, final: bool = False) -> str | None:
        """The analysis's page (a list: its first analysis's); sample mode: the sample's page,
        read once when the wait ends."""
        from airflow_provider_onecodex.api.weblinks import sample_url, web_url

        base = self.hook.config.base_url
        if self.spec.sample_id is not None:
            return sample_url(base, self.hook.get_sample(self.spec.sample_id)) if final else None
        return web_url(base, self.spec.resource, self.spec.ids[0])

    def _trigger(self, deadline: float) -> BaseTrigger:
        from airflow_provider_onecodex.triggers.onecodex import OneCodexAnalysisTrigger

        return OneCodexAnalysisTrigger(spec=self.spec.to_dict(), **self._trigger_kwargs(deadline))


class OneCodexAlignmentSensor(OneCodexAnalysisSensor):
    """Wait until One Codex alignments (a WGS sample against a reference genome) are complete.

    Give exactly one of ``alignment_id``, ``alignment_ids`` or ``sample_id`` (optionally with
    ``tax_id``, the NCBI taxonomy id of the reference). Everything else as
    :class:`OneCodexAnalysisSensor`; the route polled is ``/api/v1/alignments``.

    :param alignment_id: one alignment id; the XCom value is its record.
    :param alignment_ids: several ids; the XCom value is the list of records.
    :param sample_id: every alignment of this sample; the XCom value is the list of records.
    :param tax_id: with ``sample_id``, only alignments against this reference (e.g. ``"1280"``).
    """

    template_fields: Sequence[str] = (
        "alignment_id",
        "alignment_ids",
        "sample_id",
        "tax_id",
        "where",
        "destination",
        "onecodex_conn_id",
    )
    id_name = "alignment_id"

    def __init__(
        self,
        *,
        alignment_id: str | None = None,
        alignment_ids: list[str] | None = None,
        tax_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        refused = sorted({"resource", "analysis_id", "analysis_ids", "analysis_type"} & set(kwargs))
        if refused:
            raise TypeError(
                f"OneCodexAlignmentSensor does not take {', '.join(refused)}: it waits on "
                "/api/v1/alignments; give alignment_id, alignment_ids or sample_id (and tax_id), "
                "or use OneCodexAnalysisSensor"
            )
        super().__init__(resource="alignments", **kwargs)
        self.alignment_id = alignment_id
        self.alignment_ids = alignment_ids
        self.tax_id = tax_id
        _check_literal_ids("alignment_id", alignment_id, alignment_ids, kwargs.get("sample_id"))

    def _ids(self) -> tuple[object, object]:
        return self.alignment_id, self.alignment_ids

    def _tax_id(self) -> object:
        return self.tax_id


class OneCodexSampleSensor(OneCodexWaitSensor):
    """Wait until a One Codex sample is usable: ``status`` is ``available`` (``GET /api/v1/samples/{id}``).

    Poke, reschedule and deferrable modes share one decision
    (:func:`~airflow_provider_onecodex.api.samples.sample_outcome`, built on the sample rule
    :func:`~airflow_provider_onecodex.api.status.readiness_of`):

    - ``awaiting_data``, ``importing``, ``validating`` -> keep waiting;
    - ``available`` (and, with ``wait_for_primary_classification``, a ``primary_classification``
      set) -> done; the XCom value is the sample record;
    - ``failed_validation`` or ``deleted`` -> ``AirflowFailException`` naming the sample, its status
      and ``error_msg``;
    - 401/403/404, an unknown ``status`` or a malformed record -> ``AirflowFailException`` at once;
    - transient errors -> logged, the wait goes on; after ``max_consecutive_failures`` polls in a row
      ``AirflowException`` (task retries apply).

    :param sample_id: 16 lowercase hex characters (or the sample's ``$uri``).
    :param wait_for_primary_classification: also wait until One Codex has set the sample's
        ``primary_classification`` (it exists, not necessarily complete). Default False; not
        templated: anything but ``True``/``False`` raises ``TypeError`` when the DAG is parsed.
    :param onecodex_conn_id: Airflow connection id (default ``onecodex_default``).
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``, else False.
    :param max_consecutive_failures: polls in a row that may end in transient errors (default 10).
    :param poke_interval: seconds between polls in every mode (default 60).
    :param timeout: seconds the whole wait may take (default 7 days); then ``AirflowSensorTimeout``,
        or SKIPPED with ``soft_fail=True``.
    """

    template_fields: Sequence[str] = ("sample_id", "destination", "onecodex_conn_id")

    def __init__(
        self,
        *,
        sample_id: str,
        wait_for_primary_classification: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sample_id = sample_id
        self.wait_for_primary_classification = validate_flag(
            wait_for_primary_classification, "wait_for_primary_classification"
        )
        self._record: dict[str, Any] | None = None  # the sample as last read, for the link
        check_literal_id(sample_id, "sample_id", resource="samples")  # fails at DAG parse time

    def _validate(self) -> None:
        from airflow_provider_onecodex.api.ids import validate_id

        self.sample_id = validate_id(self.sample_id, "sample_id", resource="samples")

    def describe(self) -> str:
        return f"sample {self.sample_id}"

    def _web_url(self, final: bool = False) -> str | None:
        from airflow_provider_onecodex.api.weblinks import sample_url

        record = self._record
        if record is None and final:  # resumed from the trigger: read the sample once
            record = dict(self.hook.get_sample(self.sample_id))
        return sample_url(self.hook.config.base_url, record)

    def _poll(self) -> dict[str, Any]:
        from airflow_provider_onecodex.api.samples import sample_outcome

        record: dict[str, Any] | None = None
        error: BaseException | None = None
        try:
            record = dict(self.hook.get_sample(self.sample_id))
            if self._record is None or record.get("primary_classification"):
                self._record, self.onecodex_url = record, None  # the link follows the record
        except OneCodexError as exc:
            error = exc
        return sample_outcome(
            self.sample_id,
            record,
            error,
            wait_for_primary_classification=self.wait_for_primary_classification,
        )

    def _trigger(self, deadline: float) -> BaseTrigger:
        from airflow_provider_onecodex.triggers.onecodex import OneCodexSampleTrigger

        return OneCodexSampleTrigger(
            sample_id=self.sample_id,
            wait_for_primary_classification=self.wait_for_primary_classification,
            **self._trigger_kwargs(deadline),
        )
