"""Tables of subject-access reports and erasure requests; persons only as log pseudonyms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel


class SubjectAccessReport(SQLModel, table=True):
    """A produced report, encrypted with its row bound as AAD; only its producer reads it."""

    __tablename__ = "subject_access_report"

    id: str = Field(primary_key=True, max_length=32)
    org_id: str = Field(max_length=64, index=True)
    requested_by: str = Field(max_length=128)
    person_key: str = Field(max_length=80, index=True)
    scope: str = Field(max_length=20)
    verification_method: str = Field(max_length=40)
    created_at: datetime
    report_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ErasureRequest(SQLModel, table=True):
    """A request to erase, held for review with its safety check; nothing is erased by it."""

    __tablename__ = "erasure_request"

    id: str = Field(primary_key=True, max_length=32)
    org_id: str = Field(max_length=64, index=True)
    requested_by: str = Field(max_length=128)
    person_key: str = Field(max_length=80, index=True)
    verification_method: str = Field(max_length=40)
    status: str = Field(max_length=20, index=True)
    safety_flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    # The matching pseudonym, so the decision can find the organisation's own signals.
    subject_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    request_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=128)
    decision_note_enc: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    withdrawn_signals: int = 0
