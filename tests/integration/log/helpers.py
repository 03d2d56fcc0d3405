"""Helpers for log tests: append synthetic events through the real unit of work."""

from __future__ import annotations

from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.transaction import transaction


def append_events(
    container: Container,
    count: int,
    *,
    org: str = "vt-rr",
    source: str | None = None,
    person: str = "lp_test",
) -> None:
    """Append ``count`` query events in one transaction."""
    with transaction(container.engine, container.log) as session:
        for number in range(count):
            parties = (org,) + ((source,) if source else ())
            record(
                session,
                LogEvent(
                    event_type=EventType.QUERY,
                    outcome="no_hit",
                    org_id=org,
                    user_id=f"user-{number % 3}",
                    role="professional",
                    purpose="safety_assessment",
                    persons=(person,),
                    parties=parties,
                    details={"n": number},
                ),
            )
