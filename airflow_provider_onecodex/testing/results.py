"""Realistic results for simulated analyses, generated deterministically from the analysis id.

A scenario's analysis may carry a ``results`` spec (all keys optional):

- classification: ``{"profile": "isolate" | "gut" | "wastewater", "dominant": "1639",
  "n_reads": 1250000, "host_fraction": 0.008, "extra_taxa": 12}``. ``extra_taxa`` adds long-tail
  species (metagenome-assembled genome names such as ``Bacteroides sp. CAG-1234``); a few hundred
  make the JSON larger than an XCom should hold;
- alignment: ``{"average_coverage": 48.2, "average_identity": 99.1, "n_reads": 2400000}``;
- panel: ``{"present": ["mecA"], "probable": ["blaZ"]}`` (marker names);
- functional, mlst, workflow: fixed small bodies of the recorded shapes (see :func:`other_results`).

Taxon names, ranks and parents are NCBI's; read counts, k-mer counts and coverage are invented.
Shapes follow the One Codex API reference (§8.1, §8.3, §8.4).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from typing import Any

# (tax_id, name, rank, parent_tax_id)
TAXONOMY: tuple[tuple[str, str, str, str | None], ...] = (
    ("1", "root", "no rank", None),
    ("131567", "cellular organisms", "no rank", "1"),
    ("2", "Bacteria", "superkingdom", "131567"),
    ("2759", "Eukaryota", "superkingdom", "131567"),
    ("33208", "Metazoa", "kingdom", "2759"),
    ("7711", "Chordata", "phylum", "33208"),
    ("40674", "Mammalia", "class", "7711"),
    ("9443", "Primates", "order", "40674"),
    ("9604", "Hominidae", "family", "9443"),
    ("9605", "Homo", "genus", "9604"),
    ("9606", "Homo sapiens", "species", "9605"),
    ("1239", "Bacillota", "phylum", "2"),
    ("91061", "Bacilli", "class", "1239"),
    ("1385", "Bacillales", "order", "91061"),
    ("186820", "Listeriaceae", "family", "1385"),
    ("1637", "Listeria", "genus", "186820"),
    ("1639", "Listeria monocytogenes", "species", "1637"),
    ("1642", "Listeria innocua", "species", "1637"),
    ("90964", "Staphylococcaceae", "family", "1385"),
    ("1279", "Staphylococcus", "genus", "90964"),
    ("1280", "Staphylococcus aureus", "species", "1279"),
    ("1282", "Staphylococcus epidermidis", "species", "1279"),
    ("186826", "Lactobacillales", "order", "91061"),
    ("1300", "Streptococcaceae", "family", "186826"),
    ("1301", "Streptococcus", "genus", "1300"),
    ("1305", "Streptococcus sanguinis", "species", "1301"),
    ("1313", "Streptococcus pneumoniae", "species", "1301"),
    ("186801", "Clostridia", "class", "1239"),
    ("186802", "Eubacteriales", "order", "186801"),
    ("186803", "Lachnospiraceae", "family", "186802"),
    ("572511", "Blautia", "genus", "186803"),
    ("40520", "Blautia obeum", "species", "572511"),
    ("216572", "Oscillospiraceae", "family", "186802"),
    ("216851", "Faecalibacterium", "genus", "216572"),
    ("853", "Faecalibacterium prausnitzii", "species", "216851"),
    ("31979", "Clostridiaceae", "family", "186802"),
    ("1485", "Clostridium", "genus", "31979"),
    ("1502", "Clostridium perfringens", "species", "1485"),
    ("1224", "Pseudomonadota", "phylum", "2"),
    ("1236", "Gammaproteobacteria", "class", "1224"),
    ("91347", "Enterobacterales", "order", "1236"),
    ("543", "Enterobacteriaceae", "family", "91347"),
    ("561", "Escherichia", "genus", "543"),
    ("562", "Escherichia coli", "species", "561"),
    ("570", "Klebsiella", "genus", "543"),
    ("573", "Klebsiella pneumoniae", "species", "570"),
    ("590", "Salmonella", "genus", "543"),
    ("28901", "Salmonella enterica", "species", "590"),
    ("72274", "Pseudomonadales", "order", "1236"),
    ("135621", "Pseudomonadaceae", "family", "72274"),
    ("286", "Pseudomonas", "genus", "135621"),
    ("287", "Pseudomonas aeruginosa", "species", "286"),
    ("976", "Bacteroidota", "phylum", "2"),
    ("200643", "Bacteroidia", "class", "976"),
    ("171549", "Bacteroidales", "order", "200643"),
    ("815", "Bacteroidaceae", "family", "171549"),
    ("816", "Bacteroides", "genus", "815"),
    ("817", "Bacteroides fragilis", "species", "816"),
    ("818", "Bacteroides thetaiotaomicron", "species", "816"),
    ("171552", "Prevotellaceae", "family", "171549"),
    ("838", "Prevotella", "genus", "171552"),
    ("165179", "Prevotella copri", "species", "838"),
    ("201174", "Actinomycetota", "phylum", "2"),
    ("1760", "Actinomycetes", "class", "201174"),
    ("85004", "Bifidobacteriales", "order", "1760"),
    ("31953", "Bifidobacteriaceae", "family", "85004"),
    ("1678", "Bifidobacterium", "genus", "31953"),
    ("216816", "Bifidobacterium longum", "species", "1678"),
    ("85009", "Propionibacteriales", "order", "1760"),
    ("31957", "Propionibacteriaceae", "family", "85009"),
    ("1912216", "Cutibacterium", "genus", "31957"),
    ("1747", "Cutibacterium acnes", "species", "1912216"),
    ("74201", "Verrucomicrobiota", "phylum", "2"),
    ("203494", "Verrucomicrobiia", "class", "74201"),
    ("48461", "Verrucomicrobiales", "order", "203494"),
    ("1647988", "Akkermansiaceae", "family", "48461"),
    ("239934", "Akkermansia", "genus", "1647988"),
    ("239935", "Akkermansia muciniphila", "species", "239934"),
)
HOST_TAX_IDS = ("9606",)
# relative weights of the microbial species per profile (the isolate's dominant species is added)
PROFILES: dict[str, dict[str, float]] = {
    "isolate": {"1282": 0.012, "1642": 0.006, "1747": 0.008, "562": 0.004, "1280": 0.003, "1305": 0.002},
    "gut": {
        "818": 0.14,
        "165179": 0.16,
        "853": 0.12,
        "817": 0.08,
        "216816": 0.07,
        "40520": 0.06,
        "239935": 0.05,
        "562": 0.03,
        "573": 0.01,
        "1305": 0.01,
        "1502": 0.005,
    },
    "wastewater": {
        "287": 0.12,
        "562": 0.09,
        "573": 0.06,
        "817": 0.05,
        "165179": 0.04,
        "1502": 0.03,
        "1280": 0.02,
        "28901": 0.01,
        "1313": 0.005,
    },
}
_MAG_PREFIXES = ("CAG", "UBA", "AF", "AM", "TF")


def seeded_rng(analysis_id: str, what: str) -> random.Random:
    seed = int.from_bytes(hashlib.sha256(f"{analysis_id}:{what}".encode()).digest()[:8], "big")
    return random.Random(seed)


def spec_of(spec: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(spec or {})


def classification_results(analysis_id: str, spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``GET /classifications/{id}/results``: ``{n_reads, host_tax_ids, table}``, rows sorted by
    ``readcount_w_children`` (descending), as One Codex "typically" sorts them."""
    s = spec_of(spec)
    rng = seeded_rng(analysis_id, "classification")
    profile = str(s.get("profile", "isolate"))
    n_reads = int(s.get("n_reads", 1_250_000))
    host_fraction = float(s.get("host_fraction", 0.008))
    weights = dict(PROFILES.get(profile, PROFILES["isolate"]))
    if profile == "isolate":
        weights[str(s.get("dominant", "1639"))] = 0.96
    nodes = {t[0]: (t[1], t[2], t[3]) for t in TAXONOMY}
    genera = [tid for tid, (_, rank, _) in nodes.items() if rank == "genus" and tid != "9605"]
    if profile == "gut":
        genera = ["816", "838", "216851", "572511", "1678", "239934", "1485", "1301"]
    taken = set(nodes)
    for i in range(int(s.get("extra_taxa", 12))):
        genus = rng.choice(genera)
        while True:
            tid = str(rng.randrange(3_000_000, 3_400_000))
            if tid not in taken:
                break
        taken.add(tid)
        name = f"{nodes[genus][0]} sp. {rng.choice(_MAG_PREFIXES)}-{rng.randrange(100, 9999)}"
        nodes[tid] = (name, "species", genus)
        weights[tid] = 0.004 * (0.97**i) * rng.uniform(0.3, 1.0)

    classified = n_reads * (1 - host_fraction) * 0.93  # the rest stays unclassified
    total = sum(weights.values())
    own: dict[str, int] = {tid: 0 for tid in nodes}
    for tid, weight in weights.items():
        own[tid] = max(1, round(classified * weight / total * rng.uniform(0.97, 1.03)))
    own["9606"] = round(n_reads * host_fraction)
    # k-mer classifiers leave some reads at genus/family level: take them from the species
    for tid, (_, rank, parent) in list(nodes.items()):
        if rank == "species" and parent and tid != "9606":
            moved = int(own[tid] * rng.uniform(0.01, 0.04))
            own[tid] -= moved
            own[parent] += moved
    with_children = dict(own)
    order = sorted(nodes, key=lambda t: _depth(t, nodes), reverse=True)
    for tid in order:
        parent = nodes[tid][2]
        if parent is not None:
            with_children[parent] += with_children[tid]
    species_total = sum(
        with_children[t] for t, (_, rank, _) in nodes.items() if rank == "species" and t not in HOST_TAX_IDS
    )
    table: list[dict[str, Any]] = []
    for tid in nodes:
        if with_children[tid] <= 0:
            continue
        name, rank, parent = nodes[tid]
        abundance = None
        if rank == "species" and tid not in HOST_TAX_IDS and species_total:
            abundance = round(with_children[tid] / species_total, 6)
        table.append(
            {
                "abundance": abundance,
                "abundance_w_children": abundance,
                "name": name,
                "parent_tax_id": parent,
                "rank": rank,
                "readcount": own[tid],
                "readcount_w_children": with_children[tid],
                "tax_id": tid,
                # recorded rows carry these (the OpenAPI file's unfiltered_* are not served)
                "filtered_readcount": own[tid],
                "filtered_readcount_w_children": with_children[tid],
            }
        )
    table.sort(key=lambda r: (-r["readcount_w_children"], r["tax_id"]))
    return {"host_tax_ids": list(HOST_TAX_IDS), "n_reads": n_reads, "table": table}


def _depth(tid: str, nodes: Mapping[str, tuple[str, str, str | None]]) -> int:
    depth = 0
    while (parent := nodes[tid][2]) is not None:
        tid, depth = parent, depth + 1
    return depth


def raw_results(analysis_id: str, results: Mapping[str, Any]) -> dict[str, Any]:
    """``/raw_results``: the results rows plus ``n_kmers`` and ``n_unique_kmers``."""
    rng = seeded_rng(analysis_id, "raw")
    rows = []
    for row in results["table"]:
        kmers = int(row["readcount_w_children"] * rng.uniform(80, 120))
        rows.append({**row, "n_kmers": kmers, "n_unique_kmers": int(kmers * rng.uniform(0.2, 0.6))})
    return {**results, "table": rows}
