"""Expiry: ended signals leave only a tombstone, which itself goes after five years."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete
from sqlmodel import Session, col, select

from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.signals.models import Signal, SignalPerson, SignalTombstone
from broker.signals.service import _tombstone

BATCH = 1000


def purge_expired(session: Session, container: Container, *, now: datetime) -> tuple[int, int]:
    """Delete expired or withdrawn signals (tombstoned) and old tombstones; return counts."""
    # Two index look-ups rather than one OR, which no index serves (a scan of every signal).
    ended = list(session.exec(select(Signal).where(col(Signal.expires_at) <= now).limit(BATCH)))
    if len(ended) < BATCH:
        ended += session.exec(
            select(Signal)
            .where(col(Signal.withdrawn_at).is_not(None), col(Signal.expires_at) > now)
            .limit(BATCH - len(ended))
        )
    for signal in ended:
        _tombstone(session, container, signal, ended=signal.withdrawn_at or signal.expires_at)
    ids = [signal.id for signal in ended]
    if ids:
        session.execute(delete(SignalPerson).where(col(SignalPerson.signal_id).in_(ids)))
        session.execute(delete(Signal).where(col(Signal.id).in_(ids)))
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(SignalTombstone).where(col(SignalTombstone.purge_after) <= now)
    )
    old = result.rowcount
    if ids or old:
        record(
            session,
            LogEvent.system(
                EventType.PURGE, "success", details={"signals": len(ids), "tombstones": int(old)}
            ),
        )
    return len(ids), int(old)
