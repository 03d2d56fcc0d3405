"""Request and response shapes of signals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from broker.persons import PersonRef


class Severity(StrEnum):
    """How serious the registering organisation judges the situation."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    ACUTE = "acute"


class PersonRole(StrEnum):
    """A person's role in a signal."""

    VICTIM = "victim"
    SUSPECT = "suspect"
    CHILD = "child"
    OTHER = "other"


class SignalPerson(BaseModel):
    """A person in a signal: an identifier and a role."""

    model_config = ConfigDict(extra="forbid")

    person: PersonRef
    role: PersonRole


class SignalCreate(BaseModel):
    """A registration of the organisation's involvement."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(default="registration", max_length=40)
    category: str = Field(max_length=40)
    severity: Severity = Severity.NONE
    persons: list[SignalPerson] = Field(min_length=1, max_length=20)
    desk: str | None = Field(default=None, max_length=64, description="Contact desk id.")
    contact_note: str | None = Field(
        default=None, max_length=500, description="Function-level contact note (encrypted)."
    )
    expires_at: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    shielded: bool = False
    embargo: bool = False


class SignalBulk(BaseModel):
    """Up to 10,000 registrations, written all or nothing."""

    model_config = ConfigDict(extra="forbid")

    items: list[SignalCreate] = Field(min_length=1, max_length=10_000)


class SignalCreated(BaseModel):
    """The id of a new signal and the matches it caused."""

    id: str
    expires_at: datetime
    matches: int


class BulkCreated(BaseModel):
    """Result of a bulk registration."""

    created: int
    ids: list[str]
    matches: int


class SignalPublic(BaseModel):
    """A signal as its registrant sees it (persons only counted, never identified)."""

    id: str
    category: str
    severity: str
    purpose: str
    desk: str | None
    shielded: bool
    embargo: bool
    persons: int
    created_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None
    payload: dict[str, Any]


class SignalList(BaseModel):
    """A page of the organisation's own signals."""

    items: list[SignalPublic]
    total: int
