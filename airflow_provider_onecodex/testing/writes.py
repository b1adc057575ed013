"""Changes to a running simulator's records: the API's PATCH routes and the run-time helpers tests
use (``add_sample``, ``add_analysis``, ``set_outcome``...). Mixed into
:class:`~airflow_provider_onecodex.testing.state.SimulatorState`."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_provider_onecodex.testing.errors import InvalidChange, NotFound
from airflow_provider_onecodex.testing.ids import is_id, ref_id
from airflow_provider_onecodex.testing.metadata_rules import (
    KNOWN,
    READ_ONLY,
    SAMPLE_PATCH_FIELDS,
    VISIBILITIES,
    check_metadata_value,
)
from airflow_provider_onecodex.testing.records import (
    DEFAULT_FAILURE_MSG,
    Account,
    Analysis,
    Job,
    Metadata,
    Record,
    Sample,
    Tag,
)


class WritesMixin:
    """Record changes; the indexes (:meth:`_index`) follow every record added."""

    _lock: threading.RLock
    _rng: random.Random
    account: Account
    samples: dict[str, Sample]
    metadata: dict[str, Metadata]
    analyses: dict[str, Analysis]
    jobs: dict[str, Job]
    tags: dict[str, Tag]

    elapsed: Callable[[], float]

    _index: Callable[[str, Record], None]

    get_json: Callable[[str, str], dict[str, Any]]

    # -- PATCH routes --

    def patch_metadata(self, record_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH /api/v1/metadata/<id>``: change only the given fields, return the record.

        Unknown fields are ignored, as One Codex's PATCH schema (no ``additionalProperties:
        false``) does; ``starred: null`` leaves ``starred`` as it is.

        :raises NotFound: unknown id.
        :raises InvalidChange: ``sample``, ``$uri`` or ``updated_at`` in the body, or a value of
            the wrong type or outside an enumeration.
        """
        with self._lock:
            record = self.metadata.get(record_id)
            if record is None:
                raise NotFound(record_id)
            known = {k: v for k, v in changes.items() if k in KNOWN or k in READ_ONLY}
            checked = {name: check_metadata_value(name, value) for name, value in known.items()}
            for name, value in checked.items():
                if value is not ...:
                    setattr(record, name, value)
            if checked:
                record.updated_at = self.elapsed()
            return self.get_json("metadata", record_id)

    def patch_sample(self, record_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH /api/v1/samples/<id>``: ``tags`` (all ``{"$ref"}`` or all ``{"name"}``; the list
        replaces the sample's tags; unknown names create tags), ``visibility``, ``project``.

        :raises NotFound: unknown sample. :raises InvalidChange: anything else the API would 400.
        """
        with self._lock:
            sample = self.samples.get(record_id)
            if sample is None:
                raise NotFound(record_id)
            unknown = sorted(set(changes) - set(SAMPLE_PATCH_FIELDS))
            if unknown:
                raise InvalidChange(f"unknown sample fields {unknown}")
            tags = self._tag_ids(changes["tags"]) if "tags" in changes else sample.tags
            visibility = changes.get("visibility", sample.visibility)
            if visibility not in VISIBILITIES:
                raise InvalidChange(f"'visibility' must be one of {list(VISIBILITIES)}")
            project = sample.project
            if "project" in changes:
                value = changes["project"]
                project = None if value is None else ref_id(value, "projects")
                if value is not None and (project is None or not isinstance(value, dict)):
                    raise InvalidChange('\'project\' must be {"$ref": "/api/v1/projects/<id>"} or null')
            sample.tags, sample.visibility, sample.project = tags, visibility, project
            sample.updated_at = self.elapsed()
            return self.get_json("samples", record_id)

    def _tag_ids(self, items: Any) -> list[str]:
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvalidChange('\'tags\' must be a list of {"$ref"} or of {"name"} objects')
        shapes = {tuple(sorted(i)) for i in items}
        if len(shapes) > 1 or (shapes and shapes.pop() not in (("$ref",), ("name",))):
            raise InvalidChange('\'tags\' must be all {"$ref": ...} or all {"name": ...}, not a mix')
        ids: dict[str, None] = {}
        for item in items:
            if "$ref" in item:
                ident = ref_id(item["$ref"], "tags")
                if ident is None or ident not in self.tags:
                    raise InvalidChange(f"unknown tag {item['$ref']!r}")
                ids[ident] = None
                continue
            name = item["name"]
            if not isinstance(name, str) or not name.strip() or len(name) > 30:
                raise InvalidChange("a tag name must be 1 to 30 characters")
            found = next((t.id for t in self.tags.values() if t.name == name), None)
            if found is None:
                found = self._new_id(self.tags, None)
                self.tags[found] = Tag(found, name)
                self._index("tags", self.tags[found])
            ids[found] = None
        return list(ids)

    # -- run-time helpers for tests and demos --

    def _new_id(self, taken: Mapping[str, Any], wanted: str | None) -> str:
        if wanted is not None:
            if not is_id(wanted):
                raise ValueError(f"{wanted!r} is not a 16-lowercase-hex id")
            if wanted in taken:
                raise ValueError(f"id {wanted} already exists")
            return wanted
        while True:
            new = f"{self._rng.getrandbits(64):016x}"
            if new not in taken:
                return new

    def add_sample(
        self,
        filename: str,
        *,
        size: int | None = 123_456_789,
        id: str | None = None,
        tags: Iterable[str] = (),
        visibility: str = "private",
        status: str = "available",
        owner: str | None = None,
        project: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        error_msg: str | None = None,
        ready_after: float | None = None,
        pending_status: str = "validating",
        primary_classification: str | None = None,
    ) -> str:
        """Add a sample (created now) and its metadata record; returns the sample id.

        ``metadata``: metadata fields, e.g. ``{"name": ..., "external_sample_id": ...}``.
        ``ready_after``: seconds from now until ``status`` applies (``pending_status`` before).
        """
        with self._lock:
            sample_id = self._new_id(self.samples, id)
            unknown_tags = set(tags) - set(self.tags)
            if unknown_tags:
                raise ValueError(f"unknown tags {sorted(unknown_tags)}")
            meta = Metadata(id=self._new_id(self.metadata, None), sample=sample_id, name=filename)
            for name, value in (metadata or {}).items():
                checked = check_metadata_value(name, value)
                if checked is not ...:
                    setattr(meta, name, checked)
            now = self.elapsed()
            sample = Sample(
                id=sample_id,
                filename=filename,
                size=size,
                status=status,
                visibility=visibility,
                owner=owner or self.account.user,
                project=project,
                tags=list(tags),
                metadata=meta.id,
                created_at=now,
                error_msg=error_msg,
                ready_after=None if ready_after is None else now + ready_after,
                pending_status=pending_status,
                primary_classification=primary_classification,
            )
            self.samples[sample_id] = sample
            self.metadata[meta.id] = meta
            self._index("samples", sample)
            self._index("metadata", meta)
            return sample_id

    def add_analysis(
        self,
        analysis_type: str,
        sample: str,
        *,
        id: str | None = None,
        job: str | None = None,
        tax_id: str | None = None,
        complete_after: float | None = None,
        success: bool = True,
        error_msg: str | None = None,
        job_args: dict[str, Any] | None = None,
    ) -> str:
        """Add an analysis created now; returns its id.

        :param complete_after: seconds **from now** until it completes; None = stays pending.
        :param error_msg: shown once complete (default: ``""`` for a success, One Codex's
            generic message for a failure).
        """
        with self._lock:
            if sample not in self.samples:
                raise ValueError(f"unknown sample {sample}")
            if job is None:
                job = next((j.id for j in self.jobs.values() if j.analysis_type == analysis_type), None)
            if job is None:
                new_job = Job.default_for(analysis_type)
                self.jobs[new_job.id] = new_job
                self._index("jobs", new_job)
                job = new_job.id
            if job not in self.jobs:
                raise ValueError(f"unknown job {job}")
            now = self.elapsed()
            analysis = Analysis(
                id=self._new_id(self.analyses, id),
                analysis_type=analysis_type,
                sample=sample,
                job=job,
                tax_id=tax_id,
                complete_after=None if complete_after is None else now + complete_after,
                success=success,
                error_msg=_outcome_message(success, error_msg),
                created_at=now,
                job_args=job_args if job_args is not None else {},
            )
            self.analyses[analysis.id] = analysis
            self._index("analyses", analysis)
            return analysis.id

    def add_alignment(self, sample: str, *, tax_id: str | None = None, **kwargs: Any) -> str:
        """Add an alignment of ``sample`` (see :meth:`add_analysis` for the other arguments)."""
        return self.add_analysis("alignment", sample, tax_id=tax_id, **kwargs)

    def set_outcome(
        self, analysis_id: str, *, success: bool, error_msg: str | None = None, after: float = 0.0
    ) -> None:
        """Force an analysis to complete ``after`` seconds from now with this outcome."""
        with self._lock:
            a = self._analysis(analysis_id)
            a.success = success
            a.error_msg = _outcome_message(success, error_msg)
            a.complete_after = self.elapsed() + after

    def set_pending(self, analysis_id: str, complete_after: float | None = None) -> None:
        """Make an analysis pending again (as when One Codex retries it): completes
        ``complete_after`` seconds from now with its current outcome, or never (None)."""
        with self._lock:
            a = self._analysis(analysis_id)
            a.complete_after = None if complete_after is None else self.elapsed() + complete_after

    def _analysis(self, analysis_id: str) -> Analysis:
        try:
            return self.analyses[analysis_id]
        except KeyError:
            raise NotFound(analysis_id) from None


def _outcome_message(success: bool, error_msg: str | None) -> str:
    """``error_msg`` of an outcome set at run time: ``""`` for a success unless given (a scenario
    can give ``null``, the other recorded form), the generic message for a failure without one."""
    if success:
        return "" if error_msg is None else error_msg
    return error_msg or DEFAULT_FAILURE_MSG
