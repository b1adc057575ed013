"""Job runs, a job by name, cancel/rerun/logs of analyses (``api/jobs.py``, ``api/job_actions.py``).
Sync only: a run's wait reuses the analysis trigger."""

from __future__ import annotations

from typing import Any

from airflow_provider_onecodex.api import job_actions as actions
from airflow_provider_onecodex.api import jobs
from airflow_provider_onecodex.api import records as r
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook, Route


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

    cancel_analysis = Route[dict[str, Any]](actions.cancel_analysis)
    rerun_analysis = Route[dict[str, Any]](actions.rerun_analysis)
    get_analysis_logs = Route[str](actions.get_analysis_logs)
    get_job_by_name = Route[r.Job](actions.get_job_by_name)
