"""Dutch name variants that must give one matching key, and near-misses that must not."""

from __future__ import annotations

import datetime

import pytest

from keys import NameIdentifier, canonical_bytes
from keys.names import normalise_family_name, normalise_given_names

# Look-alike characters (curly apostrophes, dotless i, en dash) are deliberate: RUF001 is off.
FAMILY_VARIANTS = [
    (
        "berg",
        [
            "Van der Berg",
            "van der berg",
            "Berg, van der",
            "vanderBerg",
            "Berg v.d.",
            "v/d Berg",
            "VAN DER BERG",
            "van  der   Berg",
            "VanDerBerg",
        ],
    ),
    ("hart", ["'t Hart", "’t Hart", "T Hart", "Hart, 't", "'T HART"]),  # noqa: RUF001
    ("hondt", ["d'Hondt", "D’Hondt", "d' Hondt", "Hondt, d'"]),  # noqa: RUF001
    ("veld", ["in 't Veld", "In t Veld", "Veld, in 't"]),
    ("hof", ["van 't Hof", "Van't Hof", "Hof, van 't"]),
    (
        "ijsselstein",
        ["IJsselstein", "Ĳsselstein", "ijsselstein", "van IJsselstein", "VanIJsselstein"],
    ),
    ("unal", ["Ünal", "Unal", "ÜNAL", "U\u0308nal"]),  # precomposed and combining diaeresis
    ("celik", ["Çelik", "Celik", "ÇELİK"]),
    ("muller", ["Müller", "Muller", "MÜLLER"]),
    ("yildiz", ["Yıldız", "Yildiz", "YILDIZ"]),  # noqa: RUF001
    ("strauss", ["Strauß", "Strauss"]),
    ("overgaard", ["Øvergaard", "Overgaard"]),
    ("aerts", ["Ærts", "Aerts"]),
    ("nguyen", ["Nguyễn", "Nguyen"]),
    (
        "jansenvries",
        [
            "Jansen-de Vries",
            "Jansen - De Vries",
            "Jansen de Vries",
            "jansen-deVries",
            "Jansen–de Vries",  # noqa: RUF001
        ],
    ),
    ("cruz", ["De La Cruz", "de la Cruz", "Dela Cruz", "Cruz, de la"]),
    ("horst", ["ter Horst", "Ter Horst", "Horst, ter"]),
    ("obrien", ["O'Brien", "OBrien", "O Brien"]),
    ("bossche", ["van den Bossche", "Vanden Bossche", "Bossche, van den"]),
    ("le", ["Le", "le", "LE"]),  # a name made only of a prefix keeps it
]


@pytest.mark.parametrize(("expected", "variants"), FAMILY_VARIANTS)
def test_family_name_variants_normalise_the_same(expected: str, variants: list[str]) -> None:
    assert {normalise_family_name(variant) for variant in variants} == {expected}


@pytest.mark.parametrize("variant", [v for _, variants in FAMILY_VARIANTS for v in variants])
def test_normalisation_is_idempotent(variant: str) -> None:
    once = normalise_family_name(variant)
    assert normalise_family_name(once) == once


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Berg", "Bergen"),
        ("Jansen", "Janssen"),
        ("de Bruijn", "de Bruyn"),
        ("Jansen-de Vries", "de Vries-Jansen"),
        ("Bakker", "Backer"),
    ],
)
def test_different_family_names_stay_different(left: str, right: str) -> None:
    assert normalise_family_name(left) != normalise_family_name(right)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jan-Willem", "jan willem"),
        ("Jan  Willem", "jan willem"),
        ("JOSÉ MARÍA", "jose maria"),
        ("Ömer Faruk", "omer faruk"),
        ("Anna Maria Johanna", "anna maria johanna"),
        ("Zoë", "zoe"),
    ],
)
def test_given_names_are_folded_and_kept_in_order(raw: str, expected: str) -> None:
    assert normalise_given_names(raw) == expected


def test_given_name_order_matters() -> None:
    assert normalise_given_names("Jan Pieter") != normalise_given_names("Pieter Jan")


def test_name_identifiers_of_variants_encode_identically() -> None:
    born = datetime.date(1979, 11, 3)
    first = NameIdentifier("Berg, van der", "Jan-Willem", born)
    second = NameIdentifier("vanderBerg", "jan willem", born)
    assert first == second
    assert canonical_bytes(first) == canonical_bytes(second)
    assert canonical_bytes(first) != canonical_bytes(
        NameIdentifier("van der Berg", "Jan Willem", datetime.date(1979, 11, 4))
    )
