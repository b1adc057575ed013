"""Actions on analyses (cancel, rerun, logs) and finding a job by name, as operations (:mod:`.ops`).

Routes (same shape on every analysis route: ``analyses``, ``alignments``, ``classifications``,
``panels``, ``functional_profiles``, ``mlsts``, ``workflows``):

- ``POST /api/v1/<route>/{id}/cancel`` -> the analysis record; asynchronous (``complete`` may
  still be false). Only the user who started the run or an admin of their organization may
  cancel, and only custom workflow runs still in progress (403 otherwise; 404: no such analysis).
- ``POST /api/v1/<route>/{id}/rerun`` -> the analysis record. Whether it makes a new analysis is
  undocumented: treated as creating work, never resent.
- ``GET /api/v1/<route>/{id}/logs?tail=N`` -> plain text (empty while there is none); 404 when
  the analysis has no logs (custom workflow runs have them).
- ``GET /api/v1/jobs?where={"name": ...}`` lists the caller's and public jobs.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_onecodex.api.errors import OneCodexAPIError, OneCodexAuthError, OneCodexNotFoundError
from airflow_provider_onecodex.api.ids import API_PREFIX, record_id, validate_id
from airflow_provider_onecodex.api.jobs import JobNotFoundError, outcome_unknown, validate_job_name
from airflow_provider_onecodex.api.ops import ApiCall, Listing, Op
from airflow_provider_onecodex.api.paging import validate_limit
from airflow_provider_onecodex.api.resources import id_arg_name, validate_flag, validate_resource

LOG_TAIL_DEFAULT = 50  # lines put in a failed task's log and error
_SIGNED_QUERY = re.compile(r"(https?://[^\s?#\"']+)\?[^\s\"']*")


def _analysis_path(resource: object, analysis_id: object) -> str:
    route = validate_resource(resource, analyses_only=True)
    ident = validate_id(analysis_id, id_arg_name(route), resource=route)
    return f"{API_PREFIX}/{route}/{ident}"


def cancel_analysis(resource: str, analysis_id: str) -> Op[dict[str, Any]]:
    """``POST /api/v1/<resource>/{id}/cancel``: the analysis record (cancelling is asynchronous).

    Resent after transient failures: a second cancel has the same intent and creates nothing.

    :raises OneCodexAuthError: 403, with what One Codex allows (its answer has no text).
    :raises OneCodexNotFoundError: 404, no such analysis on that route.
    """
    path = _analysis_path(resource, analysis_id) + "/cancel"
    try:
        record = yield ApiCall("POST", path, json_body=None, retry=True)
    except OneCodexAuthError as exc:
        if exc.status == 403:
            exc.add_note_to_message(
                "cancelling is refused: only the user who started the run or an admin of their "
                "organization may cancel, and only custom workflow runs still in progress"
            )
        raise
    except OneCodexNotFoundError as exc:
        exc.add_note_to_message(f"no analysis {analysis_id} on /api/v1/{resource} visible with this key")
        raise
    return dict(record)


def rerun_analysis(resource: str, analysis_id: str) -> Op[dict[str, Any]]:
    """``POST /api/v1/<resource>/{id}/rerun``: the analysis record it answers.

    Never resent: it may start paid work. When the outcome is unknown the error says so.
    """
    path = _analysis_path(resource, analysis_id) + "/rerun"
    try:
        record = yield ApiCall("POST", path, json_body=None, retry=False)
    except OneCodexAPIError as exc:
        if outcome_unknown(exc):
            exc.add_note_to_message(
                f"the rerun may have started: check analysis {analysis_id} in One Codex before trying again"
            )
        raise
    return dict(record)


def get_analysis_logs(resource: str, analysis_id: str, tail: int | None = None) -> Op[str]:
    """``GET /api/v1/<resource>/{id}/logs[?tail=N]``: the log text (last ``tail`` lines).

    :param tail: ``None`` (the whole log) or a number of lines >= 1.
    :raises TypeError, ValueError: a bad ``tail`` (before any request).
    :raises OneCodexNotFoundError: 404 (no such analysis, or no logs: built-in analyses have none).
    """
    path = _analysis_path(resource, analysis_id) + "/logs"
    lines = validate_limit(tail, "tail", "lines")
    params = None if lines is None else {"tail": str(lines)}
    try:
        text = yield ApiCall("GET", path, params=params, expect=str)
    except OneCodexNotFoundError as exc:
        exc.add_note_to_message(f"no logs for analysis {analysis_id} (custom workflow runs have them)")
        raise
    return str(text)


def redact_log_text(text: str, limit: int = 4000) -> str:
    """Log lines safe to show: query strings of URLs (pre-signed signatures) cut, at most
    ``limit`` characters (the end is kept)."""
    cleaned = _SIGNED_QUERY.sub(r"\1?<redacted>", text)
    return cleaned if len(cleaned) <= limit else "..." + cleaned[-limit:]


def get_job_by_name(name: str, *, include_public: bool = False) -> Op[dict[str, Any]]:
    """The one job named exactly ``name`` (``GET /api/v1/jobs?where={"name": ...}``).

    :param include_public: also public jobs (One Codex's built-in ones, e.g. "Alignment Run");
        default only the account's own (``"public": false``).
    :raises TypeError, ValueError: ``name`` not a non-empty string, ``include_public`` not
        ``True``/``False`` (before any request).
    :raises JobNotFoundError: no such job, or several (their ids are listed: pass ``job_id``).
    """
    where: dict[str, Any] = {"name": validate_job_name(name)}
    if not validate_flag(include_public, "include_public"):
        where["public"] = False
    records = yield Listing("jobs", where=where, max_records=100)
    matches = [r for r in records if r.get("name") == name]
    scope = "own or public" if include_public else "own (include_public=False)"
    if not matches:
        raise JobNotFoundError(f"no {scope} One Codex job is named {name!r}: check the name, or pass job_id")
    if len(matches) > 1:
        ids = ", ".join(record_id(r) or "?" for r in matches)
        raise JobNotFoundError(f"{len(matches)} One Codex jobs are named {name!r} ({ids}): pass job_id instead")
    return dict(matches[0])
