"""Upload a sample into One Codex and (by default) wait until it is ``available``.

Importing this module is cheap (no boto3, requests or httpx at module level): DAG files import it on
every parse.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from airflow_provider_onecodex.api.ids import validate_id
from airflow_provider_onecodex.api.resources import validate_flag
from airflow_provider_onecodex.operators.base import checked_if_literal, failing_fast
from airflow_provider_onecodex.sensors.onecodex import OneCodexSampleSensor

if TYPE_CHECKING:
    from airflow.sdk import Context

SAMPLE_ID_KEY = "onecodex_upload_sample_id"  # task_state_store key and XCom key of the sample id


class OneCodexUploadSampleOperator(OneCodexSampleSensor):
    """Upload a FASTA/FASTQ file, or a paired FASTQ pair, into one new One Codex sample.

    The sample is created first and its id kept in ``task_state_store`` (Airflow 3.3) before any
    byte moves, so a task retry uploads into the same sample; a sample whose upload already went
    through is returned, not uploaded again. ``external_sample_id`` extends this across whole DAG
    re-runs (the sample is found through its metadata). On Airflow 3.2 (no ``task_state_store``)
    only ``external_sample_id`` prevents a retry from creating a second sample: set it. On the last
    try's failure, and when the task is killed, the upload is cancelled
    (``POST /api/v1/samples/cancel_upload``).

    With ``wait_until_available`` (default) the task then waits as :class:`OneCodexSampleSensor`
    does, in poke or deferrable mode: ``failed_validation`` or ``deleted`` fails it with One
    Codex's ``error_msg``. The XCom value is the sample record (``GET /api/v1/samples/{id}``), after
    ``available`` when waiting; the id alone is also pushed under the key
    ``onecodex_upload_sample_id``.

    Needs the ``airflow-provider-onecodex[upload]`` extra (boto3).

    :param source: the file: an ``ObjectStoragePath``, a URL (``file://``, ``s3://``, ``gs://``...;
        the storage's Airflow connection comes with the ``ObjectStoragePath``) or a local path.
        Read as a stream: the file never lands on the worker's disk or in memory. Templated.
    :param paired_source: the other file of a paired-end pair (both FASTQ, ``_R1``/``_R2`` or
        ``_1``/``_2`` in their names). Templated.
    :param metadata: metadata fields of the new sample (``name``, ``custom`` as a flat object...),
        as the metadata PATCH takes them. Templated (a dict, or its JSON text).
    :param tags: tag names (at most 30 characters each; new ones are created). Templated.
    :param project_id: the project of the new sample (16 hex characters). Templated; a literal bad
        id raises ``ValueError`` when the DAG is parsed.
    :param external_sample_id: idempotency key across DAG re-runs, at most 60 characters, stored in
        the sample's metadata. Templated.
    :param wait_until_available: wait for ``available`` before finishing (default True; not
        templated: anything but ``True``/``False`` raises ``TypeError`` when the DAG is parsed).
    :param wait_for_primary_classification: also wait until the sample has its primary
        classification (default False).
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``, else False.
    :param poke_interval: seconds between polls while waiting (default 60).
    :param timeout: seconds the wait may take (default 7 days), not counting the upload.
    :param onecodex_conn_id: Airflow connection id (default ``onecodex_default``).
    :raises ValueError: ``mode="reschedule"`` (each reschedule would start the task again).
    """

    template_fields: Sequence[str] = (
        "source",
        "paired_source",
        "metadata",
        "tags",
        "project_id",
        "external_sample_id",
        "onecodex_conn_id",
    )
    template_fields_renderers = {"metadata": "json"}
    ui_color = "#dff0d8"

    def __init__(
        self,
        *,
        source: Any,
        paired_source: Any = None,
        metadata: dict[str, Any] | str | None = None,
        tags: list[str] | None = None,
        project_id: str | None = None,
        external_sample_id: str | None = None,
        wait_until_available: bool = True,
        wait_for_primary_classification: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            sample_id=None,  # type: ignore[arg-type]  # known once the sample exists
            wait_for_primary_classification=wait_for_primary_classification,
            **kwargs,
        )
        if self.reschedule:
            raise ValueError(
                "OneCodexUploadSampleOperator does not take mode='reschedule'; use deferrable=True "
                "to free the worker slot while waiting"
            )
        self.source = source
        self.paired_source = paired_source
        self.metadata = metadata
        self.tags = tags
        self.project_id = checked_if_literal(project_id, validate_id, "project_id", resource="projects")
        self.external_sample_id = external_sample_id
        self.wait_until_available = validate_flag(wait_until_available, "wait_until_available")
        self._uploading: str | None = None

    def describe(self) -> str:
        return f"sample {self.sample_id} (uploaded from {self.source})"

    def execute(self, context: Context) -> Any:
        with failing_fast():  # bad wait arguments fail now, as the sensors' do
            self._check_wait_args()
        store = context.get("task_state_store") if hasattr(context, "get") else None
        ti = context.get("ti") if hasattr(context, "get") else None
        known = _recall(store)
        if known:
            self.log.info("Resuming the upload into sample %s (from an earlier try)", known)

        def persist(sample_id: str) -> None:
            self._uploading = sample_id
            if store is not None:
                store.set(SAMPLE_ID_KEY, sample_id)

        last_try = ti is None or getattr(ti, "try_number", 1) > int(self.retries or 0)
        with failing_fast():  # a bad file or argument fails now, not after every task retry
            self.sample_id = self._upload(known, persist, last_try)
        self._uploading = None
        if ti is not None:
            ti.xcom_push(key=SAMPLE_ID_KEY, value=self.sample_id)
        self.log.info("Sample %s holds the upload", self.sample_id)
        if not self.wait_until_available:  # the record as it is now, bounded and linked as a wait's
            with failing_fast():
                record = dict(self.hook.get_sample(self.sample_id))
            self._set_link(final=True)
            return self._bounded(record, context)
        return super().execute(context)

    def _upload(self, known: str | None, persist: Any, last_try: bool) -> str:
        return self.hook.upload_sample(
            self.source,
            paired_source=self.paired_source,
            metadata=self.metadata,
            tags=self.tags,
            project_id=self.project_id,
            external_sample_id=self.external_sample_id,
            sample_id=known,
            on_sample_id=persist,
            cancel_on_failure=last_try,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger: the sample record, or the sensor's exception."""
        ti = context["ti"]
        sample_id = _recall(context.get("task_state_store")) or ti.xcom_pull(
            task_ids=ti.task_id, key=SAMPLE_ID_KEY, map_indexes=ti.map_index
        )
        if not isinstance(sample_id, str):
            raise AirflowException(f"the uploaded sample's id is missing from XCom ({SAMPLE_ID_KEY})")
        self.sample_id = sample_id
        return super().execute_complete(context, event)

    def on_kill(self) -> None:
        """Cancel an upload in progress (``POST /api/v1/samples/cancel_upload``)."""
        if self._uploading is not None:
            with contextlib.suppress(Exception):
                self.hook.cancel_upload(self._uploading)


def _recall(store: Any) -> str | None:
    if store is None:
        return None
    try:
        value = store.get(SAMPLE_ID_KEY)
    except Exception:  # the store is a convenience: a fresh upload is still correct
        return None
    return value if isinstance(value, str) else None
