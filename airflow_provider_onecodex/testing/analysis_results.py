"""Generated ``/results`` of alignments, panels, functional profiles, MLSTs and custom workflows
(classifications: :mod:`~airflow_provider_onecodex.testing.results`). Deterministic per analysis id;
shapes follow the API reference (§8.1, §8.4) and the recorded bodies.
"""

from __future__ import annotations

import hashlib
import random
import statistics
from collections.abc import Mapping
from typing import Any

from airflow_provider_onecodex.testing.results import TAXONOMY, seeded_rng, spec_of

_GENOMES: dict[str, tuple[str, str, list[tuple[str, int]]]] = {
    "1280": ("Staphylococcus aureus subsp. aureus NCTC 8325", "GCF_000013425.1", [("NC_007795.1", 2821361)]),
    "562": ("Escherichia coli str. K-12 substr. MG1655", "GCF_000005845.2", [("NC_000913.3", 4641652)]),
    "1639": ("Listeria monocytogenes EGD-e", "GCF_000196035.1", [("NC_003210.1", 2944528)]),
    "28901": (
        "Salmonella enterica subsp. enterica serovar Typhimurium str. LT2",
        "GCF_000006945.2",
        [("NC_003197.2", 4857450), ("NC_003277.2", 93939)],
    ),
}
_NAMES = {t[0]: t[1] for t in TAXONOMY}
COVERAGE_WINDOW = 10_000  # bases per coverage bin


def alignment_results(
    analysis_id: str, tax_id: str | None, spec: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``GET /alignments/{id}/results``: coverage statistics and depths in 10 kb bins."""
    s = spec_of(spec)
    rng = seeded_rng(analysis_id, "alignment")
    genome_name, accession, contigs = _GENOMES.get(
        str(tax_id), (f"Reference genome of taxon {tax_id}", "GCF_000000000.1", [("contig_1", 3_000_000)])
    )
    coverage = float(s.get("average_coverage", round(rng.uniform(20, 80), 2)))
    identity = float(s.get("average_identity", round(rng.uniform(98.5, 99.9), 2)))
    binned, all_depths = [], []
    for contig_id, length in contigs:
        n_bins = -(-length // COVERAGE_WINDOW)
        depths = [max(0, round(rng.gauss(coverage, coverage * 0.15 + 0.5))) for _ in range(n_bins)]
        binned.append({"contig_id": contig_id, "depths": depths, "length": length})
        all_depths += depths
    genome_length = sum(length for _, length in contigs)
    n_mapped = int(coverage * genome_length / 150)
    return {
        "assembly_accession": accession,
        "assembly_id": hashlib.sha256(f"assembly:{accession}".encode()).hexdigest()[:16],
        "average_coverage": coverage,
        "average_identity": identity,
        "coverage": {"binned_depths": binned, "binned_window_width": str(COVERAGE_WINDOW)},
        "genome_id": hashlib.sha256(f"genome:{accession}".encode()).hexdigest()[:16],
        "genome_name": genome_name,
        "genome_taxon_id": None if tax_id is None else str(tax_id),
        "genome_taxon_name": _NAMES.get(str(tax_id)),
        "median_depth": float(statistics.median(all_depths)) if all_depths else 0.0,
        "n_mapped": n_mapped,
        "n_reads": int(s.get("n_reads", int(n_mapped / rng.uniform(0.6, 0.95)))),
    }


_PANEL = {
    "beta-lactamases": (
        "Genes conferring resistance to beta-lactam antibiotics",
        [("blaZ", 846), ("mecA", 2007), ("blaCTX-M-15", 876), ("blaKPC-2", 882), ("blaNDM-1", 813)],
    ),
    "glycopeptide resistance": ("Vancomycin resistance operons", [("vanA", 1032), ("vanB", 1029)]),
    "virulence": (
        "Toxin and virulence factor genes",
        [("hly", 1590), ("inlA", 2403), ("pvl (lukS-PV)", 939), ("stx2", 960)],
    ),
}


def panel_results(analysis_id: str, panel_name: str, spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``GET /panels/{id}/results``: ``{panel_name, panel_results: {sub-panel: {description, markers}}}``."""
    s = spec_of(spec)
    rng = seeded_rng(analysis_id, "panel")
    present, probable = set(s.get("present", ["hly", "inlA"])), set(s.get("probable", []))
    out: dict[str, Any] = {}
    for sub, (description, markers) in _PANEL.items():
        rows = []
        for name, length in markers:
            status = "present" if name in present else "probable" if name in probable else "absent"
            identity = {"present": rng.uniform(99.2, 100), "probable": rng.uniform(95.5, 98.9)}.get(
                status, 0.0
            )
            rows.append(
                {
                    "name": name,
                    "description": f"{name} ({sub})",
                    "status": status,
                    "length": length,
                    "identity": round(identity, 2),
                    "coverage": round(identity, 2),
                    "depth": round(rng.uniform(20, 90), 1) if status != "absent" else 0.0,
                }
            )
        out[sub] = {"description": description, "markers": rows}
    return {"panel_name": panel_name, "panel_results": out}


def other_results(analysis_id: str, analysis_type: str, spec: Mapping[str, Any] | None) -> dict[str, Any]:
    """``/results`` of functional profiles (``{n_mapped, n_reads, table}``), MLSTs
    (``{mlstResults: {results, summary}}``) and custom workflows (what the workflow wrote:
    ``spec`` itself, or a small summary); other types: ``spec`` as given."""
    rng = seeded_rng(analysis_id, analysis_type)
    if analysis_type == "functional":
        n_reads = int(spec_of(spec).get("n_reads", 871_218))
        table = [
            {
                "group_name": "gene_family",
                "id": f"UniRef90_{rng.randrange(10**9):09d}",
                "metric": metric,
                "name": None,
                "taxa_stratified": False,
                "taxon_id": None,
                "taxon_name": None,
                "value": round(rng.uniform(0.1, 500.0), 6),
            }
            for _ in range(20)
            for metric in ("total_cpm", "total_rpk")
        ]
        return {"n_mapped": float(int(n_reads * 0.4)), "n_reads": n_reads, "table": table}
    if analysis_type == "mlst":
        genes = ("arcC", "aroE", "glpF", "gmk", "pta", "tpi", "yqiL")
        alleles = [{"allele": rng.randrange(1, 40), "gene": g} for g in genes]
        st = rng.randrange(1, 500)
        summary = {
            "complete_match": True,
            "mlst": st,
            "n_alleles_matched": len(genes),
            "n_alleles_total": len(genes),
        }
        return {
            "mlstResults": {"results": [{"alleles": alleles, "metadata": [], "st": st}], "summary": summary},
            "panelResults": {
                f"{a['gene']}_{a['allele']}": _mlst_marker(rng, i, f"{a['gene']}_{a['allele']}")
                for i, a in enumerate(alleles, start=2)
            },
        }
    if analysis_type == "workflow" and not spec:
        return {
            "workflowResults": {
                "summary": {"status": "complete"},
                "steps": [{"name": "main", "status": "complete"}],
            }
        }
    return dict(spec or {})


def _mlst_marker(rng: random.Random, index: int, name: str) -> dict[str, Any]:
    """One marker of an MLST's ``panelResults`` (keys as in the recorded body)."""
    n_reads = rng.randrange(2000, 8000)
    return {
        "coverage": 1.0,
        "depth": round(rng.uniform(500, 2500), 3),
        "description": "",
        "id": str(index),
        "length": rng.randrange(350, 520),
        "marker_type": "alignment",
        "n_reads": n_reads,
        "n_reads_full_coverage": n_reads,
        "name": name,
        "pct_identity": 1.0,
        "status": "present",
        "total_hits": n_reads,
    }
