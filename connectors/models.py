"""What a connector sends: signals about persons, before pseudonymisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from keys import BsnIdentifier, NameIdentifier, PersonIdentifier


class Severity(StrEnum):
    """How serious the registering organisation judges the situation (as the broker has it)."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    ACUTE = "acute"


class Role(StrEnum):
    """A person's role in a signal."""

    VICTIM = "victim"
    SUSPECT = "suspect"
    CHILD = "child"
    OTHER = "other"


@dataclass(frozen=True)
class Person:
    """One person in a signal: an identifier (never shown in repr) and a role."""

    identifier: PersonIdentifier
    role: Role

    def plain(self) -> dict[str, str]:
        """The identifier as the broker's plain path takes it."""
        return plain_identifier(self.identifier)


@dataclass(frozen=True)
class SignalDraft:
    """A registration as a connector builds it; identifiers are pseudonymised on sending."""

    category: str
    persons: tuple[Person, ...]
    severity: Severity = Severity.NONE
    payload: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None
    desk: str | None = None
    shielded: bool = False
    embargo: bool = False
    purpose: str = "registration"

    def body(self, persons: list[dict[str, Any]]) -> dict[str, Any]:
        """The JSON item for the broker, with ``persons`` already in wire form."""
        item: dict[str, Any] = {
            "purpose": self.purpose,
            "category": self.category,
            "severity": self.severity.value,
            "persons": persons,
            "payload": self.payload,
        }
        if self.expires_at is not None:
            item["expires_at"] = self.expires_at.isoformat()
        if self.desk is not None:
            item["desk"] = self.desk
        if self.shielded:
            item["shielded"] = True
        if self.embargo:
            item["embargo"] = True
        return item

    def canonical(self) -> dict[str, Any]:
        """The draft with plain identifiers, for content hashing only (never sent as is)."""
        return self.body([{"person": p.plain(), "role": p.role.value} for p in self.persons])


@dataclass(frozen=True)
class Registered:
    """What the broker answered to one or more bulk registrations."""

    created: int
    ids: tuple[str, ...]
    matches: int


def plain_identifier(identifier: PersonIdentifier) -> dict[str, str]:
    """The broker's plain form of an identifier (normalised names, ISO birth date)."""
    if isinstance(identifier, BsnIdentifier):
        return {"bsn": identifier.bsn}
    assert isinstance(identifier, NameIdentifier)
    return {
        "family_name": identifier.family_name,
        "given_names": identifier.given_names,
        "birth_date": identifier.birth_date.isoformat(),
    }
