"""Helpers for log tests: append synthetic events through the real unit of work."""

from __future__ import annotations

from sqlalchemy import text

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


def swap_entries(container: Container, first: int, second: int) -> None:
    """Swap two entries' bodies and leaf hashes straight in the database (a reordering)."""
    with container.engine.begin() as conn:
        rows = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                text('SELECT "index", body, leaf_hash FROM log_entry WHERE "index" IN (:a, :b)'),
                {"a": first, "b": second},
            )
        }
        for index, other in ((first, second), (second, first)):
            conn.execute(
                text('UPDATE log_entry SET body = :b, leaf_hash = :h WHERE "index" = :i'),
                {"b": rows[other][0], "h": rows[other][1], "i": index},
            )
