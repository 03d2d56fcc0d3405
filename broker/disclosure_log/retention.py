"""Retention: after the period, an entry's body is redacted and its leaf hash kept."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from broker.disclosure_log.models import LogEntry, LogPerson


def redact_expired(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Drop bodies and person links of entries older than ``retention``; return how many."""
    cutoff = now - retention
    expired = select(LogEntry.index).where(
        col(LogEntry.created_at) < cutoff, col(LogEntry.body).is_not(None)
    )
    indices = list(session.exec(expired).all())
    if not indices:
        return 0
    session.execute(delete(LogPerson).where(col(LogPerson.entry_index).in_(indices)))
    session.execute(
        update(LogEntry)
        .where(col(LogEntry.index).in_(indices))
        .values(body=None, user_id=None, purpose=None, legal_basis=None, redacted_at=now)
    )
    return len(indices)
