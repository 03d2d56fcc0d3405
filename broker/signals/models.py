"""Tables of signals. Persons are stored only as index tokens and encrypted pseudonyms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, text
from sqlmodel import Field, SQLModel


class Signal(SQLModel, table=True):
    """One registration; payload and contact are encrypted with the row bound as AAD."""

    __tablename__ = "signal"
    # The purge finds withdrawn signals through this partial index: few rows, and no scan of
    # every signal (an OR with the expiry made it one: 0.1 s at 1,000,000 signals).
    __table_args__ = (
        Index(
            "ix_signal_withdrawn_at",
            "withdrawn_at",
            postgresql_where=text("withdrawn_at IS NOT NULL"),
            sqlite_where=text("withdrawn_at IS NOT NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=32)
    org_id: str = Field(foreign_key="organisation.id", max_length=64, index=True)
    category: str = Field(max_length=40)
    severity: str = Field(max_length=10)
    purpose: str = Field(max_length=40)
    desk_id: str | None = Field(default=None, max_length=64)
    shielded: bool = False
    embargo: bool = False
    created_at: datetime
    expires_at: datetime = Field(index=True)
    withdrawn_at: datetime | None = None
    payload_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    contact_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class SignalPerson(SQLModel, table=True):
    """A person in a signal: blind-index token for lookup, matching pseudonym encrypted."""

    __tablename__ = "signal_person"

    signal_id: str = Field(foreign_key="signal.id", primary_key=True, max_length=32)
    position: int = Field(primary_key=True)
    role: str = Field(max_length=10)
    index_token: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, index=True))
    # Not indexed: no query selects by version, and re-keying would have to rewrite the
    # index entry of every row (migration 0007).
    key_version: int
    y_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class SignalTombstone(SQLModel, table=True):
    """What remains of an expired or withdrawn signal for five years, as the VIR archive."""

    __tablename__ = "signal_tombstone"

    signal_id: str = Field(primary_key=True, max_length=32)
    position: int = Field(primary_key=True)
    org_id: str = Field(max_length=64, index=True)
    category: str = Field(max_length=40)
    log_pseudonym: str = Field(max_length=80, index=True)
    registered_at: datetime
    ended_at: datetime
    purge_after: datetime = Field(index=True)


class IdempotencyRecord(SQLModel, table=True):
    """A completed bulk request, so a retry with the same key is a no-op."""

    __tablename__ = "idempotency_record"

    org_id: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=128)
    request_hash: str = Field(max_length=64)
    response: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
