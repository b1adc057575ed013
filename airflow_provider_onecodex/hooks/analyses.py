"""Analyses, their results (:mod:`~airflow_provider_onecodex.api.analyses`) and jobs. ``/results``
of a failed or incomplete analysis raises ``OneCodexNotFoundError``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from airflow_provider_onecodex.api import analyses
from airflow_provider_onecodex.api import records as r
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook, Route


class OneCodexAnalysesHook(OneCodexBaseHook):
    """``/api/v1/analyses`` and its typed routes, their sub-routes, and ``/api/v1/jobs``."""

    get_analysis = Route[r.Analysis]("analyses", "``GET /api/v1/analyses/{id}``: any type.")
    get_alignment = Route[r.Alignment]("alignments", "``GET /api/v1/alignments/{id}``.")
    get_classification = Route[r.Classification]("classifications", "``GET /api/v1/classifications/{id}``.")
    get_panel = Route[r.Panel]("panels", "``GET /api/v1/panels/{id}``.")
    get_job = Route[r.Job]("jobs", "``GET /api/v1/jobs/{id}``.")
    list_jobs = Route[list[r.Job]]("jobs", "``GET /api/v1/jobs`` (drafts are not listed).", listing=True)

    def list_analyses(self, sample_id: str | None = None, **listing: Any) -> list[r.Analysis]:
        """``GET /api/v1/analyses``, optionally of one sample and one ``analysis_type=``."""
        return cast(list[r.Analysis], self.list_by_sample("analyses", sample_id, **listing))

    def iter_alignments(self, sample_id: str | None = None, **listing: Any) -> Iterator[r.Alignment]:
        """Lazily ``GET /api/v1/alignments``, optionally of one sample and reference ``tax_id=``."""
        where = analyses.analysis_where(
            sample_id, listing.pop("where", None), tax_id=listing.pop("tax_id", None)
        )
        return cast(Iterator[r.Alignment], self.iter_records("alignments", where=where, **listing))

    def list_alignments(self, sample_id: str | None = None, **kwargs: Any) -> list[r.Alignment]:
        """:meth:`iter_alignments` as a list."""
        return list(self.iter_alignments(sample_id, **kwargs))

    def get_alignment_results(self, alignment_id: str) -> r.AlignmentResults:
        """``GET /api/v1/alignments/{id}/results``: coverage statistics and bins (can be large)."""
        return cast(r.AlignmentResults, self.get_results("alignments", alignment_id))

    def get_results(self, resource: str, analysis_id: str) -> dict[str, Any]:
        """``GET /api/v1/<resource>/{id}/results``: the JSON results (shape per type)."""
        return self.run(analyses.get_sub(resource, analysis_id, "results"))

    def get_analysis_results(self, analysis_id: str) -> dict[str, Any]:
        """``GET /api/v1/analyses/{id}/results`` (custom workflows: their ``results.json``)."""
        return self.get_results("analyses", analysis_id)

    def fetch_results(
        self, resource: str, analysis_id: str, *, record: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Any analysis's results by the best route; ``record``: when the caller has it (one GET less)."""
        return self.run(analyses.fetch_results(resource, analysis_id, record=record))

    def get_file_details(self, resource: str, analysis_id: str) -> r.FileDetails:
        """``GET /api/v1/<resource>/{id}/file_details``: ``{"files": [{filename, size, url}]}`` (pre-signed)."""
        return cast(r.FileDetails, self.run(analyses.get_sub(resource, analysis_id, "file_details")))

    def list_classifications(self, sample_id: str | None = None, **listing: Any) -> list[r.Classification]:
        """``GET /api/v1/classifications``, optionally of one sample."""
        return cast(list[r.Classification], self.list_by_sample("classifications", sample_id, **listing))

    def get_classification_results(
        self, classification_id: str, *, use_results_uri: bool = True, record: Mapping[str, Any] | None = None
    ) -> r.ClassificationResults:
        """``{n_reads, host_tax_ids, table}`` through ``results_uri`` or ``/results``."""
        op = analyses.classification_results(
            classification_id, use_results_uri=use_results_uri, record=record
        )
        return cast(r.ClassificationResults, self.run(op))

    def get_classification_raw_results(self, classification_id: str) -> r.ClassificationResults:
        """``GET /api/v1/classifications/{id}/raw_results``: rows add ``n_kmers``, ``n_unique_kmers``."""
        op = analyses.get_sub("classifications", classification_id, "raw_results")
        return cast(r.ClassificationResults, self.run(op))

    def get_classification_readlevel(self, classification_id: str) -> r.ReadLevel:
        """``GET /api/v1/classifications/{id}/readlevel``: ``{"url"}`` of a gzipped TSV."""
        return cast(r.ReadLevel, self.run(analyses.readlevel(classification_id)))

    def list_panels(self, sample_id: str | None = None, **listing: Any) -> list[r.Panel]:
        """``GET /api/v1/panels``, optionally of one sample."""
        return cast(list[r.Panel], self.list_by_sample("panels", sample_id, **listing))

    def get_panel_results(self, panel_id: str) -> r.PanelResults:
        """``GET /api/v1/panels/{id}/results``: ``{panel_name, panel_results}``."""
        return cast(r.PanelResults, self.get_results("panels", panel_id))
