"""Job runs, a job by name, cancel/rerun/logs of analyses (``api/jobs.py``, ``api/job_actions.py``).
Sync only: a run's wait reuses the analysis trigger."""

from __future__ import annotations

from typing import Any, cast

from airflow_provider_onecodex.api import job_actions as actions
from airflow_provider_onecodex.api import jobs
from airflow_provider_onecodex.api import records as r
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook


class OneCodexJobsHook(OneCodexBaseHook):
    """``POST /api/v1/jobs/{id}/run`` and the analysis actions (job records: the analyses hook)."""

    def run_job(self, job_id: str, sample_id: str, **run: Any) -> str:
        """Start ``job_id`` on ``sample_id``; the new analysis id. ``run``: ``job_args`` (dict or JSON
        text, default ``{}``), ``dependencies``, ``description`` (<= 250 chars),
        ``populate_default_arguments`` (default True). Never resent blindly (see ``api.jobs``).

        :raises TypeError, ValueError: bad arguments, before any request. :raises OneCodexAPIError:
            4xx (never resent), or an unknown outcome that one resend did not resolve.
        :raises DuplicateRunError: an unknown outcome left several candidate analyses.
        """
        request = jobs.JobRun.build(job_id, sample_id, **run)
        return self.run(jobs.run_job(request, max_retry_after=self.config.retry.max_retry_after))

    def cancel_analysis(self, resource: str, analysis_id: str) -> dict[str, Any]:
        """``POST /api/v1/<resource>/{id}/cancel`` (asynchronous). 403/404 say who may cancel what."""
        return self.run(actions.cancel_analysis(resource, analysis_id))

    def rerun_analysis(self, resource: str, analysis_id: str) -> dict[str, Any]:
        """``POST /api/v1/<resource>/{id}/rerun``: the record. Never resent (it may start paid work)."""
        return self.run(actions.rerun_analysis(resource, analysis_id))

    def get_analysis_logs(self, resource: str, analysis_id: str, tail: int | None = None) -> str:
        """``GET /api/v1/<resource>/{id}/logs[?tail=N]``: text. 404: no such analysis, or no logs."""
        return self.run(actions.get_analysis_logs(resource, analysis_id, tail))

    def get_job_by_name(self, name: str, *, include_public: bool = False) -> r.Job:
        """The one job named exactly ``name``; ``include_public``: built-in jobs too ("Alignment Run").

        :raises JobNotFoundError: none, or several (their ids listed)."""
        return cast(r.Job, self.run(actions.get_job_by_name(name, include_public=include_public)))
