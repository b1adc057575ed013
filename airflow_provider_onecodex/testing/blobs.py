"""Files the simulator serves behind pre-signed links: compressed results, read-level TSVs,
analysis output files and documents, all generated deterministically."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Mapping
from typing import Any

import zstandard

from airflow_provider_onecodex.testing.results import seeded_rng


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (no timestamp, no file name)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        handle.write(data)
    return buffer.getvalue()


def zstd_bytes(data: bytes) -> bytes:
    """zstd with the content size in the frame header, as One Codex serves ``results_uri``."""
    return zstandard.ZstdCompressor(level=3, write_content_size=True).compress(data)


def readlevel_tsv(analysis_id: str, results: Mapping[str, Any], max_reads: int = 2000) -> bytes:
    """The read-level TSV (before gzip): ``Tax ID``, ``N Hits``, ``Seq Len``, ``Passed Filter``."""
    rng = seeded_rng(analysis_id, "readlevel")
    rows = [r for r in results["table"] if r["readcount"] > 0]
    weights = [r["readcount"] for r in rows]
    lines = ["Tax ID\tN Hits\tSeq Len\tPassed Filter"]
    for _ in range(min(max_reads, int(results.get("n_reads", max_reads)))):
        if rng.random() < 0.07:
            lines.append(f"0\t0\t{rng.choice((150, 151))}\tF")
            continue
        row = rng.choices(rows, weights)[0]
        lines.append(f"{row['tax_id']}\t{rng.randrange(5, 120)}\t{rng.choice((150, 151))}\tT")
    return ("\n".join(lines) + "\n").encode()


def output_files(analysis_type: str, results: Mapping[str, Any] | None) -> dict[str, bytes]:
    """An analysis's output files (``file_details``), filename -> content."""
    if analysis_type == "classification" and results:
        header = "tax_id\tname\trank\treadcount\treadcount_w_children\tabundance"
        lines = [header] + [
            f"{r['tax_id']}\t{r['name']}\t{r['rank']}\t{r['readcount']}\t{r['readcount_w_children']}\t"
            f"{'' if r['abundance'] is None else r['abundance']}"
            for r in results["table"]
        ]
        summary = {"n_reads": results["n_reads"], "n_taxa": len(results["table"])}
        return {
            "classification_results.tsv": ("\n".join(lines) + "\n").encode(),
            "classification_summary.json": json.dumps(summary, indent=2).encode(),
        }
    if analysis_type == "alignment" and results:
        width = int(results["coverage"]["binned_window_width"])
        lines = ["contig_id\tstart\tend\tdepth"]
        for contig in results["coverage"]["binned_depths"]:
            for i, depth in enumerate(contig["depths"]):
                end = min((i + 1) * width, contig["length"])
                lines.append(f"{contig['contig_id']}\t{i * width}\t{end}\t{depth}")
        stats = {k: v for k, v in results.items() if k != "coverage"}
        return {
            "coverage.tsv": ("\n".join(lines) + "\n").encode(),
            "alignment_stats.json": json.dumps(stats, indent=2).encode(),
        }
    return {f"{analysis_type}_results.json": json.dumps(results or {}, indent=2).encode()}


def document_bytes(document_id: str, size: int | None, filename: str) -> bytes:
    """Deterministic content of a document of ``size`` bytes (a PDF-looking header for ``.pdf``)."""
    size = 4096 if size is None else size
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" if filename.lower().endswith(".pdf") else b""
    rng = seeded_rng(document_id, "document")
    return (head + rng.randbytes(max(0, size - len(head))))[:size]
