"""Analyses, their results and actions, and the jobs that make them (:mod:`~.api.analyses`,
:mod:`~.api.jobs`, :mod:`~.api.job_actions`). Job runs are sync only: a run's wait reuses the analysis
trigger. ``/results`` of a failed or incomplete analysis raises ``OneCodexNotFoundError``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from airflow_provider_onecodex.api import analyses, jobs
from airflow_provider_onecodex.api import job_actions as actions
from airflow_provider_onecodex.api import records as r
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook, Route


class OneCodexAnalysesHook(OneCodexBaseHook):
    """``/api/v1/analyses``, its typed routes and their sub-routes; ``/api/v1/jobs`` and job runs."""

    get_analysis = Route[r.Analysis]("analyses/{id}", "any type")
    get_alignment = Route[r.Alignment]("alignments/{id}")
    get_classification = Route[r.Classification]("classifications/{id}")
    get_panel = Route[r.Panel]("panels/{id}")
    get_job = Route[r.Job]("jobs/{id}")
    list_jobs = Route[list[r.Job]]("jobs", "drafts are not listed")
    list_analyses = Route[list[r.Analysis]]("analyses", by_sample=True)
    list_alignments = Route[list[r.Alignment]]("alignments", by_sample=True)
    list_classifications = Route[list[r.Classification]]("classifications", by_sample=True)
    list_panels = Route[list[r.Panel]]("panels", by_sample=True)
    get_results = Route[dict[str, Any]]("<resource>/{id}/results", "the JSON results (shape per type)")
    get_analysis_results = Route[dict[str, Any]]("analyses/{id}/results", "a workflow's ``results.json``")
    get_alignment_results = Route[r.AlignmentResults]("alignments/{id}/results", "coverage and bins (big)")
    get_panel_results = Route[r.PanelResults]("panels/{id}/results", "``{panel_name, panel_results}``")
    get_file_details = Route[r.FileDetails](
        "<resource>/{id}/file_details", "``{files: [{filename, size, url}]}``"
    )
    get_classification_raw_results = Route[r.ClassificationResults](
        "classifications/{id}/raw_results", "rows add ``n_kmers``, ``n_unique_kmers``"
    )
    get_classification_results = Route[r.ClassificationResults](analyses.classification_results)
    get_classification_readlevel = Route[r.ReadLevel](analyses.readlevel)
    fetch_results = Route[dict[str, Any]](
        analyses.fetch_results, ":param record: the record, when the caller has it (one GET less)."
    )
    cancel_analysis = Route[dict[str, Any]](actions.cancel_analysis)
    rerun_analysis = Route[dict[str, Any]](actions.rerun_analysis)
    get_analysis_logs = Route[str](actions.get_analysis_logs, kw_only=2)
    get_job_by_name = Route[r.Job](actions.get_job_by_name)

    def iter_alignments(self, sample_id: str | None = None, **listing: Any) -> Iterator[r.Alignment]:
        """Lazily ``GET /api/v1/alignments``, optionally of one sample and reference ``tax_id=``."""
        filters = {k: listing.pop(k, None) for k in ("where", "analysis_type", "tax_id")}
        where = analyses.sample_listing_where("alignments", sample_id, **filters)
        return cast(Iterator[r.Alignment], self.iter_records("alignments", where=where, **listing))

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
