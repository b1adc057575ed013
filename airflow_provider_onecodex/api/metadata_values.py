"""What One Codex accepts in each metadata field (OpenAPI ``MetadataPatchSchema``; API reference
§8.6): ``PATCH /api/v1/metadata/{id}`` answers 400 for a value of the wrong JSON type, a string over
its length limit, a latitude/longitude out of range, a date that is not a date-time, or a
``platform``, ``library_type`` or ``sample_type`` outside its enumeration (OpenAPI
``SequencingPlatform``, ``SequencingLibraryType``, ``SequencingSampleType``). Null is allowed in
every field.

Defined once, as data (:data:`METADATA_RULES`): the provider checks a change against it before any
request (``api/metadata.py``), the simulator's ``PATCH`` checks (``testing/metadata_rules.py``) take
the same rules with logic of their own, and the OpenAPI conformance test
(``tests/testing/test_openapi_conformance.py``) checks every rule against the OpenAPI file, so a
mistake here fails that test rather than being reproduced unnoticed by the simulator."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True)
class FieldRule:
    """What one metadata field takes besides null, in the OpenAPI file's terms.

    :param type: the JSON type: ``"string"``, ``"number"``, ``"boolean"`` or ``"object"`` (flat:
        non-empty names to :data:`CUSTOM_VALUES`).
    :param max_length: most characters of a string (``external_sample_id``: "Up to 60 characters").
    :param minimum, maximum: bounds of a number, inclusive.
    :param format: ``"date-time"``: an RFC 3339 date-time string.
    :param enum: the only strings allowed.
    """

    type: str
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    format: str | None = None
    enum: tuple[str, ...] | None = None

    def describe(self) -> str:
        """The rule in words, for error messages: ``"a number from -90 to 90 or null"``."""
        if self.enum is not None:
            return f"one of {list(self.enum)} or null"
        if self.format == "date-time":
            return "an RFC 3339 date-time string (e.g. '2026-04-01T09:30:00+00:00') or null"
        if self.max_length is not None:
            return f"a string of at most {self.max_length} characters or null"
        if self.minimum is not None:
            return f"a number from {self.minimum:g} to {self.maximum:g} or null"
        return {"boolean": "True or False (or null)", "object": _FLAT_DICT}.get(
            self.type, f"a {self.type} or null"
        )


_FLAT_DICT = "a flat dict (names to strings, numbers, booleans or null) or null"
_TEXT = FieldRule("string")
_DATE_TIME = FieldRule("string", format="date-time")
#: what ``custom`` may hold: "a depth of one", "strings, numbers, boolean, and null values"
CUSTOM_VALUES = (str, int, float, bool, type(None))
#: fields of the record a PATCH must not name (``sample`` "will 400")
READ_ONLY_FIELDS = ("$uri", "sample", "updated_at")
#: every field a metadata PATCH may name
METADATA_RULES: dict[str, FieldRule] = {
    "custom": FieldRule("object"),
    "date_collected": _DATE_TIME,
    "date_sequenced": _DATE_TIME,
    "description": _TEXT,
    "external_sample_id": FieldRule("string", max_length=60),
    "library_type": FieldRule("string", enum=LIBRARY_TYPES),
    "location_lat": FieldRule("number", minimum=-90, maximum=90),
    "location_lon": FieldRule("number", minimum=-180, maximum=180),
    "location_string": FieldRule("string", max_length=255),
    "name": FieldRule("string", max_length=255),
    "platform": FieldRule("string", enum=PLATFORMS),
    "sample_type": FieldRule("string", enum=SAMPLE_TYPES),
    "starred": FieldRule("boolean"),
}
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (Mapping,),
}


# a date AND a time (fromisoformat alone takes "2026-04-01", "20260401", "2026-W14-3")
_DATE_TIME_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?")


def _is_date_time(text: str) -> bool:
    if not _DATE_TIME_SHAPE.fullmatch(text):
        return False
    try:  # "Z" is read by fromisoformat from Python 3.11 on only
        datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except ValueError:
        return False
    return True


def _refusal(rule: FieldRule, value: Any) -> type[Exception] | None:
    """The error a non-null ``value`` breaking ``rule`` raises, or ``None`` when it keeps it."""
    if rule.enum is not None:  # the allowed values say more than "must be a string"
        return None if value in rule.enum else ValueError
    typed = isinstance(value, _JSON_TYPES[rule.type])  # a flag, not a narrowing: value stays Any
    if not typed or (rule.type == "number" and isinstance(value, bool)):
        return TypeError
    if rule.type == "object" and not all(isinstance(k, str) and k for k in value):
        return TypeError
    if rule.type == "object" and not all(isinstance(v, CUSTOM_VALUES) for v in value.values()):
        return TypeError  # nested: "it must have a depth of one"
    if rule.max_length is not None and len(value) > rule.max_length:
        return ValueError
    if rule.minimum is not None and rule.maximum is not None and not rule.minimum <= value <= rule.maximum:
        return ValueError  # NaN too: it is in no range
    if rule.format == "date-time" and not _is_date_time(value):
        return ValueError
    return None


def check_values(fields: Mapping[str, Any], name: str = "fields") -> None:
    """Raise, naming the field, its rule and the value, when a value of a metadata change breaks
    its field's rule in :data:`METADATA_RULES` (null always passes; unknown fields are the
    caller's to refuse).

    :raises TypeError: the wrong JSON type (``{"name": 5}``, ``{"starred": "yes"}``).
    :raises ValueError: outside its enumeration, over its length, out of its range, or not a
        date-time (``{"location_lat": 200}``, ``{"date_collected": "yesterday"}``).
    """
    for field, value in fields.items():
        rule = METADATA_RULES.get(field)
        if rule is None or value is None or (error := _refusal(rule, value)) is None:
            continue
        too_long = rule.max_length is not None and isinstance(value, str) and len(value) > rule.max_length
        got = f"{len(value)} characters" if too_long else repr(value)
        raise error(f"{name}[{field!r}] must be {rule.describe()}, got {got}")
