"""Analysis results: how big they are as JSON, and the small summaries that fit in an XCom.

Shapes follow the One Codex API reference (§8.1 alignment results, §8.3 classification results,
§8.4 panel results). Summaries read only the fields they need and tolerate extra or missing ones:
results come from the server (never rejected for their shape) and from custom workflows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from airflow_provider_onecodex.api.records import TopTaxon
from airflow_provider_onecodex.api.resources import ANALYSIS_RESOURCES, validate_resource

#: Default XCom limit of the results operators: 48 KiB of compact JSON (``json.dumps`` with
#: ``separators=(",", ":")``, UTF-8). Larger results go to object storage.
DEFAULT_XCOM_MAX_BYTES = 49152
#: "root" and "cellular organisms": not microbes, never in a top-taxa summary (the official
#: client's ``_NONSPECIFIC_TAX_IDS``).
NONSPECIFIC_TAX_IDS = frozenset({"1", "131567"})
DEFAULT_TOP_N = 10
TOP_SPECIES = 5
_LIST_CAP = 20  # names listed in a summary (panel markers, result keys)


def compact_json(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON: the bytes an XCom limit and a stored file are measured in.

    :raises TypeError: not JSON-serializable.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def validate_xcom_max_bytes(value: object, name: str = "xcom_max_bytes") -> int:
    """A byte limit: an int >= 0 (0 sends everything to storage). Templated text is converted.

    :raises TypeError: not an int; :raises ValueError: negative.
    """
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a number of bytes (int), got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0 bytes, got {value!r}")
    return value


def validate_top_n(value: object, name: str = "top_n") -> int:
    """A number of taxa for a summary: a positive int, else ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def validate_results_resource(value: object, name: str = "resource") -> str:
    """An analyses route that has ``/results``: ``classifications``, ``alignments``, ``panels``, ``analyses``...

    :raises TypeError, ValueError: naming the value and the allowed routes.
    """
    return validate_resource(value, name, analyses_only=True)


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def top_taxa(results: Mapping[str, Any], n: int = DEFAULT_TOP_N, rank: str | None = None) -> list[TopTaxon]:
    """The ``n`` microbial rows with the most reads (``readcount_w_children``, descending).

    Host rows (``host_tax_ids``) and the non-specific "root"/"cellular organisms" rows are left
    out, as the official client does; ties keep the table's order.

    :param rank: only rows of this rank (e.g. ``"species"``); default every rank.
    :raises ValueError: ``n`` < 1.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    excluded = NONSPECIFIC_TAX_IDS | {str(t) for t in results.get("host_tax_ids") or []}
    rows = [r for r in results.get("table") or [] if isinstance(r, Mapping)]
    rows = [
        r for r in rows if str(r.get("tax_id")) not in excluded and (rank is None or r.get("rank") == rank)
    ]
    rows.sort(key=lambda r: _number(r.get("readcount_w_children")), reverse=True)
    return [
        {
            "tax_id": str(r.get("tax_id")),
            "name": str(r.get("name")),
            "rank": str(r.get("rank")),
            "readcount_w_children": _number(r.get("readcount_w_children")),
            "abundance": r.get("abundance") if isinstance(r.get("abundance"), (int, float)) else None,
        }
        for r in rows[:n]
    ]


DEFAULT_RANK = "species"


#: The ranks of One Codex's taxonomy (NCBI's): what a results row's ``rank`` can be.
RANKS = frozenset(
    {
        "superkingdom", "kingdom", "subkingdom", "phylum", "subphylum", "class", "subclass",
        "order", "suborder", "family", "subfamily", "genus", "subgenus", "species group",
        "species subgroup", "species", "subspecies", "strain", "no rank",
    }
)  # fmt: skip


def validate_rank(value: object, name: str = "rank") -> str | None:
    """A taxonomic rank as One Codex writes it (one of :data:`RANKS`: ``"species"``, ``"genus"``...)
    or ``None`` for all.

    :raises TypeError: not a string or None. :raises ValueError: not one of :data:`RANKS`.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a rank such as 'species' or None for every rank, got {value!r}")
    if value not in RANKS:
        raise ValueError(f"{name} must be one of {sorted(RANKS)} or None for every rank, got {value!r}")
    return value


def classification_summary(
    results: Mapping[str, Any], n: int = DEFAULT_TOP_N, rank: str | None = DEFAULT_RANK
) -> dict[str, Any]:
    """``{n_reads, host_tax_ids, host_readcount, host_fraction, n_taxa, rank, top_taxa, top_species}``.

    ``top_taxa``: the ``n`` top rows at ``rank`` (default ``"species"``; ``None``: every rank, so
    "Bacteria" and phyla lead), see :func:`top_taxa`; ``top_species``: the 5 top species whatever
    ``rank`` is. Each taxon is ``{tax_id, name, rank, readcount_w_children, abundance}``.
    ``host_readcount`` sums ``readcount_w_children`` of the host rows present; ``host_fraction`` is
    it over ``n_reads`` (``None`` without ``n_reads``).
    """
    table = [r for r in results.get("table") or [] if isinstance(r, Mapping)]
    hosts = [str(t) for t in results.get("host_tax_ids") or []]
    host_reads = sum(_number(r.get("readcount_w_children")) for r in table if str(r.get("tax_id")) in hosts)
    n_reads = results.get("n_reads")
    n_reads = n_reads if isinstance(n_reads, int) and not isinstance(n_reads, bool) else None
    return {
        "n_reads": n_reads,
        "host_tax_ids": hosts,
        "host_readcount": host_reads,
        "host_fraction": round(host_reads / n_reads, 6) if n_reads else None,
        "n_taxa": len(table),
        "rank": rank,
        "top_taxa": top_taxa(results, n, rank),
        "top_species": top_taxa(results, TOP_SPECIES, rank="species"),
    }


_ALIGNMENT_FIELDS = (
    "average_coverage",
    "average_identity",
    "median_depth",
    "n_mapped",
    "n_reads",
    "genome_name",
    "genome_taxon_id",
    "genome_taxon_name",
    "assembly_accession",
)


def alignment_summary(results: Mapping[str, Any]) -> dict[str, Any]:
    """Coverage statistics without the bins: ``average_coverage``, ``average_identity``,
    ``median_depth``, ``n_mapped``, ``n_reads``, the genome's name and taxon, ``n_contigs``,
    ``n_bins`` and ``binned_window_width``."""
    out = {name: results.get(name) for name in _ALIGNMENT_FIELDS}
    coverage = results.get("coverage")
    bins = coverage.get("binned_depths") if isinstance(coverage, Mapping) else None
    bins = [b for b in bins or [] if isinstance(b, Mapping)]
    out["n_contigs"] = len(bins)
    out["n_bins"] = sum(len(b.get("depths") or []) for b in bins)
    out["binned_window_width"] = (
        coverage.get("binned_window_width") if isinstance(coverage, Mapping) else None
    )
    return out


def _markers(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    panels = results.get("panel_results")
    if not isinstance(panels, Mapping):
        return []
    return [
        m
        for sub in panels.values()
        if isinstance(sub, Mapping)
        for m in sub.get("markers") or []
        if isinstance(m, Mapping)
    ]


def panel_summary(results: Mapping[str, Any]) -> dict[str, Any]:
    """``{panel_name, n_markers, status_counts, present, probable}`` (marker names, at most 20 each)."""
    markers = _markers(results)
    counts: dict[str, int] = {}
    for m in markers:
        counts[str(m.get("status"))] = counts.get(str(m.get("status")), 0) + 1
    return {
        "panel_name": results.get("panel_name"),
        "n_markers": len(markers),
        "status_counts": counts,
        "present": [str(m.get("name")) for m in markers if m.get("status") == "present"][:_LIST_CAP],
        "probable": [str(m.get("name")) for m in markers if m.get("status") == "probable"][:_LIST_CAP],
    }


FUNCTIONAL_TOP = 5  # features per functional group in a summary
_FUNCTIONAL_METRICS = ("total_cpm", "abundance", "cpm", "total_rpk", "rpk", "coverage")
_UNASSIGNED = frozenset({"UNMAPPED", "UNINTEGRATED", "UNGROUPED"})


def _functional_rows(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in results.get("table") or [] if isinstance(r, Mapping)]


def _value(row: Mapping[str, Any]) -> float:
    value = row.get("value")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def functional_summary(results: Mapping[str, Any], n: int = FUNCTIONAL_TOP) -> dict[str, Any]:
    """``{n_reads, n_mapped, n_rows, groups, top_features}`` of a functional profile.

    ``groups``: the functional groups present (``pfam``, ``go``, ``ko``, ``pathways``...);
    ``top_features``: per group, the ``n`` features with the highest value of the group's first
    unstratified metric of ``total_cpm``, ``abundance``, ``cpm``, ``total_rpk``, ``rpk``, ``coverage``,
    as ``{id, name, metric, value}`` (``UNMAPPED``/``UNINTEGRATED`` rows left out).
    """
    rows = _functional_rows(results)
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if not r.get("taxa_stratified") and str(r.get("id")) not in _UNASSIGNED:
            groups.setdefault(str(r.get("group_name")), []).append(r)
    top: dict[str, list[dict[str, Any]]] = {}
    for group, members in sorted(groups.items()):
        present = {str(r.get("metric")) for r in members}
        metric = next((m for m in _FUNCTIONAL_METRICS if m in present), sorted(present)[0])
        chosen = [r for r in members if r.get("metric") == metric]
        chosen.sort(key=_value, reverse=True)
        top[group] = [
            {"id": r.get("id"), "name": r.get("name"), "metric": metric, "value": r.get("value")}
            for r in chosen[:n]
        ]
    return {
        "n_reads": results.get("n_reads"),
        "n_mapped": results.get("n_mapped"),
        "n_rows": len(rows),
        "groups": sorted({str(r.get("group_name")) for r in rows}),
        "top_features": top,
    }


def results_kind(resource: str, results: Any) -> str:
    """``classification``, ``alignment``, ``panel``, ``functional`` or ``other``: from the route,
    else from the shape (``/analyses/{id}/results`` serves every type)."""
    by_route = {
        "classifications": "classification",
        "alignments": "alignment",
        "panels": "panel",
        "functional_profiles": "functional",
    }
    if resource in by_route:
        return by_route[resource]
    if isinstance(results, Mapping):
        table = results.get("table")
        if isinstance(table, list) and any(isinstance(r, Mapping) and "group_name" in r for r in table[:20]):
            return "functional"
        if isinstance(table, list):
            return "classification"
        if "average_coverage" in results or "coverage" in results:
            return "alignment"
        if "panel_results" in results:
            return "panel"
    return "other"


def count_rows(resource: str, results: Any) -> int:
    """Classification table rows, alignment coverage bins, panel markers; else top-level items."""
    kind = results_kind(resource, results)
    if kind in ("classification", "functional"):
        return len(results.get("table") or [])
    if kind == "alignment":
        return cast(int, alignment_summary(results)["n_bins"])
    if kind == "panel":
        return len(_markers(results))
    if isinstance(results, (list, dict)):
        return len(results)
    return 1


def summarize(
    resource: str, results: Any, top_n: int = DEFAULT_TOP_N, rank: str | None = DEFAULT_RANK
) -> dict[str, Any]:
    """The small summary an operator pushes next to stored results (see the per-kind functions).

    :param top_n: taxa in a classification summary. :param rank: their rank (``None``: any).
    Custom-workflow and unknown results get ``{"keys": [...]}`` (first 20 top-level keys).
    """
    kind = results_kind(resource, results)
    if kind == "classification":
        return {"kind": kind, **classification_summary(results, top_n, rank)}
    if kind == "functional":
        return {"kind": kind, **functional_summary(results)}
    if kind == "alignment":
        return {"kind": kind, **alignment_summary(results)}
    if kind == "panel":
        return {"kind": kind, **panel_summary(results)}
    keys = sorted(str(k) for k in results)[:_LIST_CAP] if isinstance(results, Mapping) else []
    return {"kind": kind, "keys": keys}


_POINTER_KEYS = frozenset({"uri", "size", "sha256", "rows", "summary"})
_ENVELOPE_KEYS = frozenset({"resource", "analysis_id", "sample_id", "results"})


def results_value(resource: str, analysis_id: str, sample_id: str | None, results: Any) -> dict[str, Any]:
    """The XCom value of results small enough for XCom: what they are, then the results.

    ``{"resource", "analysis_id", "sample_id", "results"}``: a mapped DAG joins results to samples
    by these keys, not by map order. ``sample_id`` is ``None`` when the analysis names no sample.
    """
    return {"resource": resource, "analysis_id": analysis_id, "sample_id": sample_id, "results": results}


def is_results_value(value: Any) -> bool:
    """True for the XCom value of :func:`results_value`."""
    return isinstance(value, Mapping) and set(value) == _ENVELOPE_KEYS


def is_stored_results(value: Any) -> bool:
    """True for the XCom value an operator pushes when it wrote results to storage."""
    return (
        isinstance(value, Mapping) and set(value) >= _POINTER_KEYS and isinstance(value["summary"], Mapping)
    )


def summary_of(
    resource: str, value: Any, top_n: int = DEFAULT_TOP_N, rank: str | None = DEFAULT_RANK
) -> dict[str, Any]:
    """The summary of a results operator's XCom value, whichever form it took (results or pointer).

    Downstream tasks call this and need not care whether the results fitted in XCom. The stored
    form's summary was made by the operator (its ``top_n`` and ``rank``); the others are
    summarised here with ``top_n`` and ``rank``.
    """
    if is_stored_results(value):
        return dict(value["summary"])
    if is_results_value(value):
        return summarize(str(value["resource"]), value["results"], top_n, rank)
    return summarize(resource, value, top_n, rank)


__all__ = [
    "ANALYSIS_RESOURCES",
    "DEFAULT_RANK",
    "DEFAULT_TOP_N",
    "DEFAULT_XCOM_MAX_BYTES",
    "NONSPECIFIC_TAX_IDS",
    "alignment_summary",
    "classification_summary",
    "compact_json",
    "count_rows",
    "functional_summary",
    "is_results_value",
    "is_stored_results",
    "panel_summary",
    "results_kind",
    "results_value",
    "summarize",
    "summary_of",
    "top_taxa",
    "validate_rank",
    "validate_results_resource",
    "validate_top_n",
    "validate_xcom_max_bytes",
]
