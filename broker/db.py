"""Database engine and the unit of work: one session per request, commit or roll back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from broker.settings import Settings


def is_sqlite(url: str) -> bool:
    """True for the embedded default database."""
    return url.startswith("sqlite")


def build_engine(settings: Settings) -> Engine:
    """Create the engine for the configured database."""
    url = settings.resolved_database_url
    if is_sqlite(url):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # No ping before every checkout (a round trip on every request's hot path). A
        # connection the server dropped fails its request with 503 once; SQLAlchemy then
        # invalidates every pooled connection of that generation, so the next requests
        # reconnect. Recycling bounds how long an idle connection is trusted.
        pool_pre_ping=False,
        pool_recycle=600,
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while the single writer appends; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A transaction that commits when the block succeeds and rolls back otherwise."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
