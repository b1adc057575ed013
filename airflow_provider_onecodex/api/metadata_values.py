"""One Codex's enumerated metadata values (OpenAPI ``SequencingPlatform``, ``SequencingLibraryType``,
``SequencingSampleType``; API reference §8.6): ``PATCH /api/v1/metadata/{id}`` answers 400 for any
other value of ``platform``, ``library_type`` or ``sample_type`` (null is allowed).

Defined once: the simulator's ``PATCH`` checks (``testing/metadata_rules.py``) take these same
values (data, not logic), and the OpenAPI conformance test
(``tests/testing/test_openapi_conformance.py``) checks them against the OpenAPI file's enums, so a
mistake here fails that test rather than being reproduced unnoticed by the simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PLATFORMS = (
    "454 sequencing", "454 GS FLX", "454 GS FLX Titanium", "Illumina", "Illumina Genome Analyzer II",
    "Illumina HiSeq", "Illumina HiSeq 1500", "Illumina HiSeq 2000", "Illumina HiSeq 2500",
    "Illumina HiSeq 3000", "Illumina HiSeq 4000", "Illumina HiSeq X", "Illumina iSeq 100",
    "Illumina MiniSeq", "Illumina MiSeq", "Illumina NextSeq", "Illumina NextSeq 500",
    "Illumina NextSeq 550", "Illumina NovaSeq", "Illumina NovaSeq 5000", "Illumina NovaSeq 6000",
    "BGISEQ", "BGISEQ 50", "Element", "Element AVITI", "Ion", "Ion S5", "Ion S5 XL", "Ion PGM",
    "Ion Proton", "Ion Torrent", "Oxford Nanopore", "Oxford Nanopore GridION X5",
    "Oxford Nanopore MinION", "Oxford Nanopore PromethION", "PacBio", "PacBio RS II", "PacBio Sequel",
    "PacBio Sequel II System", "PacBio Revio", "PacBio Onso", "SOLiD", "Solexa Genome Analyzer",
    "Sanger", "Other",
)  # fmt: skip
LIBRARY_TYPES = ("WGS", "Targeted/16S", "Other")
SAMPLE_TYPES = ("Isolate", "Metagenomic", "Other")
METADATA_ENUMS: dict[str, tuple[str, ...]] = {
    "platform": PLATFORMS,
    "library_type": LIBRARY_TYPES,
    "sample_type": SAMPLE_TYPES,
}


def check_enumerated(fields: Mapping[str, Any], name: str = "fields") -> None:
    """Raise ``ValueError`` (naming the field, the value and the allowed values) when an
    enumerated field of a metadata change holds anything but one of its values or null."""
    for field, allowed in METADATA_ENUMS.items():
        value = fields.get(field)
        if value is not None and value not in allowed:
            raise ValueError(f"{name}[{field!r}] must be one of {list(allowed)} or null, got {value!r}")
