"""Scenarios: what the simulated One Codex account holds, as JSON (see ``scenarios/demo.json``).

Top-level keys: ``api_key`` (32 chars), ``account``, ``name`` and one list per collection of
:data:`~airflow_provider_onecodex.testing.registry.COLLECTIONS` (``users``, ``tags``, ``jobs``,
``projects``, ``samples``, ``metadata``, ``analyses``, ``documents``, ``assets``, ``webhooks``,
``events``); keys starting with ``_`` are comments. Records name each other by bare id. Each
analysis has ``complete_after``: seconds after the simulator starts until it completes (null =
never), with outcome ``success``/``error_msg``. Timestamps are RFC 3339 text or numbers (seconds
relative to the simulator start). Samples and analyses with ``appear_after`` (seconds) are
invisible until then; ``account.webhooks: true`` feeds ``/api/v1/events`` from state changes
(see :mod:`.events`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from airflow_provider_onecodex.testing import records as rec
from airflow_provider_onecodex.testing.ids import derived_id, is_id
from airflow_provider_onecodex.testing.records import DEFAULT_FAILURE_MSG, Clock, Timestamp
from airflow_provider_onecodex.testing.registry import ANALYSIS_ROUTES, COLLECTIONS

SCENARIOS_DIR = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """The scenario JSON is malformed or inconsistent."""


@dataclass
class Scenario:
    api_key: str
    account: rec.Account
    users: list[rec.User]
    tags: list[rec.Tag] = field(default_factory=list)
    jobs: list[rec.Job] = field(default_factory=list)
    projects: list[rec.Project] = field(default_factory=list)
    samples: list[rec.Sample] = field(default_factory=list)
    metadata: list[rec.Metadata] = field(default_factory=list)
    analyses: list[rec.Analysis] = field(default_factory=list)
    documents: list[rec.Document] = field(default_factory=list)
    assets: list[rec.Asset] = field(default_factory=list)
    webhooks: list[rec.Webhook] = field(default_factory=list)
    events: list[rec.Event] = field(default_factory=list)
    name: str = "scenario"


# --- loading ---------------------------------------------------------------------------------

_T = TypeVar("_T")
_RECORD_TYPES = COLLECTIONS


def demo_scenario_path() -> Path:
    return SCENARIOS_DIR / "demo.json"


def load_scenario(source: str | Path | Mapping[str, Any] | Scenario | None = None) -> Scenario:
    """Load a scenario from a JSON file, a dict, ``"demo"``/``None`` (the bundled demo) or the
    name of another bundled scenario. Keys starting with ``_`` are comments and ignored.

    :raises ScenarioError: unknown keys, bad ids, dangling references, a wrong-length API key.
    """
    if isinstance(source, Scenario):
        return source
    if source is None:
        source = "demo"
    if isinstance(source, (str, Path)):
        path = Path(source)
        bundled = SCENARIOS_DIR / f"{source}.json"
        if isinstance(source, str) and not path.suffix and bundled.is_file():
            path = bundled
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ScenarioError(f"cannot read scenario {source}: {exc}") from exc
        name = path.stem
    else:
        data, name = source, "scenario"
    if not isinstance(data, Mapping):
        raise ScenarioError("a scenario must be a JSON object")
    return _parse(data, str(data.get("name", name)))


def _build(cls: type[_T], data: Any, where: str) -> _T:
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{where}: expected an object")
    values = {k: v for k, v in data.items() if not k.startswith("_")}
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(values) - names
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _parse(data: Mapping[str, Any], name: str) -> Scenario:
    allowed = {"api_key", "account", "name", *_RECORD_TYPES}
    unknown = {k for k in data if not k.startswith("_")} - allowed
    if unknown:
        raise ScenarioError(f"unknown scenario keys {sorted(unknown)}")
    api_key = data.get("api_key")
    if not isinstance(api_key, str) or len(api_key) != 32:
        raise ScenarioError("api_key must be a 32-character string")
    lists: dict[str, list[Any]] = {}
    for key, cls in _RECORD_TYPES.items():
        items = data.get(key, [])
        if not isinstance(items, list):
            raise ScenarioError(f"{key} must be a list")
        lists[key] = [_build(cls, item, f"{key}[{i}]") for i, item in enumerate(items)]
    if not lists["users"]:
        raise ScenarioError("a scenario needs at least one user (the account's)")
    account = _build(rec.Account, data.get("account", {"user": lists["users"][0].id}), "account")
    scenario = Scenario(api_key=api_key, account=account, name=name, **lists)
    _link(scenario)
    return scenario


def _link(sc: Scenario) -> None:
    """Check ids and references; fill defaults (owners, jobs, one metadata record per sample)."""
    for key in _RECORD_TYPES:
        seen: set[str] = set()
        for record in getattr(sc, key):
            if not is_id(record.id):
                raise ScenarioError(f"{key}: {record.id!r} is not a 16-lowercase-hex id")
            if record.id in seen:
                raise ScenarioError(f"{key}: duplicate id {record.id}")
            seen.add(record.id)
    users = {u.id: u for u in sc.users}
    if sc.account.user not in users:
        raise ScenarioError(f"account.user {sc.account.user} is not in users")
    projects = {p.id for p in sc.projects}
    for s in sc.samples:
        if s.project is not None and s.project not in projects:
            raise ScenarioError(f"sample {s.id}: unknown project {s.project}")
    owners = [("project", p.id, p.owner) for p in sc.projects] + [
        ("asset", a.id, a.uploader) for a in sc.assets
    ]
    for kind, record_id, who in owners:
        if who is not None and who not in users:
            raise ScenarioError(f"{kind} {record_id}: unknown user {who}")
    me = users[sc.account.user]
    sc.account.email = sc.account.email or me.email
    sc.account.username = sc.account.username if sc.account.username is not None else me.username
    tags = {t.id for t in sc.tags}
    metadata_by_sample = {m.sample: m for m in sc.metadata}
    samples = {s.id for s in sc.samples}
    for m in sc.metadata:
        if m.sample not in samples:
            raise ScenarioError(f"metadata {m.id}: unknown sample {m.sample}")
    for s in sc.samples:
        if s.pending_status not in rec.SAMPLE_PENDING_STATUSES:
            raise ScenarioError(
                f"sample {s.id}: pending_status must be one of {sorted(rec.SAMPLE_PENDING_STATUSES)}"
            )
        if s.ready_after is not None and (
            isinstance(s.ready_after, bool)
            or not isinstance(s.ready_after, (int, float))
            or s.ready_after < 0
        ):
            raise ScenarioError(f"sample {s.id}: ready_after must be a number >= 0 or null")
        s.owner = s.owner or me.id
        if s.owner not in users:
            raise ScenarioError(f"sample {s.id}: unknown owner {s.owner}")
        if set(s.tags) - tags:
            raise ScenarioError(f"sample {s.id}: unknown tags {sorted(set(s.tags) - tags)}")
        meta = metadata_by_sample.get(s.id)
        if meta is None:
            meta = rec.Metadata(id=s.metadata or derived_id("metadata", s.id), sample=s.id, name=s.filename)
            sc.metadata.append(meta)
        if s.metadata not in (None, meta.id):
            raise ScenarioError(f"sample {s.id}: metadata {s.metadata} does not point back at it")
        s.metadata = meta.id
    appearing: list[rec.Sample | rec.Analysis] = [*sc.samples, *sc.analyses]
    for record in appearing:
        late = record.appear_after
        if late is not None and (isinstance(late, bool) or not isinstance(late, (int, float)) or late < 0):
            raise ScenarioError(f"{record.id}: appear_after must be a number >= 0 or null")
        if late is not None and record.created_at is None:
            record.created_at = late  # created when it appears
    jobs = {j.id: j for j in sc.jobs}
    for a in sc.analyses:
        if a.sample not in samples:
            raise ScenarioError(f"analysis {a.id}: unknown sample {a.sample}")
        if a.job is None:
            a.job = _default_job(sc, a.analysis_type).id
            jobs[a.job] = next(j for j in sc.jobs if j.id == a.job)
        if a.job not in jobs:
            raise ScenarioError(f"analysis {a.id}: unknown job {a.job}")
        delay = a.complete_after
        if delay is not None and (
            isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0
        ):
            raise ScenarioError(f"analysis {a.id}: complete_after must be a number >= 0 or null")
        if not isinstance(a.success, bool):
            raise ScenarioError(f"analysis {a.id}: success must be true or false")
        if a.results is not None and not isinstance(a.results, dict):
            raise ScenarioError(f"analysis {a.id}: results must be an object (a generator spec) or null")
        if not a.success and not a.error_msg:
            a.error_msg = DEFAULT_FAILURE_MSG


def _default_job(sc: Scenario, analysis_type: str) -> rec.Job:
    for job in sc.jobs:
        if job.analysis_type == analysis_type:
            return job
    job = rec.Job.default_for(analysis_type, created_at=-86400.0)
    sc.jobs.append(job)
    return job


def iso(moment: datetime) -> str:
    """RFC 3339 with microseconds and offset, the API's usual timestamp form."""
    return moment.isoformat(timespec="microseconds")


__all__ = [
    "ANALYSIS_ROUTES",
    "DEFAULT_FAILURE_MSG",
    "SCENARIOS_DIR",
    "Clock",
    "Scenario",
    "ScenarioError",
    "Timestamp",
    "demo_scenario_path",
    "derived_id",
    "iso",
    "load_scenario",
]
