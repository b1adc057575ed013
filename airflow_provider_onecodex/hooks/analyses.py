"""Analyses, their results (:mod:`~airflow_provider_onecodex.api.analyses`) and jobs. ``/results``
of a failed or incomplete analysis raises ``OneCodexNotFoundError``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from airflow_provider_onecodex.api import analyses
from airflow_provider_onecodex.api import records as r
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook, Route


class OneCodexAnalysesHook(OneCodexBaseHook):
    """``/api/v1/analyses`` and its typed routes, their sub-routes, and ``/api/v1/jobs``."""

    get_analysis = Route[r.Analysis]("analyses", "any type")
    get_alignment = Route[r.Alignment]("alignments")
    get_classification = Route[r.Classification]("classifications")
    get_panel = Route[r.Panel]("panels")
    get_job = Route[r.Job]("jobs")
    list_jobs = Route[list[r.Job]]("jobs", "drafts are not listed", listing=True)
    list_analyses = Route[list[r.Analysis]]("analyses", by_sample=True)
    list_alignments = Route[list[r.Alignment]]("alignments", by_sample=True)
    list_classifications = Route[list[r.Classification]]("classifications", by_sample=True)
    list_panels = Route[list[r.Panel]]("panels", by_sample=True)
    get_results = Route[dict[str, Any]](None, "the JSON results (shape per type)", sub="results")
    get_analysis_results = Route[dict[str, Any]]("analyses", "a workflow's ``results.json``", sub="results")
    get_alignment_results = Route[r.AlignmentResults](
        "alignments", "coverage, bins (can be large)", sub="results"
    )
    get_panel_results = Route[r.PanelResults]("panels", "``{panel_name, panel_results}``", sub="results")
    get_file_details = Route[r.FileDetails](
        None, "``{files: [{filename, size, url}]}``, pre-signed", sub="file_details"
    )
    get_classification_raw_results = Route[r.ClassificationResults](
        "classifications", "rows add ``n_kmers``, ``n_unique_kmers``", sub="raw_results"
    )
    get_classification_results = Route[r.ClassificationResults](analyses.classification_results)
    get_classification_readlevel = Route[r.ReadLevel](analyses.readlevel)
    fetch_results = Route[dict[str, Any]](
        analyses.fetch_results,
        "Any analysis's results by the best route; ``record``: when the caller has it (one GET less).",
    )

    def iter_alignments(self, sample_id: str | None = None, **listing: Any) -> Iterator[r.Alignment]:
        """Lazily ``GET /api/v1/alignments``, optionally of one sample and reference ``tax_id=``."""
        where = analyses.analysis_where(
            sample_id, listing.pop("where", None), tax_id=listing.pop("tax_id", None)
        )
        return cast(Iterator[r.Alignment], self.iter_records("alignments", where=where, **listing))
