"""What One Codex accepts as a sample file, checked before any request (actions reference §5.1, §5.4, §5.6).

- name: One Codex's filename pattern ``^[\\w\\.]+[\\w\\-\\.\\[\\]\\(\\)\\{\\} ]*\\.[\\w\\.]+$`` in ASCII
  (the official client refuses other names unless told to transliterate; we refuse, never rename);
- extension ``.fa .fna .fasta .fq .fastq``, optionally followed by ``.gz .gzip`` (gzip) or
  ``.bz .bz2 .bzip .bzip2`` (bzip2), and content that agrees: the compression is sniffed from the
  magic bytes and the format from the first record (``>`` FASTA, ``@`` FASTQ) after decompressing
  the first bytes; bytes go up unchanged;
- non-empty and at most :data:`MAX_UPLOAD_BYTES` ("up to 20 GB");
- pairs: both FASTQ, ordered R1, R2 by the official client's ``_R1``/``_1``/``.R1.`` rule.
"""

from __future__ import annotations

import bz2
import math
import re
import zlib
from dataclasses import dataclass

MAX_UPLOAD_BYTES = 20 * 1000**3  # One Codex: "up to 20 GB" per file
SNIFF_BYTES = 1024 * 1024  # read to sniff; holds a whole bzip2 block of typical reads
_SNIFF_OUTPUT = 64 * 1024  # decompressed bytes looked at (bounds a compression bomb)
FILENAME_RE = re.compile(r"^[\w\.]+[\w\-\.\[\]\(\)\{\} ]*\.[\w\.]+$", re.ASCII)
SEQUENCE_EXTENSIONS = {".fa": "fasta", ".fna": "fasta", ".fasta": "fasta", ".fq": "fastq", ".fastq": "fastq"}
COMPRESSION_EXTENSIONS = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz": "bzip2",
    ".bz2": "bzip2",
    ".bzip": "bzip2",
    ".bzip2": "bzip2",
}
# the official client's pair rule (lib/files.py), applied to the file name rather than the whole path
R1_RE = re.compile(r".*[._][Rr]?1[_.].*")
R2_RE = re.compile(r".*[._][Rr]?2[_.].*")
MiB = 1024 * 1024
CHUNK_SIZES = tuple(n * MiB for n in range(10, 110, 10))
MAX_PARTS = 10_000


@dataclass(frozen=True)
class SequenceFile:
    """A checked sample file: ``name`` (the name One Codex gets), ``size`` in bytes,
    ``format`` (``"fasta"``/``"fastq"``) and ``compression`` (``"gzip"``, ``"bzip2"`` or ``None``)."""

    name: str
    size: int
    format: str
    compression: str | None


def validate_filename(name: object, what: str = "source") -> str:
    """``name`` when One Codex's filename pattern accepts it (ASCII only), else raise.

    :raises TypeError: not a string. :raises ValueError: a path separator, non-ASCII characters,
        or a name the pattern refuses (it must start with a letter, digit, ``_`` or ``.`` and end
        with an extension).
    """
    if not isinstance(name, str):
        raise TypeError(f"{what}: the file name must be a string, got {name!r}")
    if "/" in name or "\\" in name:
        raise ValueError(f"{what}: the file name {name!r} must not contain '/' or '\\'")
    if not name.isascii():
        raise ValueError(f"{what}: the file name {name!r} must be ASCII (One Codex refuses other names)")
    if FILENAME_RE.fullmatch(name) is None:
        raise ValueError(
            f"{what}: the file name {name!r} does not match One Codex's pattern {FILENAME_RE.pattern} "
            "(letters, digits, '_', '.', '-', spaces and brackets, ending in an extension)"
        )
    return name


def format_of_name(name: str, what: str = "source") -> tuple[str, str | None]:
    """``(format, compression)`` from the name's extensions, e.g. ``x.fastq.gz`` -> ``("fastq", "gzip")``.

    :raises ValueError: not ``.fa/.fna/.fasta/.fq/.fastq`` (optionally compressed).
    """
    lower = name.lower()
    compression = None
    for ext, kind in COMPRESSION_EXTENSIONS.items():
        if lower.endswith(ext):
            compression, lower = kind, lower[: -len(ext)]
            break
    for ext, fmt in SEQUENCE_EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt, compression
    raise ValueError(
        f"{what}: {name!r} must end in {', '.join(SEQUENCE_EXTENSIONS)}, optionally followed by "
        f"{', '.join(COMPRESSION_EXTENSIONS)} (One Codex takes FASTA or FASTQ files)"
    )


def _decompressed_head(head: bytes, compression: str | None, name: str, what: str) -> bytes:
    try:
        if compression == "gzip":
            return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, _SNIFF_OUTPUT)
        if compression == "bzip2":
            return bz2.BZ2Decompressor().decompress(head, _SNIFF_OUTPUT)
    except (zlib.error, OSError, EOFError) as exc:
        raise ValueError(f"{what}: {name!r} is not a valid {compression} stream ({exc})") from None
    return head[:_SNIFF_OUTPUT]


def sniff(head: bytes, name: str, what: str = "source", *, whole: bool = False) -> tuple[str, str | None]:
    """``(format, compression)`` of a file from its first bytes (at least :data:`SNIFF_BYTES`, or all).

    :param whole: ``head`` is the whole file.
    :raises ValueError: compressed data that does not decompress, no sequence record at the start,
        or nothing in the file.
    """
    if head.startswith(b"\x1f\x8b"):
        compression: str | None = "gzip"
    elif head.startswith(b"BZh"):
        compression = "bzip2"
    else:
        compression = None
    text = _decompressed_head(head, compression, name, what).lstrip()
    if not text:
        if whole:
            raise ValueError(f"{what}: {name!r} holds no sequences (empty after decompression)")
        raise ValueError(f"{what}: {name!r}: no sequence record in its first {len(head)} bytes")
    if text[:1] == b">":
        return "fasta", compression
    if text[:1] == b"@":
        return "fastq", compression
    raise ValueError(
        f"{what}: {name!r} is neither FASTA (first record starts with '>') nor FASTQ ('@'); "
        f"it starts with {text[:16]!r}"
    )


def check_file(name: object, size: object, head: bytes, what: str = "source") -> SequenceFile:
    """Every rule for one file, from its name, its size in bytes and its first bytes.

    :raises TypeError, ValueError: the first rule broken, naming ``what`` and the file.
    """
    name = validate_filename(name, what)
    fmt, compression = format_of_name(name, what)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise TypeError(f"{what}: size must be a byte count, got {size!r}")
    if size == 0:
        raise ValueError(f"{what}: {name!r} is empty")
    if size > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"{what}: {name!r} is {size / 1000**3:.1f} GB; One Codex takes files up to "
            f"{MAX_UPLOAD_BYTES // 1000**3} GB"
        )
    found_fmt, found_compression = sniff(head, name, what, whole=len(head) >= size)
    if found_compression != compression:
        raise ValueError(
            f"{what}: {name!r} is {found_compression or 'not compressed'} but its name says "
            f"{compression or 'not compressed'}; rename it to match its content"
        )
    if found_fmt != fmt:
        raise ValueError(f"{what}: {name!r} holds {found_fmt.upper()} but its name says {fmt.upper()}")
    return SequenceFile(name, size, fmt, compression)


def order_pair(first: SequenceFile, second: SequenceFile) -> tuple[SequenceFile, SequenceFile]:
    """``(R1, R2)`` of a paired-end pair, both FASTQ.

    :raises ValueError: a FASTA file ("interleaving FASTA files is unsupported"), the same name
        twice, or names without ``_R1``/``_1`` and ``_R2``/``_2`` (``.`` or ``_`` around them).
    """
    for f in (first, second):
        if f.format != "fastq":
            raise ValueError(f"paired files must both be FASTQ; {f.name!r} is FASTA")
    if first.name == second.name:
        raise ValueError(f"source and paired_source have the same name {first.name!r}")
    if R1_RE.match(first.name) and R2_RE.match(second.name):
        return first, second
    if R2_RE.match(first.name) and R1_RE.match(second.name):
        return second, first
    raise ValueError(
        f"paired files need _R1/_1 and _R2/_2 in their names, got {first.name!r} and {second.name!r}"
    )


def choose_chunk_size(size: int) -> int:
    """Multipart part size in bytes: the smallest of 10, 20, ... 100 MiB giving fewer than 10,000 parts.

    :raises ValueError: the file is too large for 10,000 parts of 100 MiB.
    """
    for chunk in CHUNK_SIZES:
        if math.ceil(size / chunk) < MAX_PARTS:
            return chunk
    raise ValueError(f"a file of {size} bytes is too large to upload in {MAX_PARTS} parts of 100 MiB")


_READ_TOKEN = re.compile(r"(?<=[._])[Rr]?([12])(?=[_.])")


def pair_run_files(names: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Group a run folder's sequence file names: ``([(R1, R2), ...], [single, ...])``, sorted.

    Two names pair when they differ only in their last R1/R2 token (``S1_R1_001.fastq.gz`` and
    ``S1_R2_001.fastq.gz``); names that are not FASTA/FASTQ by extension are left out.
    """
    groups: dict[str, dict[str, str]] = {}
    singles = []
    for name in sorted(names):
        try:
            format_of_name(name)
        except ValueError:
            continue
        tokens = list(_READ_TOKEN.finditer(name))
        if not tokens:
            singles.append(name)
            continue
        last = tokens[-1]
        key = name[: last.start()] + "#" + name[last.end() :]
        groups.setdefault(key, {})[last.group(1)] = name
    pairs = []
    for group in groups.values():
        if set(group) == {"1", "2"}:
            pairs.append((group["1"], group["2"]))
        else:
            singles += group.values()
    return sorted(pairs), sorted(singles)


def sample_key(name: str) -> str:
    """The sample part of a read file's name: ``S1_R1_001.fastq.gz`` -> ``S1``."""
    tokens = list(_READ_TOKEN.finditer(name))
    stem = name[: tokens[-1].start() - 1] if tokens else name.split(".", 1)[0]
    return stem or name
