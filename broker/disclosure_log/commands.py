"""``broker log verify | checkpoint | redact``."""

from __future__ import annotations

import sys
from datetime import timedelta

from sqlmodel import Session

from broker.container import build_container
from broker.db import unit_of_work
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.retention import redact_expired
from broker.disclosure_log.sequencer import pending
from broker.disclosure_log.service import b64
from broker.disclosure_log.verify import verify_log
from broker.settings import Settings


def run_log_command(action: str, settings: Settings, *, workers: int | None = None) -> int:
    """Run one log command; exit code 1 when verification finds a problem.

    ``workers`` is the number of processes ``verify`` checks entries in (default: one per
    CPU once the log is large enough to gain from it).
    """
    container = build_container(settings)
    try:
        if action == "verify":
            # Fold every committed event into the tree first, so the check covers it; events
            # committed while it runs are counted as queued, never silently left out.
            container.log.catch_up()
            with Session(container.engine) as session:
                report = verify_log(
                    session,
                    verifier_keys=container.log.verifier_keys(),
                    origin=settings.log_origin,
                    workers=workers,
                )
                waiting = pending(session)
            print(
                f"entries: {report.entries}, checkpoints: {report.checkpoints}, "
                f"nodes: {report.nodes}, queued (committed since, not yet in the tree): {waiting}"
            )
            if report.ok:
                print("log verified: every entry, node and checkpoint is consistent")
                return 0
            print(f"FIRST BAD ENTRY: {report.first_bad}", file=sys.stderr)
            for problem in report.problems[:20]:
                print(f"  {problem}", file=sys.stderr)
            return 1
        with unit_of_work(container.engine) as session:
            if action == "checkpoint":
                head = container.log.checkpoint(session)
                print(f"checkpoint at size {head.size}, root {b64(head.root)}")
                print(head.note, end="")
                return 0
            retention = timedelta(days=settings.log_retention_days)
            count = redact_expired(session, now=container.clock.now(), retention=retention)
            container.log.append(
                session,
                [LogEvent.system(EventType.PURGE, "success", details={"redacted_entries": count})],
            )
            print(f"redacted {count} entries older than {settings.log_retention_days} days")
            return 0
    finally:
        container.close()
