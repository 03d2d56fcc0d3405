"""Shapes of log entries, proofs and checkpoints as served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from broker.disclosure_log.models import LogEntry
from broker.disclosure_log.service import b64, body_of
from broker.persons import PersonRef


class LogEntryPublic(BaseModel):
    """One log entry as a privacy officer sees it."""

    index: int
    time: datetime
    event_type: str
    outcome: str
    leaf_hash: str
    redacted: bool
    body: dict[str, Any] | None

    @classmethod
    def of(cls, entry: LogEntry) -> LogEntryPublic:
        """From a row."""
        return cls(
            index=entry.index,
            time=entry.created_at,
            event_type=entry.event_type,
            outcome=entry.outcome,
            leaf_hash=b64(entry.leaf_hash),
            redacted=entry.body is None,
            body=body_of(entry),
        )


class LogPage(BaseModel):
    """A page of entries."""

    items: list[LogEntryPublic]
    total: int
    offset: int
    limit: int


class PersonSearch(BaseModel):
    """A search by person: the identifier goes in the body, never in a URL."""

    person: PersonRef
    event_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    offset: int = Field(default=0, ge=0, le=2**62)
    limit: int = Field(default=50, ge=1, le=500)


class CheckpointPublic(BaseModel):
    """A signed tree head; ``note`` is the C2SP checkpoint text."""

    size: int
    root_hash: str
    note: str
    verifier_keys: list[str]


class InclusionProofPublic(BaseModel):
    """RFC 9162 inclusion proof of one entry in the tree of ``tree_size`` entries."""

    index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]
    checkpoint: str | None


class ConsistencyProofPublic(BaseModel):
    """RFC 9162 consistency proof between two tree sizes."""

    old_size: int
    new_size: int
    proof: list[str]


class WeeklyStatistics(BaseModel):
    """Counts per ISO week."""

    weeks: list[dict[str, Any]]
