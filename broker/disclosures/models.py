"""Tables of release requests, their items, the five answers and overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel


class Disclosure(SQLModel, table=True):
    """One release request by a professional."""

    __tablename__ = "disclosure"

    id: str = Field(primary_key=True, max_length=32)
    requester_org: str = Field(max_length=64, index=True)
    requester_user: str = Field(max_length=128)
    purpose: str = Field(max_length=40)
    legal_basis: str = Field(max_length=20)
    basis_ref: str | None = Field(default=None, max_length=64)
    created_at: datetime


class DisclosureItem(SQLModel, table=True):
    """One source signal within a release: released, pending approval, refused or withheld."""

    __tablename__ = "disclosure_item"

    id: str = Field(primary_key=True, max_length=32)
    disclosure_id: str = Field(foreign_key="disclosure.id", max_length=32, index=True)
    signal_id: str = Field(max_length=32)
    source_org: str = Field(max_length=64, index=True)
    category: str = Field(max_length=40)
    status: str = Field(max_length=20, index=True)
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    content_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    reason_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=128)


class ProportionalityAnswers(SQLModel, table=True):
    """The five questions answered in writing, encrypted, so the weighing can be read back."""

    __tablename__ = "proportionality_answers"

    id: str = Field(primary_key=True, max_length=32)
    org_id: str = Field(max_length=64, index=True)
    user_id: str = Field(max_length=128)
    answers_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime


class Override(SQLModel, table=True):
    """A serious-danger override: released at once, reviewed by privacy officers afterwards."""

    __tablename__ = "override"

    id: str = Field(primary_key=True, max_length=32)
    disclosure_id: str = Field(max_length=32, index=True)
    requester_org: str = Field(max_length=64, index=True)
    requester_user: str = Field(max_length=128, index=True)
    source_orgs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    justification_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime
    deadline: datetime = Field(index=True)
    status: str = Field(max_length=20, index=True)
    reviewed_at: datetime | None = None
    reviewed_by: str | None = Field(default=None, max_length=128)
    reviewed_by_org: str | None = Field(default=None, max_length=64)
    review_note_enc: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    escalated_at: datetime | None = None
