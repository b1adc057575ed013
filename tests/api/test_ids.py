"""Ids typed by users are checked strictly; ids inside server data are taken as they come."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.ids import (
    build_uri,
    id_from_uri,
    is_valid_id,
    record_id,
    ref,
    validate_id,
    validate_ids,
)

ID_A = "0123456789abcdef"
ID_B = "a1b2c3d4e5f60718"


@pytest.mark.parametrize("value", [ID_A, ID_B, "0000000000000000", "ffffffffffffffff"])
def test_valid_ids_are_returned_unchanged(value):
    assert is_valid_id(value)
    assert validate_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        " " + ID_A,
        ID_A + " ",
        ID_A + "\n",
        ID_A.upper(),
        "0123456789ABCDEF",
        "0123456789abcdeF",
        ID_A[:15],
        ID_A + "0",
        "0123456789abcdeg",
        "0123456789abcde-",
        "0x23456789abcdef",
    ],
)
def test_bad_strings_raise_value_error_naming_argument_and_value(value):
    assert not is_valid_id(value)
    with pytest.raises(ValueError) as info:
        validate_id(value, "alignment_id")
    assert "alignment_id" in str(info.value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    "value", [None, 123, 0x0123456789ABCDEF, 1.5, b"0123456789abcdef", [ID_A], {"$ref": ID_A}]
)
def test_non_strings_raise_type_error_naming_argument_and_value(value):
    assert not is_valid_id(value)
    with pytest.raises(TypeError) as info:
        validate_id(value, "sample_id")
    assert "sample_id" in str(info.value)
    assert repr(value) in str(info.value)


def test_type_error_is_not_a_value_error():
    # Callers may catch ValueError for "bad text" only; a wrong type must stay distinguishable.
    with pytest.raises(TypeError) as info:
        validate_id(None)
    assert not isinstance(info.value, ValueError)


def test_default_name_is_id():
    with pytest.raises(ValueError, match=r"^id must be"):
        validate_id("nope")


def test_uri_accepted_only_with_resource():
    uri = f"/api/v1/alignments/{ID_A}"
    assert validate_id(uri, resource="alignments") == ID_A
    with pytest.raises(ValueError) as info:
        validate_id(uri, "alignment_id")
    assert "alignment_id" in str(info.value) and uri in str(info.value)


def test_uri_of_another_resource_is_refused():
    uri = f"/api/v1/samples/{ID_A}"
    with pytest.raises(ValueError) as info:
        validate_id(uri, "alignment_id", resource="alignments")
    message = str(info.value)
    assert "alignment_id" in message
    assert uri in message
    assert "/api/v1/alignments/" in message


@pytest.mark.parametrize(
    "uri",
    [
        f"/api/v1/alignments/{ID_A.upper()}",
        f"/api/v1/alignments/{ID_A[:15]}",
        f"/api/v1/alignments/{ID_A}/",
        f"/api/v1/alignments/{ID_A}/results",
        f"/api/v1/alignments/{ID_A}?page=2",
        "/api/v1/alignments/",
        "/api/v1/alignments",
    ],
)
def test_malformed_uris_are_refused(uri):
    with pytest.raises(ValueError, match="alignment_id"):
        validate_id(uri, "alignment_id", resource="alignments")


def test_ref_dict_accepted_only_with_resource_and_same_resource():
    assert validate_id({"$ref": f"/api/v1/samples/{ID_B}"}, resource="samples") == ID_B
    assert validate_id({"$ref": ID_B}, resource="samples") == ID_B
    with pytest.raises(TypeError, match="sample_id"):
        validate_id({"$ref": f"/api/v1/samples/{ID_B}"}, "sample_id")
    with pytest.raises(ValueError, match="sample_id"):
        validate_id({"$ref": f"/api/v1/alignments/{ID_B}"}, "sample_id", resource="samples")


@pytest.mark.parametrize(
    "value",
    [
        {"$ref": f"/api/v1/samples/{ID_B}", "name": "x"},
        {"$uri": f"/api/v1/samples/{ID_B}"},
        {},
        {"$ref": None},
    ],
)
def test_other_dicts_are_type_errors(value):
    with pytest.raises(TypeError, match="sample_id"):
        validate_id(value, "sample_id", resource="samples")


def test_validate_ids_dedupes_and_keeps_order():
    values = [ID_B, ID_A, ID_B, f"/api/v1/alignments/{ID_A}"]
    assert validate_ids(values, resource="alignments") == [ID_B, ID_A]
    assert validate_ids((ID_A,)) == [ID_A]


def test_validate_ids_names_the_bad_item():
    with pytest.raises(ValueError) as info:
        validate_ids([ID_A, "bad"], "alignment_ids")
    assert "alignment_ids[1]" in str(info.value)
    assert "'bad'" in str(info.value)
    with pytest.raises(TypeError, match=r"alignment_ids\[0\]"):
        validate_ids([None], "alignment_ids")


def test_validate_ids_rejects_empty():
    with pytest.raises(ValueError, match="alignment_ids must not be empty"):
        validate_ids([], "alignment_ids")
    with pytest.raises(ValueError):
        validate_ids(())


@pytest.mark.parametrize("values", [ID_A, ID_A.encode(), None, {ID_A}, {ID_A: 1}, 5])
def test_validate_ids_rejects_strings_and_non_sequences(values):
    with pytest.raises(TypeError, match="alignment_ids"):
        validate_ids(values, "alignment_ids")


def test_build_uri_and_ref():
    assert build_uri("alignments", ID_A) == f"/api/v1/alignments/{ID_A}"
    assert ref("samples", ID_B) == {"$ref": f"/api/v1/samples/{ID_B}"}
    assert validate_id(ref("samples", ID_B), resource="samples") == ID_B


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (f"/api/v1/alignments/{ID_A}", ID_A),
        (f"/api/v1/alignments/{ID_A}/", ID_A),
        ({"$ref": f"/api/v1/samples/{ID_B}"}, ID_B),
        ({"$uri": f"/api/v1/samples/{ID_B}"}, ID_B),
        ("/api/v1/samples/NotHex-Server-Id", "NotHex-Server-Id"),  # server data is not checked
        (None, None),
        ("", None),
        ({}, None),
        (42, None),
    ],
)
def test_id_from_uri(uri, expected):
    assert id_from_uri(uri) == expected


def test_record_id():
    assert record_id({"$uri": f"/api/v1/classifications/{ID_A}", "complete": True}) == ID_A
    assert record_id({"complete": True}) is None
