"""Tables of the consent registry; the history is append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class Consent(SQLModel, table=True):
    """One consent (or refusal) of one person, for recipients, purposes and categories."""

    __tablename__ = "consent"

    id: str = Field(primary_key=True, max_length=32)
    subject_key: str = Field(max_length=80, index=True)
    decision: str = Field(max_length=10)
    given_by: str = Field(max_length=30)
    age_band: str = Field(max_length=10)
    recipient_orgs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recipient_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    purposes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    valid_from: datetime
    valid_until: datetime
    obtained_how: str = Field(max_length=20)
    recorded_by_org: str = Field(max_length=64, index=True)
    recorded_by_user: str = Field(max_length=128)
    created_at: datetime
    withdrawn_at: datetime | None = None


class ConsentEvent(SQLModel, table=True):
    """History: recorded, withdrawn; never updated or deleted."""

    __tablename__ = "consent_event"

    id: int | None = Field(default=None, primary_key=True)
    consent_id: str = Field(foreign_key="consent.id", max_length=32, index=True)
    subject_key: str = Field(max_length=80, index=True)
    action: str = Field(max_length=20)
    at: datetime
    by_org: str = Field(max_length=64)
    by_user: str = Field(max_length=128)
