"""What is still stored under each key version: person rows and field ciphertexts.

A version may be retired only when nothing is left under it, anywhere: every ``*_enc``
column of the schema is counted, not only the ones re-keying knows how to re-encrypt, so a
table added later can never lose its data to a retirement.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Column, LargeBinary, func
from sqlmodel import Session, col, select

from broker.models import metadata
from broker.signals.models import SignalPerson

# keys.fields writes a format byte and the big-endian 4-byte key version before the nonce;
# tests/integration/keys pins this, so SQL can tell a blob's version without decrypting it.
FIELD_FORMAT = 1
HEADER_BYTES = 5
NONCE_PREFIX_BYTES = HEADER_BYTES + 12
_HEADER = struct.Struct(">BI")
# Versions start at 1, so 0 collects blobs whose header is not a FieldCipher header.
UNREADABLE = 0


def field_header(version: int) -> bytes:
    """The first bytes of every FieldCipher blob written under ``version``."""
    return _HEADER.pack(FIELD_FORMAT, version)


def header_version(prefix: bytes | None) -> int:
    """The key version named by a blob's first bytes; UNREADABLE if they are no header."""
    if prefix is None or len(prefix) != HEADER_BYTES:
        return UNREADABLE
    form, version = _HEADER.unpack(prefix)
    return int(version) if form == FIELD_FORMAT else UNREADABLE


def encrypted_columns() -> list[Column[bytes]]:
    """Every binary ``*_enc`` column of the schema: the fields FieldCipher encrypts."""
    return [
        column
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary) and column.name.endswith("_enc")
    ]


@dataclass(frozen=True)
class Inventory:
    """Person rows per key version, and ciphertexts per version and ``table.column``."""

    persons: dict[int, int] = field(default_factory=dict)
    ciphertexts: dict[int, dict[str, int]] = field(default_factory=dict)

    def left(self, version: int) -> int:
        """Everything still stored under ``version``."""
        return self.persons.get(version, 0) + sum(self.ciphertexts.get(version, {}).values())

    @property
    def versions(self) -> list[int]:
        """Every version something is stored under, oldest first."""
        return sorted(set(self.persons) | set(self.ciphertexts))


def take_inventory(session: Session) -> Inventory:
    """Count what each key version still holds (a few full scans; for status and retiring)."""
    version = col(SignalPerson.key_version)
    persons = {
        int(v): int(n) for v, n in session.exec(select(version, func.count()).group_by(version))
    }
    ciphertexts: dict[int, dict[str, int]] = defaultdict(dict)
    for column in encrypted_columns():
        prefix = func.substr(column, 1, HEADER_BYTES)
        rows = session.exec(
            select(prefix, func.count()).where(column.is_not(None)).group_by(prefix)
        )
        for raw, count in rows:
            number = header_version(bytes(raw) if raw is not None else None)
            where = f"{column.table.name}.{column.name}"
            ciphertexts[number][where] = ciphertexts[number].get(where, 0) + int(count)
    return Inventory(persons=persons, ciphertexts=dict(ciphertexts))
