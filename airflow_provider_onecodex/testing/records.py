"""The records a simulated One Codex account holds, as a scenario gives them.

Records name each other by bare id. Timestamps (:data:`Timestamp`) are RFC 3339 text or seconds
relative to the simulator's start. How each record is shown over HTTP is in
:mod:`~airflow_provider_onecodex.testing.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_onecodex.testing.ids import derived_id

Clock = Callable[[], float]
"""Monotonic seconds, like :func:`time.monotonic`; inject one to move simulated time in tests."""

Timestamp = str | float | None
"""RFC 3339 text, or seconds relative to the simulator's start (negative = before), or None."""

DEFAULT_FAILURE_MSG = "We were unable to process this file."
SAMPLE_PENDING_STATUSES = ("awaiting_data", "importing", "validating")


@dataclass
class Record:
    """A record of a collection (every one but :class:`Account`): ``id`` is its 16-hex id, the
    last segment of its ``$uri``; the fields that follow are the collection's own."""

    id: str


@dataclass
class Account:
    user: str
    email: str | None = None
    username: str | None = None
    created_at: Timestamp = None
    confirmed_at: Timestamp = None
    credits: str = "$0.00"
    coupons: list[Any] = field(default_factory=list)
    #: ``/api/v1/events`` also lists the account's state changes (see :mod:`.events`)
    webhooks: bool = False


@dataclass
class User(Record):
    email: str | None
    username: str | None = None


@dataclass
class Tag(Record):
    name: str


@dataclass
class Job(Record):
    name: str
    analysis_type: str
    created_at: Timestamp = None
    public: bool = False
    #: unpublished custom job (the 1.2.0 client requires the field)
    draft: bool = False
    job_args_schema: dict[str, Any] = field(default_factory=dict)
    #: what ``POST /jobs/{id}/run`` does (not rendered; see :mod:`airflow_provider_onecodex.testing.jobs`)
    run: dict[str, Any] | None = None

    @classmethod
    def default_for(cls, analysis_type: str, created_at: Timestamp = None) -> Job:
        """The job of an analysis given without one when none of its type exists: ``"<Type> Job"``,
        its id derived from ``analysis_type`` (the same in every run)."""
        return cls(
            derived_id("job", analysis_type), f"{analysis_type.title()} Job", analysis_type, created_at
        )


@dataclass
class Project(Record):
    name: str | None = None
    project_name: str | None = None
    description: str | None = None
    external_id: str | None = None
    owner: str | None = None
    permissions: list[str] = field(default_factory=lambda: ["can_see", "can_edit"])
    public: bool = False


@dataclass
class Sample(Record):
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
    #: None: the field is left out, as in the recorded bodies (the client refuses ``null``)
    updated_at: Timestamp = None
    error_msg: str | None = None
    #: seconds after the simulator start until ``status`` applies; before, the sample shows
    #: ``pending_status`` and no ``primary_classification`` (None: ``status`` from the start)
    ready_after: float | None = None
    pending_status: str = "validating"
    #: seconds after the simulator start until the sample is visible at all (see :mod:`.events`)
    appear_after: float | None = None
    #: ``(seconds after the simulator start, status)``: shown instead of ``pending_status`` from
    #: that time on, until ``ready_after`` (an upload's ``importing`` then ``validating``)
    pending_steps: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class Metadata(Record):
    sample: str
    name: str | None = None
    description: str | None = None
    external_sample_id: str | None = None
    custom: dict[str, Any] | None = field(default_factory=dict)
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
class Analysis(Record):
    """One analysis. ``complete_after``: seconds after the simulator start until it completes
    with outcome ``success``/``error_msg`` (0, the default: complete from the start; None: never).

    ``error_msg`` of a success is shown as given: ``""`` (the default) or null, both recorded."""

    analysis_type: str
    sample: str
    job: str | None = None
    tax_id: str | None = None
    complete_after: float | None = 0.0
    success: bool = True
    error_msg: str | None = ""
    created_at: Timestamp = None
    job_args: dict[str, Any] | None = field(default_factory=dict)
    #: a fixed ``results_uri`` for classifications; None: a pre-signed link served by the simulator
    results_uri: str | None = None
    #: classifications: whether ``results_uri`` is set at all once they succeed
    has_results_uri: bool = True
    #: how to generate ``/results`` (see :mod:`airflow_provider_onecodex.testing.results`)
    results: dict[str, Any] | None = None
    #: seconds after the simulator start until the analysis is visible at all
    appear_after: float | None = None


@dataclass
class Document(Record):
    filename: str
    size: int | None = None
    created_at: Timestamp = None
    uploader: str | None = None
    downloaders: list[str] = field(default_factory=list)
    description: str | None = None
    downloads_remaining: int | None = None
    valid_until: str | None = None


@dataclass
class Asset(Record):
    filename: str
    name: str | None = None
    size: int | None = None
    status: str = "available"
    created_at: Timestamp = None
    uploader: str | None = None


@dataclass
class Webhook(Record):
    post_url: str
    event_type: str = "*"
    enabled: bool = True
    api_version: str = "v1"
    created_at: Timestamp = None


@dataclass
class Event(Record):
    payload: dict[str, Any]
    status: str = "success"
