"""Person identifiers (BSN, or name plus birth date) and their canonical byte encoding."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from keys.errors import InvalidIdentifier
from keys.names import normalise_family_name, normalise_given_names

_DIGITS = re.compile(r"[0-9]{8,9}")
# Characters people type inside a BSN ("1234.56.782", "123 456 782").
_BSN_SEPARATORS = str.maketrans("", "", " .-\t")
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_ZERO_WEIGHT = sum(_WEIGHTS) * ord("0")
_UNIT_SEPARATOR = b"\x1f"


def is_valid_bsn(value: str) -> bool:
    """Return whether value is a BSN: 9 digits (or 8, left-padded with 0) passing the 11-proef."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return False
    digits = value.zfill(9)
    if digits == "000000000":
        return False
    # The weighted sum over the ASCII codes, less the weights times ord("0"): one expression
    # instead of a generator, since an import checks every BSN of every row.
    d = digits.encode("ascii")
    checksum = (
        9 * d[0] + 8 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6] + 2 * d[7] - d[8]
    ) - _ZERO_WEIGHT
    return checksum % 11 == 0


@dataclass(frozen=True)
class BsnIdentifier:
    """A citizen service number, always 9 digits; repr never shows it."""

    bsn: str = field(repr=False)

    def __post_init__(self) -> None:
        if not is_valid_bsn(self.bsn):
            raise InvalidIdentifier("bsn fails the 11-proef or is not 8 or 9 digits")
        object.__setattr__(self, "bsn", self.bsn.zfill(9))


@dataclass(frozen=True)
class NameIdentifier:
    """Family name, given names and birth date, stored in normalised form; repr shows nothing."""

    family_name: str = field(repr=False)
    given_names: str = field(repr=False)
    birth_date: datetime.date = field(repr=False)

    def __post_init__(self) -> None:
        # Normalising here makes equality mean "same matching key", whatever spelling came in.
        family = normalise_family_name(self.family_name)
        given = normalise_given_names(self.given_names)
        if not family:
            raise InvalidIdentifier("family name has no letters")
        if not given:
            raise InvalidIdentifier("given names have no letters")
        if isinstance(self.birth_date, datetime.datetime) or not isinstance(
            self.birth_date, datetime.date
        ):
            raise InvalidIdentifier("birth date must be a date")
        object.__setattr__(self, "family_name", family)
        object.__setattr__(self, "given_names", given)


PersonIdentifier = BsnIdentifier | NameIdentifier


def parse_bsn(value: str) -> BsnIdentifier:
    """Parse a BSN as typed (spaces and dots allowed); raise InvalidIdentifier if invalid."""
    return BsnIdentifier(value.strip().translate(_BSN_SEPARATORS))


def canonical_bytes(identifier: PersonIdentifier) -> bytes:
    """Return the domain-separated encoding that the OPRF is evaluated on."""
    if isinstance(identifier, BsnIdentifier):
        return b"bsn:" + identifier.bsn.encode("ascii")
    # Normalised names contain letters and spaces only, so 0x1f cannot occur inside a field.
    return _UNIT_SEPARATOR.join(
        (
            b"name:" + identifier.family_name.encode("utf-8"),
            identifier.given_names.encode("utf-8"),
            identifier.birth_date.isoformat().encode("ascii"),
        )
    )
