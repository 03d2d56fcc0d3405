"""BSN validation and the canonical encoding of identifiers."""

from __future__ import annotations

import datetime
import re

import pytest

from keys import (
    BsnIdentifier,
    InvalidIdentifier,
    NameIdentifier,
    canonical_bytes,
    is_valid_bsn,
    parse_bsn,
)

VALID = ["123456782", "111222333", "999999990"]


@pytest.mark.parametrize("bsn", VALID)
def test_valid_bsns_pass_the_11_proef(bsn: str) -> None:
    assert is_valid_bsn(bsn)


def test_eight_digits_are_left_padded() -> None:
    assert is_valid_bsn("10000008")
    assert BsnIdentifier("10000008").bsn == "010000008"


@pytest.mark.parametrize(
    "value",
    [
        "123456783",  # checksum off by one
        "000000000",  # passes the sum, but is not a number anyone has
        "00000000",
        "1234567",
        "1234567820",
        "12345678a",
        " 123456782",
        "",
        "١٢٣٤٥٦٧٨٢",  # Arabic-Indic digits are digits to str.isdigit, not to the BRP
    ],
)
def test_invalid_bsns_are_rejected(value: str) -> None:
    assert not is_valid_bsn(value)


def test_parse_bsn_accepts_typed_separators() -> None:
    assert parse_bsn(" 1234.56.782 ") == parse_bsn("123 456 782") == BsnIdentifier("123456782")


def test_invalid_bsn_error_does_not_echo_the_value() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_bsn("123456783")
    assert "123456783" not in str(caught.value)
    assert re.search(r"\d{3}", str(caught.value)) is None


def test_repr_hides_the_bsn_and_the_name() -> None:
    name = NameIdentifier("de Vries", "Anna", datetime.date(1990, 5, 17))
    assert "123456782" not in repr(BsnIdentifier("123456782"))
    assert "vries" not in repr(name).lower()
    assert "1990" not in repr(name)


def test_canonical_bytes_are_domain_separated() -> None:
    assert canonical_bytes(BsnIdentifier("123456782")) == b"bsn:123456782"
    name = NameIdentifier("Van der Berg", "Jan Willem", datetime.date(1984, 2, 29))
    assert canonical_bytes(name) == b"name:berg\x1fjan willem\x1f1984-02-29"


@pytest.mark.parametrize(
    ("family", "given"),
    [("", "Anna"), ("--", "Anna"), ("Jansen", ""), ("Jansen", " - ")],
)
def test_names_without_letters_are_rejected(family: str, given: str) -> None:
    with pytest.raises(InvalidIdentifier):
        NameIdentifier(family, given, datetime.date(1990, 1, 1))


def test_birth_date_must_be_a_plain_date() -> None:
    with pytest.raises(InvalidIdentifier):
        NameIdentifier("Jansen", "Anna", datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC))
