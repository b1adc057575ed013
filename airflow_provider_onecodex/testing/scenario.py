"""Scenarios: what the simulated One Codex account holds, as JSON (see ``scenarios/demo.json``).

Top-level keys: ``api_key`` (32 chars), ``account``, ``users``, ``tags``, ``jobs``, ``samples``,
``metadata``, ``analyses``, ``documents``, ``events``, ``name``; keys starting with ``_`` are
comments. Records name each other by bare id. Each analysis has ``complete_after``: seconds after
the simulator starts until it completes (null = never), with outcome ``success``/``error_msg``.
Timestamps are RFC 3339 text or numbers (seconds relative to the simulator start).
:func:`make_bulk_scenario` generates large scenarios for benchmarks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from airflow_provider_onecodex.api.ids import is_valid_id

Clock = Callable[[], float]
"""Monotonic seconds, like :func:`time.monotonic`; inject one to move simulated time in tests."""

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
DEFAULT_FAILURE_MSG = "We were unable to process this file."
#: typed routes listing a subset of /analyses (API reference §6 "One analysis id, many routes")
ANALYSIS_ROUTES: dict[str, str] = {
    "alignments": "alignment",
    "classifications": "classification",
    "panels": "panel",
}
SAMPLE_PENDING_STATUSES = ("awaiting_data", "importing", "validating")
METADATA_ENUMS: dict[str, tuple[str, ...]] = {
    "library_type": ("WGS", "Targeted/16S", "Other"),
    "sample_type": ("Isolate", "Metagenomic", "Other"),
}
Timestamp = str | float | None
"""RFC 3339 text, or seconds relative to the simulator's start (negative = before), or None."""


class ScenarioError(ValueError):
    """The scenario JSON is malformed or inconsistent."""


@dataclass
class Account:
    user: str
    email: str | None = None
    username: str | None = None
    created_at: Timestamp = None
    confirmed_at: Timestamp = None
    credits: str = "$0.00"
    coupons: list[Any] = field(default_factory=list)


@dataclass
class User:
    id: str
    email: str
    username: str | None = None


@dataclass
class Tag:
    id: str
    name: str


@dataclass
class Job:
    id: str
    name: str
    analysis_type: str
    created_at: Timestamp = None
    public: bool = False


@dataclass
class Sample:
    id: str
    filename: str | None
    size: int | None = None
    status: str = "available"
    visibility: str = "private"
    owner: str | None = None
    project: str | None = None
    tags: list[str] = field(default_factory=list)
    primary_classification: str | None = None
    metadata: str | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    error_msg: str | None = None
    #: seconds after the simulator start until ``status`` applies; before, the sample shows
    #: ``pending_status`` and no ``primary_classification`` (None: ``status`` from the start)
    ready_after: float | None = None
    pending_status: str = "validating"


@dataclass
class Metadata:
    id: str
    sample: str
    name: str | None = None
    description: str | None = None
    external_sample_id: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    date_collected: str | None = None
    date_sequenced: str | None = None
    library_type: str | None = None
    location_lat: float | None = None
    location_lon: float | None = None
    location_string: str | None = None
    platform: str | None = None
    sample_type: str | None = None
    starred: bool = False
    updated_at: Timestamp = None


@dataclass
class Analysis:
    """One analysis. ``complete_after``: seconds after the simulator start until it completes
    with outcome ``success``/``error_msg`` (0, the default: complete from the start; None: never)."""

    id: str
    analysis_type: str
    sample: str
    job: str | None = None
    tax_id: str | None = None
    complete_after: float | None = 0.0
    success: bool = True
    error_msg: str | None = None
    created_at: Timestamp = None
    job_args: dict[str, Any] | None = field(default_factory=dict)
    #: a fixed ``results_uri`` for classifications; None: a pre-signed link served by the simulator
    results_uri: str | None = None
    #: classifications: whether ``results_uri`` is set at all once they succeed
    has_results_uri: bool = True
    #: how to generate ``/results`` (see :mod:`airflow_provider_onecodex.testing.results`)
    results: dict[str, Any] | None = None


@dataclass
class Document:
    id: str
    filename: str
    size: int | None = None
    created_at: Timestamp = None
    uploader: str | None = None
    downloaders: list[str] = field(default_factory=list)
    description: str | None = None
    downloads_remaining: int | None = None
    valid_until: str | None = None


@dataclass
class Event:
    id: str
    payload: dict[str, Any]
    status: str = "success"


@dataclass
class Scenario:
    api_key: str
    account: Account
    users: list[User]
    tags: list[Tag] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    metadata: list[Metadata] = field(default_factory=list)
    analyses: list[Analysis] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    name: str = "scenario"


# --- loading ---------------------------------------------------------------------------------

_T = TypeVar("_T")
_RECORD_TYPES: dict[str, type[Any]] = {
    "users": User,
    "tags": Tag,
    "jobs": Job,
    "samples": Sample,
    "metadata": Metadata,
    "analyses": Analysis,
    "documents": Document,
    "events": Event,
}


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
    account = _build(Account, data.get("account", {"user": lists["users"][0].id}), "account")
    scenario = Scenario(api_key=api_key, account=account, name=name, **lists)
    _link(scenario)
    return scenario


def _link(sc: Scenario) -> None:
    """Check ids and references; fill defaults (owners, jobs, one metadata record per sample)."""
    for key in _RECORD_TYPES:
        seen: set[str] = set()
        for record in getattr(sc, key):
            if not is_valid_id(record.id):
                raise ScenarioError(f"{key}: {record.id!r} is not a 16-lowercase-hex id")
            if record.id in seen:
                raise ScenarioError(f"{key}: duplicate id {record.id}")
            seen.add(record.id)
    users = {u.id: u for u in sc.users}
    if sc.account.user not in users:
        raise ScenarioError(f"account.user {sc.account.user} is not in users")
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
        if s.pending_status not in SAMPLE_PENDING_STATUSES:
            raise ScenarioError(
                f"sample {s.id}: pending_status must be one of {sorted(SAMPLE_PENDING_STATUSES)}"
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
            meta = Metadata(id=s.metadata or derived_id("metadata", s.id), sample=s.id, name=s.filename)
            sc.metadata.append(meta)
        if s.metadata not in (None, meta.id):
            raise ScenarioError(f"sample {s.id}: metadata {s.metadata} does not point back at it")
        s.metadata = meta.id
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
        if not a.success and a.error_msg is None:
            a.error_msg = DEFAULT_FAILURE_MSG


def _default_job(sc: Scenario, analysis_type: str) -> Job:
    for job in sc.jobs:
        if job.analysis_type == analysis_type:
            return job
    job = Job(derived_id("job", analysis_type), f"{analysis_type.title()} Job", analysis_type, -86400.0)
    sc.jobs.append(job)
    return job


def iso(moment: datetime) -> str:
    """RFC 3339 with microseconds and offset, the API's usual timestamp form."""
    return moment.isoformat(timespec="microseconds")


def derived_id(*parts: str) -> str:
    """A stable 16-hex id derived from ``parts`` (for records a scenario leaves implicit)."""
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:16]


# --- generated scenarios --------------------------------------------------------------------

BULK_TAX_IDS = ("1280", "562", "1639", "28901", "1313", "573", "287", "1773")


def make_bulk_scenario(
    n_alignments: int,
    seed: int = 0,
    *,
    n_samples: int | None = None,
    failure_rate: float = 0.1,
    never_rate: float = 0.0,
    max_complete_after: float = 60.0,
    api_key: str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0",
) -> dict[str, Any]:
    """A scenario dict with ``n_alignments`` alignments spread over samples (for benchmarks/soak).

    Each alignment completes at a uniform random time in ``[0, max_complete_after]`` s; a
    ``failure_rate`` fraction fails and a ``never_rate`` fraction never completes. Deterministic
    for a given ``seed``; ``created_at`` increases with the alignment's position.
    """
    rng = random.Random(seed)
    taken: set[str] = set()

    def new_id() -> str:
        while True:
            candidate = f"{rng.getrandbits(64):016x}"
            if candidate not in taken:
                taken.add(candidate)
                return candidate

    n_samples = n_samples or max(1, min(n_alignments // 10, 1000))
    user, job = new_id(), new_id()
    base = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
    samples = [
        {
            "id": new_id(),
            "filename": f"bulk_{i:05d}_R1.fastq.gz",
            "size": rng.randrange(50_000_000, 5_000_000_000),
            "created_at": iso(base + timedelta(minutes=i)),
        }
        for i in range(n_samples)
    ]
    analyses = []
    for i in range(n_alignments):
        roll = rng.random()
        failed = roll < failure_rate
        never = not failed and roll < failure_rate + never_rate
        analyses.append(
            {
                "id": new_id(),
                "analysis_type": "alignment",
                "sample": samples[i % n_samples]["id"],
                "job": job,
                "tax_id": rng.choice(BULK_TAX_IDS),
                "complete_after": None if never else round(rng.uniform(0, max_complete_after), 3),
                "success": not failed,
                "error_msg": "Reference genome coverage too low to call an alignment." if failed else None,
                "created_at": iso(base + timedelta(days=1, seconds=7 * i)),
            }
        )
    return {
        "name": f"bulk-{n_alignments}-{seed}",
        "api_key": api_key,
        "account": {"user": user, "created_at": iso(base - timedelta(days=400))},
        "users": [{"id": user, "email": "bulk.tester@example.org", "username": "bulk-tester"}],
        "jobs": [
            {
                "id": job,
                "name": "Alignment Run",
                "analysis_type": "alignment",
                "created_at": iso(base - timedelta(days=300)),
                "public": True,
            }
        ],
        "samples": samples,
        "analyses": analyses,
    }
