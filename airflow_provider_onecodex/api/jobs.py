"""Running One Codex jobs: argument checks, the run request, and the unknown-outcome decision.

``POST /api/v1/jobs/{id}/run`` starts an analysis of the job's type on one sample and answers
``{"$ref": "/api/v1/analyses/<id>"}`` (the generic ``/analyses`` route, whatever the type). A run
costs money and One Codex documents no deduplication, so the request is never resent blindly:

- 4xx answers are permanent: raised at once, never resent (400/422: bad arguments; 402/403:
  payment or permission; 404: no such job or sample);
- 429 created nothing: resent as is after its ``Retry-After`` (at most :data:`RATE_LIMIT_RESENDS`
  times, never for longer than the connection's ``max_retry_after``);
- connection dropped after sending, read timeout, 5xx, a 2xx that is not JSON: the outcome is
  unknown. :func:`run_job` lists ``/api/v1/analyses`` of that job on that sample created since
  just before the attempt (minus :data:`CLOCK_SKEW_MARGIN`) and not listed before the first
  attempt: one match is the run (adopted), none allows **one** resend, several raise
  :class:`DuplicateRunError` naming them.

Everything here is sans-I/O (:mod:`.ops`): the hooks only drive these operations.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any

from airflow_provider_onecodex.api.errors import (
    OneCodexAPIError,
    OneCodexConnectionError,
    OneCodexError,
    OneCodexRateLimitError,
    OneCodexResponseError,
    OneCodexServerError,
)
from airflow_provider_onecodex.api.ids import API_PREFIX, id_from_uri, record_id, ref, validate_id
from airflow_provider_onecodex.api.ops import ApiCall, Listing, Op, Sleep
from airflow_provider_onecodex.api.resources import check_known_arguments, validate_flag
from airflow_provider_onecodex.api.status import AnalysisState, completion_of
from airflow_provider_onecodex.api.watching import format_timestamp

log = logging.getLogger(__name__)

DESCRIPTION_MAX = 250  # characters (the official CLI's limit)
#: Seconds subtracted from "just before the attempt" when asking One Codex for analyses created
#: since then: ``created_at`` is the server's clock, the attempt time the worker's. NTP-synced
#: hosts differ by milliseconds; 5 minutes also covers a badly drifting VM (it is Kerberos's
#: default tolerance). A wide window cannot adopt someone else's run: analyses listed before the
#: first attempt are excluded, and two new matches are an error, never a guess.
CLOCK_SKEW_MARGIN = 300.0
RATE_LIMIT_RESENDS = 3
LOOKUP_MAX_RECORDS = 1000  # analyses of one job on one sample: never page through more


class DuplicateRunError(OneCodexError):
    """More than one analysis may be the run that was asked for: nothing is adopted or resent.

    :ivar analysis_ids: the candidate ids, newest first.
    """

    def __init__(self, message: str, analysis_ids: list[str]) -> None:
        super().__init__(message)
        self.analysis_ids = analysis_ids

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.analysis_ids))


class JobNotFoundError(OneCodexError, LookupError):
    """No job, or more than one, has the name asked for."""


# -- validation (before any request) -------------------------------------------------------------


def validate_job_choice(job_id: object, job_name: object) -> tuple[str | None, str | None]:
    """Exactly one of ``job_id`` (16 hex or ``/api/v1/jobs/<id>``) and ``job_name`` (non-empty text).

    :returns: ``(job_id, None)`` or ``(None, job_name)``.
    :raises ValueError: neither or both given, a bad id or an empty name. :raises TypeError: a name
        that is not a string.
    """
    if (job_id is None) == (job_name is None):
        raise ValueError(
            f"give exactly one of job_id and job_name, got job_id={job_id!r} and job_name={job_name!r}"
        )
    if job_id is not None:
        return validate_id(job_id, "job_id", resource="jobs"), None
    return None, validate_job_name(job_name)


def validate_job_name(value: object) -> str:
    """A job's name as the user gave it. :raises TypeError: not a string. :raises ValueError: blank."""
    if not isinstance(value, str):
        raise TypeError(f"job_name must be a string, got {value!r}")
    if not value.strip():
        raise ValueError(f"job_name must not be empty, got {value!r}")
    return value


def validate_job_args(job_args: object, name: str = "job_args") -> dict[str, Any]:
    """The job's arguments as a JSON object: a dict, its JSON text, or ``None`` (= ``{}``).

    One Codex's older schema refuses ``null``, so ``None`` becomes ``{}``.

    :raises TypeError: not a dict (nor the JSON text of one), or values that are not JSON.
    :raises ValueError: text that is not JSON, keys that are not strings, non-finite numbers.
    """
    if job_args is None:
        return {}
    if isinstance(job_args, str):
        try:
            job_args = json.loads(job_args) if job_args.strip() else {}
        except ValueError:
            raise ValueError(f"{name} must be a JSON object, got text that is not JSON: {job_args!r}") from None
    if not isinstance(job_args, Mapping):
        raise TypeError(f"{name} must be a JSON object (dict), got {job_args!r}")
    if not all(isinstance(k, str) for k in job_args):
        raise ValueError(f"{name} keys must be strings, got {sorted(map(repr, job_args))}")
    try:
        text = json.dumps(dict(job_args), allow_nan=False)
    except ValueError:
        raise ValueError(f"{name} must not hold NaN or infinite numbers, got {job_args!r}") from None
    except TypeError as exc:
        raise TypeError(f"{name} must hold only JSON values: {exc}") from None
    return dict(json.loads(text))


def validate_dependencies(dependencies: object) -> list[dict[str, Any]] | None:
    """Parent runs replacing the job's default ones, as the run body wants them.

    Each item is an analysis id (or ``$uri``/``{"$ref"}``), or ``{"analysis": <that>,
    "download_path": <relative directory or None>}``.

    :returns: ``[{"analysis": {"$ref": "/api/v1/analyses/<id>"}, "download_path": ...}]`` or None.
    :raises TypeError, ValueError: naming the bad item.
    """
    if dependencies is None:
        return None
    if isinstance(dependencies, str) or not isinstance(dependencies, (list, tuple)):
        raise TypeError(f"dependencies must be a list, got {dependencies!r}")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(dependencies):
        where = f"dependencies[{i}]"
        path: object = None
        if isinstance(item, Mapping) and "analysis" in item:
            unknown = sorted(set(item) - {"analysis", "download_path"})
            if unknown:
                raise ValueError(f"{where} has unknown keys {unknown}; allowed: analysis, download_path")
            analysis, path = item["analysis"], item.get("download_path")
        else:
            analysis = item
        ident = validate_id(analysis, f"{where}.analysis", resource="analyses")
        if path is not None and (not isinstance(path, str) or not path or path.startswith("/")):
            raise ValueError(f"{where}.download_path must be a relative directory or None, got {path!r}")
        out.append({"analysis": ref("analyses", ident), "download_path": path})
    return out


def validate_description(description: object) -> str | None:
    """The run's description, stripped; ``None`` or blank = none. At most 250 characters.

    :raises TypeError: not a string. :raises ValueError: longer than 250 characters.
    """
    if description is None:
        return None
    if not isinstance(description, str):
        raise TypeError(f"description must be a string, got {description!r}")
    text = description.strip()
    if len(text) > DESCRIPTION_MAX:
        raise ValueError(f"description must be at most {DESCRIPTION_MAX} characters, got {len(text)}")
    return text or None


# -- the run request -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRun:
    """One validated run request. Build it with :meth:`build`."""

    job_id: str
    sample_id: str
    job_args: dict[str, Any]
    dependencies: list[dict[str, Any]] | None = None
    description: str | None = None
    populate_default_arguments: bool = True

    @classmethod
    def build(
        cls,
        job_id: object,
        sample_id: object,
        *,
        job_args: object = None,
        dependencies: object = None,
        description: object = None,
        populate_default_arguments: object = True,
        **unknown: object,
    ) -> JobRun:
        """Validate every argument; raises ``TypeError``/``ValueError`` naming the bad one (an
        unknown argument too, with the ones a run takes)."""
        check_known_arguments("job run", unknown, [f.name for f in fields(cls)][2:])  # after the two ids
        populate = validate_flag(populate_default_arguments, "populate_default_arguments")
        return cls(
            job_id=validate_id(job_id, "job_id", resource="jobs"),
            sample_id=validate_id(sample_id, "sample_id", resource="samples"),
            job_args=validate_job_args(job_args),
            dependencies=validate_dependencies(dependencies),
            description=validate_description(description),
            populate_default_arguments=populate,
        )

    def body(self) -> dict[str, Any]:
        """The JSON body: ``sample`` as a ``$ref``, ``job_args`` an object (never null)."""
        body: dict[str, Any] = {
            "sample": ref("samples", self.sample_id),
            "job_args": self.job_args,
            "populate_default_arguments": self.populate_default_arguments,
        }
        if self.dependencies is not None:
            body["dependencies"] = self.dependencies
        if self.description is not None:  # not in One Codex's schemas: sent only when asked for
            body["description"] = self.description
        return body

    def request(self) -> ApiCall:
        """``POST /api/v1/jobs/{id}/run``, never retried by the client's retry policy."""
        return ApiCall("POST", f"{API_PREFIX}/jobs/{self.job_id}/run", json_body=self.body(), retry=False)


def analysis_id_of_run(data: object, path: str) -> str:
    """The new analysis id from the run answer ``{"$ref": "/api/v1/analyses/<id>"}``.

    :raises OneCodexResponseError: a 200 without a usable ``$ref`` (the run may or may not exist).
    """
    target = data.get("$ref") if isinstance(data, dict) else None
    ident = id_from_uri(target) if isinstance(target, str) and target.startswith(f"{API_PREFIX}/") else None
    if ident is None:
        raise OneCodexResponseError(
            200, "POST", path, f"the run answer has no analysis $ref (got {str(data)[:200]!r})"
        )
    return ident


def outcome_unknown(exc: BaseException) -> bool:
    """Whether a failed run POST may still have created the analysis (connection dropped after
    sending, read timeout, 5xx, a 2xx that is not JSON)."""
    return isinstance(exc, (OneCodexConnectionError, OneCodexServerError, OneCodexResponseError))


# -- finding runs --------------------------------------------------------------------------------


def iso_utc(epoch: float) -> str:
    """``2026-12-01T18:00:00.000000+00:00`` (RFC 3339, what ``created_at`` filters take)."""
    return format_timestamp(datetime.fromtimestamp(epoch, timezone.utc))


def runs_where(job_id: str, sample_id: str, since: float | None = None) -> dict[str, Any]:
    """``where`` for the analyses of ``job_id`` on ``sample_id`` [created at or after ``since``]."""
    where: dict[str, Any] = {"job": ref("jobs", job_id), "sample": ref("samples", sample_id)}
    if since is not None:
        where["created_at"] = {"$gte": iso_utc(since)}
    return where


def same_job_args(record: Mapping[str, Any], job_args: Mapping[str, Any], *, if_absent: bool) -> bool:
    """Whether ``record`` ran with ``job_args``: each given argument has the same value there.

    The server may add default arguments (``populate_default_arguments``), so extra keys in the
    record are allowed. ``if_absent`` is the answer for a record without ``job_args``.
    """
    stored = record.get("job_args")
    if not isinstance(stored, Mapping):
        return if_absent
    return all(k in stored and stored[k] == v for k, v in job_args.items())


def list_runs(run: JobRun, since: float | None = None) -> Op[list[dict[str, Any]]]:
    """Analyses of ``run``'s job on its sample with its ``job_args`` (absent ``job_args`` count as
    the same: the safe side when looking for a run we may have paid for), newest first."""
    records = yield Listing(
        "analyses",
        where=runs_where(run.job_id, run.sample_id, since),
        sort={"created_at": True},
        max_records=LOOKUP_MAX_RECORDS,
    )
    return [r for r in records if same_job_args(r, run.job_args, if_absent=True)]


def find_started_run(run: JobRun, since: float | None) -> Op[dict[str, Any] | None]:
    """A not-failed run of ``run`` created since ``since`` (minus the clock-skew margin): the one
    an earlier try of a task started. Failed runs are ignored (a retry resubmits after them).

    :raises DuplicateRunError: more than one.
    """
    bound = None if since is None else since - CLOCK_SKEW_MARGIN
    records = yield from list_runs(run, bound)
    alive = [r for r in records if completion_of(r).state is not AnalysisState.FAILED]
    if len(alive) > 1:
        ids = [record_id(r) or "?" for r in alive]
        window = f"since {iso_utc(bound)}" if bound is not None else "so far"
        raise DuplicateRunError(
            f"{len(alive)} analyses of job {run.job_id} on sample {run.sample_id} with these job_args "
            f"were started {window} and have not failed: {', '.join(ids)}; refusing to guess which is "
            "this task's. Cancel the extra ones in One Codex, then clear the task.",
            ids,
        )
    return alive[0] if alive else None


def find_reusable_run(run: JobRun) -> Op[dict[str, Any] | None]:
    """The newest successful analysis of ``run``'s job on its sample with exactly its ``job_args``
    (a record without ``job_args`` is not reused), or ``None``."""
    records = yield from list_runs(run)
    done = [
        r
        for r in records
        if same_job_args(r, run.job_args, if_absent=False)
        and completion_of(r).state is AnalysisState.SUCCEEDED
    ]
    return done[0] if done else None


# -- the run operation ---------------------------------------------------------------------------


def run_job(
    run: JobRun,
    *,
    max_retry_after: float = 60.0,
    clock: Callable[[], float] = time.time,
) -> Op[str]:
    """Start ``run`` and return the new analysis id; safe against unknown outcomes (module doc).

    :param max_retry_after: longest 429 ``Retry-After`` waited before resending, seconds.
    :param clock: epoch seconds (injectable for tests).
    :raises DuplicateRunError: an unknown outcome left more than one candidate analysis.
    :raises OneCodexAPIError: 4xx (never resent), or the unknown-outcome error when one resend
        found nothing either, with a note saying so.
    """
    first = clock()
    before = yield from list_runs(run, first - CLOCK_SKEW_MARGIN)
    known = {record_id(r) for r in before}
    resent = False
    throttled = 0
    while True:
        started = clock()
        request = run.request()
        try:
            data = yield request
        except OneCodexRateLimitError as exc:  # refused before anything was created
            wait = exc.retry_after
            if wait is None or wait > max_retry_after or throttled >= RATE_LIMIT_RESENDS:
                raise
            throttled += 1
            yield Sleep(wait)
            continue
        except OneCodexAPIError as exc:
            if not outcome_unknown(exc):
                raise  # 4xx: permanent, nothing was created
            records = yield from list_runs(run, started - CLOCK_SKEW_MARGIN)
            new = [r for r in records if record_id(r) not in known]
            if len(new) == 1:
                adopted = record_id(new[0]) or ""
                log.warning(
                    "The answer to POST %s was lost (%s); adopted analysis %s, the one new run of job "
                    "%s on sample %s found by listing /analyses", request.path, exc.message, adopted,
                    run.job_id, run.sample_id,
                )
                return adopted
            if len(new) > 1:
                ids = [record_id(r) or "?" for r in new]
                raise DuplicateRunError(
                    f"POST {request.path} failed ({exc.message}) and {len(new)} new analyses of job "
                    f"{run.job_id} on sample {run.sample_id} exist: {', '.join(ids)}; none adopted",
                    ids,
                ) from exc
            if resent:
                exc.add_note_to_message("sent twice; no analysis was created by either attempt")
                raise
            resent = True
            log.warning(
                "The answer to POST %s was lost (%s) and no new analysis of job %s on sample %s was "
                "found: sending it once more", request.path, exc.message, run.job_id, run.sample_id,
            )
            continue
        return analysis_id_of_run(data, request.path)
