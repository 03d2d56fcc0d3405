"""The unit of work with the disclosure log folded in.

Events that a use case records are appended in the same transaction as its data, just
before the commit, so the log and the data cannot disagree. Refusals must be on the record
even though the request's changes are rolled back: events marked ``survives_rollback`` are
appended in a transaction of their own after the rollback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session

from broker.db import unit_of_work
from broker.disclosure_log.service import DisclosureLog, take_pending


@contextmanager
def transaction(engine: Engine, log: DisclosureLog) -> Iterator[Session]:
    """Commit data and its log entries together, or roll back and keep only the refusals."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        log.append(session, take_pending(session))
        session.commit()
    except BaseException:
        survivors = [event for event in take_pending(session) if event.survives_rollback]
        session.rollback()
        if survivors:
            with unit_of_work(engine) as audit_session:
                log.append(audit_session, survivors)
        raise
    finally:
        session.close()
