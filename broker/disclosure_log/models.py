"""Tables of the disclosure log: entries, who may see them, whom they concern, tree nodes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, Text
from sqlmodel import Field, SQLModel


class LogHead(SQLModel, table=True):
    """The single row whose lock serialises appends, so the sequence has no gaps or forks."""

    __tablename__ = "log_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class LogEntry(SQLModel, table=True):
    """One event. ``body`` is the canonical JSON that was hashed; columns are for search."""

    __tablename__ = "log_entry"

    index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    created_at: datetime = Field(index=True)
    event_type: str = Field(max_length=40, index=True)
    outcome: str = Field(max_length=40)
    org_id: str | None = Field(default=None, max_length=64, index=True)
    user_id: str | None = Field(default=None, max_length=128)
    purpose: str | None = Field(default=None, max_length=64)
    legal_basis: str | None = Field(default=None, max_length=40)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    redacted_at: datetime | None = None


class LogParty(SQLModel, table=True):
    """An organisation that may see an entry (the requester and the sources)."""

    __tablename__ = "log_party"

    entry_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    org_id: str = Field(primary_key=True, max_length=64, index=True)


class LogPerson(SQLModel, table=True):
    """A person an entry concerns, as a log-domain pseudonym (never an identifier)."""

    __tablename__ = "log_person"

    entry_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    pseudonym: str = Field(primary_key=True, max_length=80, index=True)


class LogNode(SQLModel, table=True):
    """The hash of one complete subtree of the RFC 9162 tree."""

    __tablename__ = "log_node"

    level: int = Field(primary_key=True)
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LogCheckpoint(SQLModel, table=True):
    """A signed tree head in the C2SP checkpoint note format."""

    __tablename__ = "log_checkpoint"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(index=True)


class LogQueue(SQLModel, table=True):
    """An event committed with its request and not yet integrated into the tree.

    ``body`` is the canonical entry body without its index, which the integrator assigns.
    Rows live for a fraction of a second; ``broker log verify`` reports any that wait.
    """

    __tablename__ = "log_queue"

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    queued_at: datetime
    body: str = Field(sa_column=Column(Text, nullable=False))
