"""Fictional people used throughout the suite.

Every BSN here passes the 11-proef but belongs to nobody we know of; the privacy scan
(tests/privacy) looks for each of them, and their normalised names, in everything the
suite wrote to disk.
"""

from __future__ import annotations


def eleven_check(digits: str) -> bool:
    """The 11-proef, independently of the broker's own implementation."""
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    return (
        len(digits) == 9 and sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0
    )


def _valid_bsns(start: int, count: int) -> list[str]:
    found: list[str] = []
    number = start
    while len(found) < count:
        digits = f"{number:09d}"
        if eleven_check(digits):
            found.append(digits)
        number += 1
    return found


# Mother, father, two children, a second family, and spares for bulk tests.
BSNS = _valid_bsns(231_456_000, 40)
MOTHER, FATHER, CHILD_1, CHILD_2, OTHER_ADULT, OTHER_CHILD, STRANGER = BSNS[:7]

NAMES = [
    {"family_name": "van der Berg", "given_names": "Annemarie Johanna", "birth_date": "1988-03-14"},
    {"family_name": "El Idrissi", "given_names": "Youssef", "birth_date": "1985-11-02"},
    {"family_name": "de Vries-Öztürk", "given_names": "Elif", "birth_date": "2015-06-30"},
]
NORMALISED_NAME_FRAGMENTS = ["annemarie johanna", "youssef", "elif", "idrissi", "ozturk"]
