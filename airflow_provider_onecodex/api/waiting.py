"""What a wait is for, and the one verdict on a set of analysis records.

A wait covers one analysis (``single``), a list of ids, or every analysis of a sample (optionally
against one reference ``tax_id``). :func:`judge` applies the completion rule of :mod:`.status` to
the records fetched in one poll and says pending, succeeded (with the XCom value) or failed (with
the message). :func:`classify_error` sorts the errors a poll can raise into "keep waiting" and
"fail now". Poke, reschedule and deferrable modes all go through these functions, so they cannot
disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from airflow_provider_onecodex.api.errors import (
    MalformedRecordError,
    OneCodexAPIError,
    OneCodexAuthError,
    OneCodexError,
    OneCodexNotFoundError,
)
from airflow_provider_onecodex.api.http import CONFIGURATION_CAUSES
from airflow_provider_onecodex.api.ids import record_id, validate_id, validate_ids
from airflow_provider_onecodex.api.records import strip_signed_urls
from airflow_provider_onecodex.api.resources import (
    id_arg_name,
    sample_where,
    uri_in_where,
    validate_flag,
    validate_resource,
)
from airflow_provider_onecodex.api.status import AnalysisState, completion_of

FAILURE_POLICIES = ("fail_fast", "report")
FailureKind = Literal[
    "analysis_failed", "not_found", "auth", "malformed", "api_error", "transient", "unreachable"
]


@dataclass(frozen=True)
class WaitSpec:
    """One wait, JSON-native so it can ride in trigger kwargs (see :meth:`to_dict`).

    :ivar resource: the analyses route polled (``alignments``, ``analyses``, ``classifications``...).
    :ivar ids: the ids waited on (empty in sample mode).
    :ivar single: one id given as a scalar: the XCom value is its record, not a list.
    :ivar sample_id: wait on every analysis of this sample (with ``resource``'s type).
    :ivar tax_id: with ``sample_id``, only alignments against this NCBI taxonomy id.
    :ivar where: with ``sample_id``, an extra filter (e.g. ``{"analysis_type": "classification"}``).
    :ivar min_count: with ``sample_id``, fewer records than this is pending, not success.
    :ivar failure_policy: ``fail_fast`` fails at the first failed analysis; ``report`` waits for all
        and returns the failures inside the records.
    """

    resource: str
    ids: tuple[str, ...] = ()
    single: bool = False
    sample_id: str | None = None
    tax_id: str | None = None
    where: dict[str, Any] | None = field(default=None, hash=False)
    min_count: int = 1
    failure_policy: str = "fail_fast"

    @classmethod
    def build(
        cls,
        resource: str,
        *,
        record_id: object = None,
        ids: object = None,
        sample_id: object = None,
        tax_id: object = None,
        where: object = None,
        min_count: object = 1,
        failure_policy: object = "fail_fast",
        id_name: str | None = None,
    ) -> WaitSpec:
        """Validate user arguments (after templating, before any request) into a spec.

        Exactly one of ``record_id``, ``ids`` and ``sample_id`` must be given.

        :param id_name: the parameter name the user gave ids with (``analysis_id`` for
            ``OneCodexAnalysisSensor`` whatever ``resource``); default the resource's own.
        :raises TypeError, ValueError: naming the bad argument and its value.
        """
        resource = validate_resource(resource, analyses_only=True)
        name = id_name or id_arg_name(resource)
        given = [
            n for n, v in ((name, record_id), (f"{name}s", ids), ("sample_id", sample_id)) if v is not None
        ]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {name}, {name}s or sample_id; got {given or 'none'}")
        if failure_policy not in FAILURE_POLICIES:
            raise ValueError(f"failure_policy must be one of {FAILURE_POLICIES}, got {failure_policy!r}")
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 0:
            raise ValueError(f"min_count must be an int >= 0, got {min_count!r}")
        if sample_id is None and (tax_id is not None or where is not None):
            raise ValueError("tax_id and where only apply with sample_id")
        if record_id is not None:
            one = validate_id(record_id, name, resource=resource)
            return cls(resource, (one,), True, failure_policy=str(failure_policy))
        if ids is not None:
            many = validate_ids(ids, f"{name}s", resource=resource)
            return cls(resource, tuple(many), False, failure_policy=str(failure_policy))
        clause = sample_where(sample_id, tax_id, where)
        assert clause is not None  # sample_id is set
        sample = validate_id(sample_id, "sample_id", resource="samples")
        # Only the tax_id argument is the spec's tax_id; a "tax_id" in where ({"$in": [...]}, any
        # operator of the reference) stays in where and goes to One Codex as given.
        tax = None if tax_id is None else clause.get("tax_id")
        extra = {k: v for k, v in clause.items() if k != "sample" and (k != "tax_id" or tax is None)} or None
        return cls(resource, (), False, sample, tax, extra, min_count, str(failure_policy))

    def to_dict(self) -> dict[str, Any]:
        """JSON-native form (lists, strings, ints)."""
        data = asdict(self)
        data["ids"] = list(self.ids)
        return data

    @classmethod
    def from_dict(cls, data: object) -> WaitSpec:
        """Rebuild a spec from :meth:`to_dict` output, validating every field again.

        The dict crossed a serialization boundary (trigger kwargs), so it is checked like user
        input: a corrupted or hand-written spec fails here, not with a request to a wrong route.

        :raises TypeError, ValueError: naming the bad field and its value.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"spec must be a dict made by WaitSpec.to_dict(), got {data!r}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"spec has unknown keys {unknown}: {dict(data)!r}")
        if "resource" not in data:
            raise ValueError(f"spec['resource'] is missing: {dict(data)!r}")
        resource = validate_resource(data["resource"], "spec['resource']", analyses_only=True)
        ids, single, sample_id = data.get("ids") or (), data.get("single", False), data.get("sample_id")
        validate_flag(single, "spec['single']")
        if isinstance(ids, tuple):
            ids = list(ids)
        policy = data.get("failure_policy", "fail_fast")
        if sample_id is not None:
            if ids or single:
                raise ValueError(f"spec gives both ids and a sample_id: {dict(data)!r}")
            return cls.build(
                resource,
                sample_id=sample_id,
                tax_id=data.get("tax_id"),
                where=data.get("where"),
                min_count=data.get("min_count", 1),
                failure_policy=policy,
            )
        extras = {k: data[k] for k in ("tax_id", "where") if data.get(k) is not None}
        if extras:
            raise ValueError(f"spec {sorted(extras)} only apply with a sample_id, got {extras!r}")
        if single:
            if not isinstance(ids, list) or len(ids) != 1:
                raise ValueError(f"spec['ids'] must hold exactly one id when 'single' is true, got {ids!r}")
            return cls.build(resource, record_id=ids[0], failure_policy=policy)
        return cls.build(resource, ids=ids, failure_policy=policy)

    @property
    def noun(self) -> str:
        """``alignment``, ``analysis``... for messages."""
        return id_arg_name(self.resource).removesuffix("_id")

    def listing_where(self) -> dict[str, Any]:
        """The ``where`` clause that fetches every record of this wait in one listing."""
        if self.sample_id is None:
            return uri_in_where(self.resource, list(self.ids))
        clause = sample_where(self.sample_id, self.tax_id, self.where)
        assert clause is not None
        return clause

    def describe(self) -> str:
        if self.sample_id is not None:
            against = f" against tax_id {self.tax_id}" if self.tax_id else ""
            return f"{self.resource} of sample {self.sample_id}{against}"
        if self.single:
            return f"{self.noun} {self.ids[0]}"
        return f"{len(self.ids)} {self.resource}"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one poll.

    :ivar state: ``pending``, ``succeeded`` or ``failed``.
    :ivar message: what to log (pending), or the error message (failed).
    :ivar value: the XCom value when succeeded: the record (single) or the list of records.
    """

    state: AnalysisState
    message: str
    value: Any = None


def missing_ids(spec: WaitSpec, records: list[dict[str, Any]]) -> list[str]:
    """Ids of an id-mode wait absent from a listing (fetch those one by one to learn why)."""
    seen = {record_id(r) for r in records}
    return [i for i in spec.ids if i not in seen]


def _failure_message(spec: WaitSpec, failed: list[tuple[str, str | None]], total: int) -> str:
    if spec.single:
        ident, error_msg = failed[0]
        return f"One Codex {spec.noun} {ident} failed: {error_msg or 'no error_msg given'}"
    listed = "; ".join(f"{i} ({m or 'no error_msg given'})" for i, m in failed)
    return f"{len(failed)} of {total} {spec.resource} failed: {listed}"


def judge(spec: WaitSpec, records: list[dict[str, Any]]) -> Verdict:
    """Apply the completion rule to the records of one poll.

    :param records: in id mode, one record per id (see :func:`missing_ids`); in sample mode, the
        sample's listing (records of other analyses are ignored in id mode).
    :raises MalformedRecordError: a record whose ``complete``/``success`` cannot be trusted.
    """
    if spec.sample_id is None:
        by_id: dict[str | None, dict[str, Any]] = {}
        for r in records:
            rid = record_id(r)
            if rid is None:
                # Without its $uri a record cannot be matched to an id; treating it as "not there
                # yet" would wait forever on a malformed answer.
                if not spec.single:
                    raise MalformedRecordError(
                        f"a record of {spec.describe()} has no '$uri' field: cannot tell which id it is"
                    )
                rid = spec.ids[0]  # the answer to GET <resource>/<that id>
            by_id[rid] = r
        missing = [i for i in spec.ids if i not in by_id]
        if missing:
            return Verdict(AnalysisState.PENDING, f"no record yet for {', '.join(missing)}")
        records = [by_id[i] for i in spec.ids]
    completions = [completion_of(r, spec.ids[n] if spec.ids else None) for n, r in enumerate(records)]
    failed = [(c.analysis_id, c.error_msg) for c in completions if c.state is AnalysisState.FAILED]
    pending = [c.analysis_id for c in completions if c.state is AnalysisState.PENDING]
    if failed and spec.failure_policy == "fail_fast":
        return Verdict(AnalysisState.FAILED, _failure_message(spec, failed, len(records)))
    if spec.sample_id is not None and len(records) < spec.min_count:
        return Verdict(
            AnalysisState.PENDING,
            f"sample {spec.sample_id} has {len(records)} {spec.resource}, waiting for at least {spec.min_count}",
        )
    if spec.single:
        if pending:
            return Verdict(AnalysisState.PENDING, f"{spec.noun} {spec.ids[0]} is not complete yet")
        if failed:  # failure_policy="report": the wait is done, the analysis is not a success
            done = f"{spec.noun} {spec.ids[0]} completed: failed ({failed[0][1] or 'no error_msg given'})"
            return Verdict(AnalysisState.SUCCEEDED, done, records[0])
        return Verdict(AnalysisState.SUCCEEDED, f"{spec.noun} {spec.ids[0]} succeeded", records[0])
    if pending:
        shown = ", ".join(pending[:10]) + (" ..." if len(pending) > 10 else "")
        return Verdict(
            AnalysisState.PENDING,
            f"{len(records) - len(pending)} of {len(records)} complete; waiting for {shown}",
        )
    done = f"{len(records)} {spec.resource} complete"
    if failed:
        done += ", " + _failure_message(spec, failed, len(records))
    return Verdict(AnalysisState.SUCCEEDED, done, records)


def classify_error(exc: BaseException) -> tuple[FailureKind, str]:
    """Sort a poll's error: ``transient`` means keep waiting; every other kind fails the wait now.

    :returns: ``(kind, message)``; the message never contains the key or a response body.
    """
    if isinstance(exc, MalformedRecordError):
        return "malformed", f"malformed One Codex record: {exc}"
    if isinstance(exc, OneCodexAuthError):
        return "auth", str(exc)  # its text starts with what to fix on which connection
    if isinstance(exc, OneCodexNotFoundError):
        if exc.hint:  # a route every One Codex API has: the host is wrong, not the record
            return "not_found", str(exc)
        return "not_found", f"{exc} (no such record, or not visible with this API key)"
    if isinstance(exc, OneCodexAPIError):
        return ("transient" if exc.transient else "api_error"), str(exc)
    if isinstance(exc, OneCodexError):
        return "api_error", str(exc)
    raise exc


# Outcome statuses: "success" and "failed" end a wait; "pending" and "transient" keep it going.
OUTCOME_STATUSES = ("success", "failed", "pending", "transient", "timeout")


def outcome_of(
    spec: WaitSpec, records: list[dict[str, Any]], error: BaseException | None = None
) -> dict[str, Any]:
    """The JSON-native outcome of one poll: the trigger's event and the sensor's poke decision.

    Shapes: ``{"status": "success", "value": <record or list>, "message": str}``,
    ``{"status": "failed", "kind": <FailureKind>, "message": str}``,
    ``{"status": "pending", "message": str}``, ``{"status": "transient", "message": str}``.

    :param error: what fetching the records raised, if anything.
    """
    try:
        if error is not None:
            raise error
        verdict = judge(spec, records)
    except OneCodexError as exc:
        return error_outcome(exc)
    if verdict.state is AnalysisState.SUCCEEDED:
        value = strip_signed_urls(verdict.value)  # events and XCom never carry signed links
        return {"status": "success", "value": value, "message": verdict.message}
    if verdict.state is AnalysisState.FAILED:
        return {"status": "failed", "kind": "analysis_failed", "message": verdict.message}
    return {"status": "pending", "message": verdict.message}


def error_outcome(exc: OneCodexError) -> dict[str, Any]:
    """The outcome of a poll that raised: ``failed``, ``transient``, or ``pending`` when throttled.

    A 429/503 whose ``Retry-After`` is longer than the client's retry policy waits (``throttled``)
    is the server saying "later", not a fault: it is ``pending`` and does not count toward ``max_consecutive_failures``; the wait's
    ``timeout`` still bounds it.
    """
    kind, message = classify_error(exc)
    # Errors that say the connection is wrong rather than One Codex down: see advance().
    config = kind == "auth" or getattr(exc, "cause", None) in CONFIGURATION_CAUSES
    if kind != "transient":
        return {"status": "failed", "kind": kind, "message": message, **({"config": True} if config else {})}
    retry_after = getattr(exc, "retry_after", None)
    paced = {"retry_after": float(retry_after)} if retry_after is not None else {}
    if getattr(exc, "throttled", False) and retry_after is not None:
        return {
            "status": "pending",
            "message": f"throttled by One Codex (Retry-After {retry_after:g} s): {message}",
            **paced,
        }
    return {"status": "transient", "message": message, **paced, **({"config": True} if config else {})}


def timeout_outcome(spec: WaitSpec, timeout: float) -> dict[str, Any]:
    """The outcome when the wait's deadline passes."""
    return {"status": "timeout", "message": f"Timed out after {timeout:g} s waiting for {spec.describe()}"}
