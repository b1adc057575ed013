"""The provider refuses metadata values outside One Codex's enumerations before any request."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.metadata import validate_metadata_fields
from airflow_provider_onecodex.api.metadata_values import METADATA_ENUMS


@pytest.mark.parametrize(
    ("field", "value"), [("platform", "Illumina NextSeq 2000"), ("library_type", "RNA-Seq"), ("sample_type", 7)]
)
def test_values_outside_the_enumerations_are_refused(field, value):
    with pytest.raises(ValueError, match=rf"fields\['{field}'\] must be one of .* got {value!r}"):
        validate_metadata_fields({field: value})


def test_enumerated_values_and_null_are_sent():
    fields = {"platform": "Oxford Nanopore MinION", "library_type": None, "sample_type": "Metagenomic"}
    assert validate_metadata_fields(fields) == fields
    assert all(values[-1] == "Other" for values in METADATA_ENUMS.values())
