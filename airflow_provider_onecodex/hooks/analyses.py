"""Analyses (any type, alignments, classifications, panels), their results and jobs
(:mod:`~airflow_provider_onecodex.api.analyses`). ``/results`` of a failed or incomplete analysis
raises ``OneCodexNotFoundError``. Listings: see ``list_records``; ``sample_id`` filters by sample."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from airflow_provider_onecodex.api import analyses
from airflow_provider_onecodex.api import records as r
from airflow_provider_onecodex.hooks.base import OneCodexBaseHook


class OneCodexAnalysesHook(OneCodexBaseHook):
    """``/api/v1/analyses`` and its typed routes, their sub-routes, and ``/api/v1/jobs``."""

    def get_analysis(self, analysis_id: str) -> r.Analysis:
        """``GET /api/v1/analyses/{id}``: any type, with ``analysis_type``."""
        return cast(r.Analysis, self.get_record("analyses", analysis_id))

    def list_analyses(
        self, sample_id: str | None = None, *, analysis_type: str | None = None, **listing: Any
    ) -> list[r.Analysis]:
        """``GET /api/v1/analyses``, optionally of one sample and ``analysis_type``."""
        where = analyses.analysis_where(sample_id, listing.pop("where", None), analysis_type)
        return cast(list[r.Analysis], self.list_records("analyses", where=where, **listing))

    def get_alignment(self, alignment_id: str) -> r.Alignment:
        """``GET /api/v1/alignments/{id}``: ``complete``, ``success``, ``tax_id``..."""
        return cast(r.Alignment, self.get_record("alignments", alignment_id))

    def iter_alignments(
        self, sample_id: str | None = None, *, tax_id: str | None = None, **listing: Any
    ) -> Iterator[r.Alignment]:
        """Lazily ``GET /api/v1/alignments``, optionally of one sample and reference ``tax_id``."""
        where = analyses.analysis_where(sample_id, listing.pop("where", None), tax_id=tax_id)
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
        """``GET /api/v1/<resource>/{id}/file_details``: ``{"files": [{filename, filepath, size, url}]}``
        (``url``: pre-signed, masked in logs; keep it out of XCom)."""
        return cast(r.FileDetails, self.run(analyses.get_sub(resource, analysis_id, "file_details")))

    def list_classifications(self, sample_id: str | None = None, **listing: Any) -> list[r.Classification]:
        """``GET /api/v1/classifications``, optionally of one sample."""
        where = analyses.analysis_where(sample_id, listing.pop("where", None))
        return cast(list[r.Classification], self.list_records("classifications", where=where, **listing))

    def get_classification(self, classification_id: str) -> r.Classification:
        """``GET /api/v1/classifications/{id}`` (``results_uri``: pre-signed or null)."""
        return cast(r.Classification, self.get_record("classifications", classification_id))

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
        where = analyses.analysis_where(sample_id, listing.pop("where", None))
        return cast(list[r.Panel], self.list_records("panels", where=where, **listing))

    def get_panel(self, panel_id: str) -> r.Panel:
        """``GET /api/v1/panels/{id}``."""
        return cast(r.Panel, self.get_record("panels", panel_id))

    def get_panel_results(self, panel_id: str) -> r.PanelResults:
        """``GET /api/v1/panels/{id}/results``: ``{panel_name, panel_results}``."""
        return cast(r.PanelResults, self.get_results("panels", panel_id))

    def list_jobs(self, **listing: Any) -> list[r.Job]:
        """``GET /api/v1/jobs`` (drafts are not listed by One Codex)."""
        return cast(list[r.Job], self.list_records("jobs", **listing))

    def get_job(self, job_id: str) -> r.Job:
        """``GET /api/v1/jobs/{id}``."""
        return cast(r.Job, self.get_record("jobs", job_id))
