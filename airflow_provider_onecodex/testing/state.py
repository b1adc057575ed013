"""The live state of a running simulator: records, clock, request log and fault injector.

Analyses are time-driven: each is pending (``complete: false, success: false, error_msg: null,
updated_at: null``) until its ``complete_after`` delay has passed on the injected clock, then
complete with its outcome, as One Codex analyses move from running to succeeded or failed (API
reference §7.2). :class:`SimulatorState` renders records in the v1 API's shapes and lets tests add
records and force outcomes at run time.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import json
import math
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from airflow_provider_onecodex.api.ids import build_uri, id_from_uri, is_valid_id, ref
from airflow_provider_onecodex.testing import results as generated
from airflow_provider_onecodex.testing.errors import InvalidChange, NotAvailable, NotFound, PresignRefused
from airflow_provider_onecodex.testing.faults import FaultInjector, RequestLog, RequestRecord
from airflow_provider_onecodex.testing.scenario import (
    ANALYSIS_ROUTES,
    DEFAULT_FAILURE_MSG,
    METADATA_ENUMS,
    Analysis,
    Clock,
    Document,
    Event,
    Job,
    Metadata,
    Sample,
    Scenario,
    Tag,
    Timestamp,
    User,
    derived_id,
    iso,
    load_scenario,
)

SAMPLE_PATCH_FIELDS = ("tags", "project", "visibility")
VISIBILITIES = ("public", "shared", "private", "importing", "awaiting data")


class ManualClock:
    """A clock for tests: time moves only when :meth:`advance` is called."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class SimulatorState:
    """Records of a running simulator, rendered in One Codex v1 shapes. Thread-safe.

    :param scenario: a :class:`Scenario` or anything :func:`load_scenario` accepts.
    :param api_key: overrides the scenario's key.
    :param clock: monotonic seconds (default :func:`time.monotonic`); completion times are
        measured from the clock's value when the state is created or :meth:`restart_clock` runs.
    """

    def __init__(
        self,
        scenario: str | Path | Mapping[str, Any] | Scenario | None = None,
        *,
        api_key: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._scenario = load_scenario(scenario)
        sc = copy.deepcopy(self._scenario)
        self.name = sc.name
        self.api_key = api_key or sc.api_key
        self._clock: Clock = clock or time.monotonic
        self._lock = threading.RLock()
        self.restart_clock()
        self.account = sc.account
        self.users = {r.id: r for r in sc.users}
        self.tags = {r.id: r for r in sc.tags}
        self.jobs = {r.id: r for r in sc.jobs}
        self.samples = {r.id: r for r in sc.samples}
        self.metadata = {r.id: r for r in sc.metadata}
        self.analyses = {r.id: r for r in sc.analyses}
        self.documents = {r.id: r for r in sc.documents}
        self.events = {r.id: r for r in sc.events}
        self.faults = FaultInjector()
        self.log = RequestLog(self._clock)
        self._rng = random.Random()
        #: where pre-signed links point (SimulatorServer.start sets its own address)
        self.base_url = "http://127.0.0.1"
        #: seconds a pre-signed link stays valid, on the simulated wall clock
        self.presign_ttl = 3600.0
        #: tests: file_details announces ``filename``'s size off by this many bytes
        self.file_size_skew: dict[str, int] = {}
        self._signing_key = secrets.token_bytes(32)
        self._results_cache: dict[str, dict[str, Any]] = {}

    def reset(
        self,
        scenario: str | Path | Mapping[str, Any] | Scenario | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        """Back to a scenario's records (default: the one this state was built from), with no
        fault rules, an empty request log and a restarted clock; the API key and ``base_url`` stay.

        A running server keeps serving this same object, so tests share one server and reset it.
        """
        with self._lock:
            fresh = SimulatorState(
                self._scenario if scenario is None else scenario,
                api_key=self.api_key,
                clock=clock or self._clock,
            )
            faults, log, base_url = self.faults, self.log, self.base_url
            self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_lock"})
            faults.clear()
            faults.reset_counts()
            faults.closing.clear()
            log.clear()
            log._clock = self._clock
            self.faults, self.log, self.base_url = faults, log, base_url

    # -- clock --

    def restart_clock(self) -> None:
        """Make "now" the simulator start that ``complete_after`` delays count from."""
        with self._lock:
            self._t0 = self._clock()
            self._wall0 = datetime.now(timezone.utc)

    def elapsed(self) -> float:
        """Seconds since the simulator start, on the injected clock."""
        return self._clock() - self._t0

    def _timestamp(self, value: Timestamp) -> str:
        if value is None:
            return iso(self._wall0)
        if isinstance(value, (int, float)):
            return iso(self._wall0 + timedelta(seconds=value))
        return value

    def _optional_timestamp(self, value: Timestamp) -> str | None:
        return None if value is None else self._timestamp(value)

    # -- request accounting --

    @property
    def requests(self) -> list[RequestRecord]:
        """Every One Codex API request received so far (``/_sim`` admin routes excluded)."""
        return self.log.records

    def count(
        self, path_prefix: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        """How many requests matched, e.g. ``count("/api/v1/alignments/", method="GET")``."""
        return self.log.count(path_prefix, method, status)

    def reset_counters(self) -> None:
        """Forget logged requests and injected-fault counts (fault rules stay)."""
        self.log.clear()
        self.faults.reset_counts()

    def stats(self) -> dict[str, Any]:
        """Counts for ``GET /_sim/stats``."""
        counts = self.faults.counts
        return {
            "scenario": self.name,
            "elapsed": round(self.elapsed(), 3),
            "requests": self.log.stats(),
            "faults": {"total": sum(counts.values()), "by_kind": counts},
            "rules": self.faults.rules(),
        }

    # -- rendering (GET routes) --

    def account_json(self) -> dict[str, Any]:
        """``GET /api/v1/account``: one object, not a list."""
        a = self.account
        return {
            "confirmed_at": self._optional_timestamp(a.confirmed_at),
            "coupons": list(a.coupons),
            "created_at": self._timestamp(a.created_at),
            "credits": a.credits,
            "email": a.email,
            "user": ref("users", a.user),
            "username": a.username,
        }

    def list_json(self, resource: str, scope: str | None = None) -> list[dict[str, Any]]:
        """All records of a list route, before where/sort/paging, in insertion order.

        ``scope`` is ``"public"`` or ``"organization"`` for ``/samples/public`` (public samples)
        and ``/samples/organization`` (samples of the other users of the scenario).
        """
        now = self.elapsed()
        with self._lock:
            if resource in ("analyses", *ANALYSIS_ROUTES):
                wanted = ANALYSIS_ROUTES.get(resource)
                return [
                    self._analysis_json(a, resource, now)
                    for a in list(self.analyses.values())
                    if wanted is None or a.analysis_type == wanted
                ]
            records = list(self._collection(resource).values())
        if resource == "samples":
            records = [s for s in records if self._in_scope(s, scope)]
        return [self._render(resource, r) for r in records]

    def get_json(self, resource: str, record_id: str) -> dict[str, Any]:
        """One record of ``GET /api/v1/<resource>/<id>``; raises :class:`NotFound`."""
        with self._lock:
            if resource in ("analyses", *ANALYSIS_ROUTES):
                a = self.analyses.get(record_id)
                wanted = ANALYSIS_ROUTES.get(resource)
                if a is None or (wanted is not None and a.analysis_type != wanted):
                    raise NotFound(record_id)
                return self._analysis_json(a, resource, self.elapsed())
            record = self._collection(resource).get(record_id)
            if record is None:
                raise NotFound(record_id)
            return self._render(resource, record)

    def _collection(self, resource: str) -> dict[str, Any]:
        collections: dict[str, dict[str, Any]] = {
            "users": self.users,
            "tags": self.tags,
            "jobs": self.jobs,
            "samples": self.samples,
            "metadata": self.metadata,
            "documents": self.documents,
            "events": self.events,
        }
        return collections[resource]

    def _in_scope(self, sample: Sample, scope: str | None) -> bool:
        if scope == "public":
            return sample.visibility == "public"
        if scope == "organization":
            return sample.owner != self.account.user
        return sample.owner == self.account.user

    def _render(self, resource: str, record: Any) -> dict[str, Any]:
        render: Callable[[Any], dict[str, Any]] = getattr(self, f"_{resource}_json")
        return render(record)

    def _analysis_json(self, a: Analysis, route: str, now: float) -> dict[str, Any]:
        """An analysis as ``route`` shows it: ``analysis_type`` only on /analyses, ``tax_id`` on
        /alignments (when known), ``results_uri`` on /classifications."""
        complete = a.complete_after is not None and now >= a.complete_after
        out: dict[str, Any] = {"$uri": build_uri(route, a.id)}
        if route == "analyses":
            out["analysis_type"] = a.analysis_type
        out.update(
            complete=complete,
            created_at=self._timestamp(a.created_at),
            error_msg=(a.error_msg if not a.success else (a.error_msg or "")) if complete else None,
            job=ref("jobs", a.job or ""),
            job_args=a.job_args,
            sample=ref("samples", a.sample),
            success=complete and a.success,
            cost=None,
            dependencies=[],
            draft=False,
            updated_at=self._timestamp(a.complete_after) if complete else None,
        )
        if route == "alignments" and a.tax_id is not None:
            out["tax_id"] = a.tax_id
        if route == "classifications":
            link = None
            if complete and a.success and a.has_results_uri:
                link = a.results_uri or self.presign(f"classifications/{a.id}/results.json.gz")
            out["results_uri"] = link
        return out

    def _users_json(self, u: User) -> dict[str, Any]:
        return {"$uri": build_uri("users", u.id), "email": u.email, "username": u.username}

    def _tags_json(self, t: Tag) -> dict[str, Any]:
        return {"$uri": build_uri("tags", t.id), "name": t.name}

    def _jobs_json(self, j: Job) -> dict[str, Any]:
        return {
            "$uri": build_uri("jobs", j.id),
            "analysis_type": j.analysis_type,
            "created_at": self._timestamp(j.created_at),
            "name": j.name,
            "public": j.public,
        }

    def _samples_json(self, s: Sample) -> dict[str, Any]:
        ready = s.ready_after is None or self.elapsed() >= s.ready_after
        return {
            "$uri": build_uri("samples", s.id),
            "created_at": self._timestamp(s.created_at),
            "error_msg": s.error_msg if ready else None,
            "filename": s.filename,
            "metadata": ref("metadata", s.metadata or ""),
            "owner": ref("users", s.owner or ""),
            "primary_classification": (
                ref("classifications", s.primary_classification)
                if s.primary_classification and ready
                else None
            ),
            "project": ref("projects", s.project) if s.project else None,
            "size": s.size,
            "status": s.status if ready else s.pending_status,
            "tags": [ref("tags", t) for t in s.tags],
            "updated_at": self._optional_timestamp(s.updated_at),
            "visibility": s.visibility,
        }

    def _metadata_json(self, m: Metadata) -> dict[str, Any]:
        out = {f.name: getattr(m, f.name) for f in dataclasses.fields(m) if f.name != "id"}
        out["custom"] = dict(m.custom)
        out["sample"] = ref("samples", m.sample)
        out["updated_at"] = self._optional_timestamp(m.updated_at)
        return {"$uri": build_uri("metadata", m.id), **dict(sorted(out.items()))}

    def _documents_json(self, d: Document) -> dict[str, Any]:
        return {
            "$uri": build_uri("documents", d.id),
            "created_at": self._timestamp(d.created_at),
            "description": d.description,
            "downloaders": [ref("users", u) for u in d.downloaders],
            "downloads_remaining": d.downloads_remaining,
            "filename": d.filename,
            "size": d.size,
            "uploader": ref("users", d.uploader or self.account.user),
            "valid_until": d.valid_until,
        }

    def _events_json(self, e: Event) -> dict[str, Any]:
        return {"$uri": build_uri("events", e.id), "payload": e.payload, "status": e.status}

    # -- writes --

    def patch_metadata(self, record_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH /api/v1/metadata/<id>``: change only the given fields, return the record.

        :raises NotFound: unknown id.
        :raises InvalidChange: ``sample``, ``$uri`` or ``updated_at`` in the body, unknown fields,
            or a value of the wrong type.
        """
        with self._lock:
            record = self.metadata.get(record_id)
            if record is None:
                raise NotFound(record_id)
            checked = {name: _check_metadata_value(name, value) for name, value in changes.items()}
            for name, value in checked.items():
                setattr(record, name, value)
            if checked:
                record.updated_at = self.elapsed()
            return self._metadata_json(record)

    def _new_id(self, taken: Mapping[str, Any], wanted: str | None) -> str:
        if wanted is not None:
            if not is_valid_id(wanted):
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
                setattr(meta, name, _check_metadata_value(name, value))
            now = self.elapsed()
            self.samples[sample_id] = Sample(
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
            self.metadata[meta.id] = meta
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
        """
        with self._lock:
            if sample not in self.samples:
                raise ValueError(f"unknown sample {sample}")
            if job is None:
                job = next((j.id for j in self.jobs.values() if j.analysis_type == analysis_type), None)
            if job is None:
                new_job = Job(derived_id("job", analysis_type), f"{analysis_type.title()} Job", analysis_type)
                self.jobs[new_job.id] = new_job
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
                error_msg=error_msg if success or error_msg else DEFAULT_FAILURE_MSG,
                created_at=now,
                job_args=job_args if job_args is not None else {},
            )
            self.analyses[analysis.id] = analysis
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
            a.error_msg = error_msg if success or error_msg else DEFAULT_FAILURE_MSG
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

    # -- sample PATCH (tags) --

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
                project = None if value is None else id_from_uri(value) if isinstance(value, dict) else None
                if value is not None and not is_valid_id(project):
                    raise InvalidChange('\'project\' must be {"$ref": "/api/v1/projects/<id>"} or null')
            sample.tags, sample.visibility, sample.project = tags, visibility, project
            sample.updated_at = self.elapsed()
            return self._samples_json(sample)

    def _tag_ids(self, items: Any) -> list[str]:
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvalidChange('\'tags\' must be a list of {"$ref"} or of {"name"} objects')
        shapes = {tuple(sorted(i)) for i in items}
        if len(shapes) > 1 or (shapes and shapes.pop() not in (("$ref",), ("name",))):
            raise InvalidChange('\'tags\' must be all {"$ref": ...} or all {"name": ...}, not a mix')
        ids: dict[str, None] = {}
        for item in items:
            if "$ref" in item:
                ident = id_from_uri(item["$ref"])
                if not str(item["$ref"]).startswith("/api/v1/tags/") or ident not in self.tags:
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
            ids[found] = None
        return list(ids)

    # -- results, file details and pre-signed links --

    def wall_now(self) -> float:
        """The simulated wall clock (epoch seconds): pre-signed links expire on it."""
        return self._wall0.timestamp() + self.elapsed()

    def _signature(self, key: str, expires: int) -> str:
        return hmac.new(self._signing_key, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def presign(self, key: str) -> str:
        """A pre-signed link to blob ``key``, valid for :attr:`presign_ttl` seconds."""
        expires = int(self.wall_now() + self.presign_ttl)
        signature = self._signature(key, expires)
        return f"{self.base_url}/_files/{quote(key)}?expires={expires}&signature={signature}"

    def open_presigned(self, key: str, expires: str | None, signature: str | None) -> tuple[bytes, str]:
        """The blob behind a pre-signed link, checked as S3 would: ``(content, content type)``.

        :raises PresignRefused: missing/bad signature or expired (403), unknown key (404).
        """
        if not expires or not signature or not expires.isdigit():
            raise PresignRefused(
                403, "AccessDenied", "Query-string authentication requires expires and signature"
            )
        if not hmac.compare_digest(signature, self._signature(key, int(expires))):
            raise PresignRefused(403, "SignatureDoesNotMatch", "The request signature does not match")
        if self.wall_now() > int(expires):
            raise PresignRefused(403, "AccessDenied", "Request has expired")
        try:
            return self.blob(key)
        except (NotFound, NotAvailable):
            raise PresignRefused(404, "NoSuchKey", "The specified key does not exist.") from None

    def blob(self, key: str) -> tuple[bytes, str]:
        """Content and type of a stored file: ``classifications/<id>/results.json.gz``,
        ``classifications/<id>/readlevel.tsv.gz``, ``analyses/<id>/files/<name>``,
        ``documents/<id>/<filename>``."""
        parts = key.split("/")
        with self._lock:
            if len(parts) == 3 and parts[0] == "classifications" and parts[2] == "results.json.gz":
                body = json.dumps(self.analysis_results("classifications", parts[1]), separators=(",", ":"))
                return generated.gzip_bytes(body.encode()), "application/octet-stream"
            if len(parts) == 3 and parts[0] == "classifications" and parts[2] == "readlevel.tsv.gz":
                results = self.analysis_results("classifications", parts[1])
                return generated.gzip_bytes(generated.readlevel_tsv(parts[1], results)), "application/gzip"
            if len(parts) == 4 and parts[0] == "analyses" and parts[2] == "files":
                files = self._output_files(parts[1])
                if parts[3] not in files:
                    raise NotFound(key)
                return files[parts[3]], _content_type(parts[3])
            if len(parts) == 3 and parts[0] == "documents" and parts[1] in self.documents:
                document = self.documents[parts[1]]
                if document.filename != parts[2]:
                    raise NotFound(key)
                return generated.document_bytes(document.id, document.size, document.filename), _content_type(
                    document.filename
                )
        raise NotFound(key)

    def _succeeded_analysis(self, route: str, analysis_id: str) -> Analysis:
        a = self.analyses.get(analysis_id)
        wanted = ANALYSIS_ROUTES.get(route)
        if a is None or (wanted is not None and a.analysis_type != wanted):
            raise NotFound(analysis_id)
        now = self.elapsed()
        if a.complete_after is None or now < a.complete_after or not a.success:
            raise NotAvailable(analysis_id)
        return a

    def _generated_results(self, a: Analysis) -> dict[str, Any]:
        cached = self._results_cache.get(a.id)
        if cached is None:
            if a.analysis_type == "classification":
                cached = generated.classification_results(a.id, a.results)
            elif a.analysis_type == "alignment":
                cached = generated.alignment_results(a.id, a.tax_id, a.results)
            elif a.analysis_type == "panel":
                job = self.jobs.get(a.job or "")
                cached = generated.panel_results(a.id, job.name if job else "Panel", a.results)
            else:
                cached = dict(a.results or {})
            self._results_cache[a.id] = cached
        return copy.deepcopy(cached)

    def analysis_results(self, route: str, analysis_id: str, kind: str = "results") -> dict[str, Any]:
        """``GET /api/v1/<route>/<id>/results`` (or ``raw_results``) of a succeeded analysis.

        :raises NotFound: unknown id or another type's route. :raises NotAvailable: pending or failed.
        """
        with self._lock:
            a = self._succeeded_analysis(route, analysis_id)
            results = self._generated_results(a)
        if kind == "raw_results":
            return generated.raw_results(a.id, results)
        return results

    def _output_files(self, analysis_id: str) -> dict[str, bytes]:
        a = self._succeeded_analysis("analyses", analysis_id)
        return generated.output_files(a.analysis_type, self._generated_results(a))

    def file_details_json(self, route: str, analysis_id: str) -> dict[str, Any]:
        """``GET /api/v1/<route>/<id>/file_details``: ``{"files": [{filename, filepath, size, url}]}``."""
        with self._lock:
            self._succeeded_analysis(route, analysis_id)
            files = self._output_files(analysis_id)
        return {
            "files": [
                {
                    "filename": name,
                    "filepath": f"{analysis_id}/{name}",
                    "size": len(content) + self.file_size_skew.get(name, 0),
                    "url": self.presign(f"analyses/{analysis_id}/files/{name}"),
                }
                for name, content in files.items()
            ]
        }

    def readlevel_json(self, analysis_id: str) -> dict[str, Any]:
        """``GET /api/v1/classifications/<id>/readlevel``: ``{"url": <pre-signed gzipped TSV>}``."""
        with self._lock:
            self._succeeded_analysis("classifications", analysis_id)
        return {"url": self.presign(f"classifications/{analysis_id}/readlevel.tsv.gz")}

    def document_download_uri(self, document_id: str) -> dict[str, Any]:
        """``POST /api/v1/documents/<id>/download_uri``: ``{download_uri, expires_in_hours}``."""
        with self._lock:
            document = self.documents.get(document_id)
            if document is None:
                raise NotFound(document_id)
        return {
            "download_uri": self.presign(f"documents/{document.id}/{document.filename}"),
            "expires_in_hours": max(1, math.ceil(self.presign_ttl / 3600)),
        }


def _content_type(filename: str) -> str:
    for suffix, kind in (
        (".json", "application/json"),
        (".tsv", "text/tab-separated-values"),
        (".pdf", "application/pdf"),
    ):
        if filename.endswith(suffix):
            return kind
    return "application/octet-stream"


_METADATA_STRINGS = {
    "name": 255,
    "description": None,
    "external_sample_id": 60,
    "location_string": 255,
    "platform": None,
    "library_type": None,
    "sample_type": None,
}
_READ_ONLY_METADATA = ("$uri", "sample", "updated_at")


def _check_metadata_value(name: str, value: Any) -> Any:
    """Validate one metadata field the way ``PATCH /metadata/{id}`` does (API reference §8.6)."""
    if name in _READ_ONLY_METADATA:
        raise InvalidChange(f"{name!r} cannot be changed")
    if name in _METADATA_STRINGS:
        limit = _METADATA_STRINGS[name]
        if value is not None and not isinstance(value, str):
            raise InvalidChange(f"{name!r} must be a string or null")
        if limit is not None and value is not None and len(value) > limit:
            raise InvalidChange(f"{name!r} is longer than {limit} characters")
        if name in METADATA_ENUMS and value is not None and value not in METADATA_ENUMS[name]:
            raise InvalidChange(f"{name!r} must be one of {list(METADATA_ENUMS[name])}")
        return value
    if name in ("location_lat", "location_lon"):
        bound = 90 if name == "location_lat" else 180
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > bound:
            raise InvalidChange(f"{name!r} must be a number between -{bound} and {bound}")
        return value
    if name in ("date_collected", "date_sequenced"):
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidChange(f"{name!r} must be an RFC 3339 date-time")
        try:
            datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            raise InvalidChange(f"{name!r} must be an RFC 3339 date-time") from None
        return value
    if name == "starred":
        if not isinstance(value, bool):
            raise InvalidChange("'starred' must be a boolean")
        return value
    if name == "custom":
        scalars = (str, int, float, bool, type(None))
        if not isinstance(value, dict) or not all(isinstance(v, scalars) for v in value.values()):
            raise InvalidChange("'custom' must be a flat object of strings, numbers, booleans or null")
        return dict(value)
    raise InvalidChange(f"unknown metadata field {name!r}")
