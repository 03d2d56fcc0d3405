"""The privacy officer's view of the log: scoped to the own organisation, filtered, paged."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from broker.auth.principal import Principal
from broker.disclosure_log.models import LogEntry, LogParty, LogPerson
from broker.disclosure_log.sequencer import integrate_pending
from broker.errors import Forbidden, NotFound
from broker.types import Role


@dataclass(frozen=True)
class LogFilter:
    """Search criteria; every field optional."""

    since: datetime | None = None
    until: datetime | None = None
    organisation: str | None = None
    user: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    event_type: str | None = None
    outcome: str | None = None
    person: str | None = None  # a log-domain pseudonym, computed by the broker


def require_reviewer(principal: Principal) -> None:
    """Only privacy officers read the log; professionals see none of it."""
    if not principal.has_role(Role.PRIVACY_OFFICER):
        raise Forbidden("Only privacy officers may read the disclosure log.")


def _caught_up(session: Session) -> None:
    """Integrate every committed event first, so a reader never misses a recent one."""
    bind = session.get_bind()
    if isinstance(bind, Engine):
        integrate_pending(bind, wait=True)


def _scoped(principal: Principal, query: SelectOfScalar[LogEntry]) -> SelectOfScalar[LogEntry]:
    # An officer sees entries in which the own organisation is requester or source.
    if principal.is_broker_dpo:
        return query
    visible = select(LogParty.entry_index).where(LogParty.org_id == principal.org_id)
    return query.where(col(LogEntry.index).in_(visible))


def _filtered(query: SelectOfScalar[LogEntry], flt: LogFilter) -> SelectOfScalar[LogEntry]:
    # Build a condition only for a given value: SQLAlchemy refuses ``column >= None``.
    if flt.since is not None:
        query = query.where(col(LogEntry.created_at) >= flt.since)
    if flt.until is not None:
        query = query.where(col(LogEntry.created_at) < flt.until)
    equalities = [
        (col(LogEntry.org_id), flt.organisation),
        (col(LogEntry.user_id), flt.user),
        (col(LogEntry.purpose), flt.purpose),
        (col(LogEntry.legal_basis), flt.legal_basis),
        (col(LogEntry.event_type), flt.event_type),
        (col(LogEntry.outcome), flt.outcome),
    ]
    for column, value in equalities:
        if value is not None:
            query = query.where(column == value)
    if flt.person is not None:
        concerned = select(LogPerson.entry_index).where(LogPerson.pseudonym == flt.person)
        query = query.where(col(LogEntry.index).in_(concerned))
    return query


def search_entries(
    session: Session, principal: Principal, flt: LogFilter, *, offset: int, limit: int
) -> tuple[Sequence[LogEntry], int]:
    """One page of visible entries matching ``flt``, newest first, and the total."""
    require_reviewer(principal)
    _caught_up(session)
    base = _filtered(_scoped(principal, select(LogEntry)), flt)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    page = session.exec(base.order_by(col(LogEntry.index).desc()).offset(offset).limit(limit)).all()
    return page, int(total)


def visible_entry(session: Session, principal: Principal, index: int) -> LogEntry:
    """One entry, when the officer may see it."""
    require_reviewer(principal)
    _caught_up(session)
    entry = session.exec(
        _scoped(principal, select(LogEntry).where(col(LogEntry.index) == index))
    ).first()
    if entry is None:
        raise NotFound("No such log entry.")
    return entry


def weekly_statistics(
    session: Session, principal: Principal, *, now: datetime, weeks: int
) -> list[dict[str, object]]:
    """Counts per ISO week of event types, outcomes and legal bases."""
    require_reviewer(principal)
    _caught_up(session)
    scoped = (
        _scoped(principal, select(LogEntry))
        .where(col(LogEntry.created_at) >= now - timedelta(weeks=weeks))
        .subquery()
    )
    day = func.date(scoped.c.created_at)
    columns = (scoped.c.event_type, scoped.c.outcome, scoped.c.legal_basis)
    rows = session.execute(sa_select(day, *columns, func.count()).group_by(day, *columns)).all()
    per_week: dict[str, Counter[str]] = {}
    for on, event, outcome, basis, count in rows:
        year, week, _ = (on if isinstance(on, date) else date.fromisoformat(str(on))).isocalendar()
        counter = per_week.setdefault(f"{year}-W{week:02d}", Counter())
        counter[f"event:{event}"] += count
        counter[f"outcome:{event}:{outcome}"] += count
        if basis:
            counter[f"basis:{basis}"] += count
    return [
        {"week": week, "counts": dict(sorted(c.items()))} for week, c in sorted(per_week.items())
    ]
