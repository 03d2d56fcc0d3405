"""The "queries without follow-up" alert: many look-ups, never any action on them.

A professional who asks about many people in a day but never registers the own
involvement, nor requests a release or files an override, may be looking out of curiosity
(DOMAIN.md: fishing, curiosity look-ups). The check reads only the disclosure log.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from broker.alerts.service import raise_alert
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.models import LogEntry
from broker.disclosure_log.service import record
from broker.transaction import transaction

KIND = "queries_without_follow_up"
QUERY_THRESHOLD = 10
WINDOW = timedelta(hours=24)
CHECK_EVERY_SECONDS = 3600.0
ANSWERED = ("hit", "no_hit")  # other query outcomes are the fishing detector's notes
FOLLOW_UPS = (
    EventType.REGISTRATION,
    EventType.RELEASE_PENDING,
    EventType.RELEASE,
    EventType.OVERRIDE,
)


def flag_queries_without_follow_up(
    session: Session, container: Container, *, now: datetime, threshold: int = QUERY_THRESHOLD
) -> int:
    """Alert per user with ``threshold`` or more queries and no follow-up in 24 hours."""
    since = now - WINDOW
    in_window = and_(col(LogEntry.created_at) >= since, col(LogEntry.created_at) <= now)
    who = (col(LogEntry.org_id), col(LogEntry.user_id))
    busy = session.execute(
        sa_select(
            *who,
            func.count(),
            func.sum(case((col(LogEntry.outcome) == "hit", 1), else_=0)),
            func.min(col(LogEntry.index)),
            func.max(col(LogEntry.index)),
        )
        .where(
            in_window,
            col(LogEntry.event_type) == EventType.QUERY.value,
            col(LogEntry.outcome).in_(ANSWERED),
            col(LogEntry.org_id).is_not(None),
            col(LogEntry.user_id).is_not(None),
        )
        .group_by(*who)
        .having(func.count() >= threshold)
    ).all()
    if not busy:
        return 0
    acted = or_(
        col(LogEntry.event_type).in_([event.value for event in FOLLOW_UPS]),
        # A release request that was refused outright was still a follow-up.
        and_(
            col(LogEntry.event_type) == EventType.REFUSAL.value,
            col(LogEntry.outcome) == "release_refused",
        ),
    )
    followed = {
        (org, user)
        for org, user in session.execute(sa_select(*who).where(in_window, acted).distinct())
    }
    # One alert per user per day: the window starts at midnight UTC before ``since``, so
    # hourly runs dedupe on it and the alert's link to the log covers every query counted.
    window = (datetime.combine(since.astimezone(UTC).date(), time.min, tzinfo=UTC), now)
    raised = 0
    for org_id, user_id, queries, hits, first, last in busy:
        if org_id is None or user_id is None or (org_id, user_id) in followed:
            continue
        details = {
            "queries": int(queries),
            "hits": int(hits or 0),
            "hours": int(WINDOW.total_seconds() // 3600),
            "first_entry": int(first),
            "last_entry": int(last),
        }
        alert = raise_alert(
            session, org_id=org_id, user_id=user_id, kind=KIND, window=window, details=details
        )
        if alert is not None:
            raised += 1
            record(
                session,
                LogEvent.system(
                    EventType.ALERT,
                    "raised",
                    parties=(org_id,),
                    details={"alert_id": alert.id, "kind": KIND, "user": user_id},
                ),
            )
    return raised


def check_queries_without_follow_up(container: Container) -> None:
    """The periodic task: one check in a transaction of its own."""
    with transaction(container.engine, container.log) as session:
        flag_queries_without_follow_up(session, container, now=container.clock.now())
