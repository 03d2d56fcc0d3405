"""Queries of the disclosure log tables; the SQL side of the Merkle ``NodeReader`` port."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Table, insert, text, tuple_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from broker.disclosure_log.models import (
    LogCheckpoint,
    LogEntry,
    LogHead,
    LogNode,
    LogParty,
    LogPerson,
)
from broker.ledger import Node, NodeKey

_IN_CHUNK = 400
_PG_NODES = text(
    "SELECT n.level, n.idx, n.hash FROM unnest(CAST(:levels AS integer[]),"
    " CAST(:idxs AS bigint[])) AS k(level, idx)"
    " JOIN log_node AS n ON n.level = k.level AND n.idx = k.idx"
)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """The stored columns of one entry, read without the ORM (verify reads millions)."""

    index: int
    event_type: str
    outcome: str
    org_id: str | None
    user_id: str | None
    purpose: str | None
    legal_basis: str | None
    body: str | None
    leaf_hash: bytes
    redacted_at: datetime | None


class NodeStore:
    """Complete-subtree hashes in ``log_node``; one query per batch of keys."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Stored hashes of the requested nodes."""
        found: dict[NodeKey, bytes] = {}
        unique = list(dict.fromkeys(keys))
        if unique and self._session.get_bind().dialect.name == "postgresql":
            # Two arrays joined against the primary key: one plan whatever the key count,
            # about half the time of a row-value IN list at proof sizes.
            rows = self._session.execute(
                _PG_NODES,
                {"levels": [level for level, _ in unique], "idxs": [idx for _, idx in unique]},
            )
            return {(level, idx): digest for level, idx, digest in rows}
        node = table_of(LogNode)
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start : start + _IN_CHUNK]
            rows = self._session.execute(
                sa_select(node.c.level, node.c.idx, node.c.hash).where(
                    tuple_(node.c.level, node.c.idx).in_(chunk)
                )
            )
            found.update({(level, idx): digest for level, idx, digest in rows})
        return found

    def put(self, nodes: Iterable[Node]) -> None:
        """Insert new complete nodes in one statement (COPY on PostgreSQL)."""
        rows = [{"level": n.level, "idx": n.index, "hash": n.hash} for n in nodes]
        insert_rows(self._session, LogNode, rows)


def insert_rows(session: Session, model: type[SQLModel], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into the model's table in the transaction.

    On PostgreSQL through COPY: the integrator writes thousands of entry, party, person and
    node rows per batch, and COPY costs a fraction of the per-row statements of an
    executemany, on the client and on the server. Elsewhere one executemany.
    """
    if not rows:
        return
    table = table_of(model)
    driver = session.connection().connection.driver_connection
    if not isinstance(driver, psycopg.Connection):  # SQLite, or another driver
        session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row([row[name] for name in columns])


class LogRepository:
    """Entries, the head and checkpoints."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def reserve(self, count: int) -> int:
        """Lock the head row, move it on by ``count`` and return the size before.

        One UPDATE ... RETURNING takes the row lock on PostgreSQL (the write lock on SQLite)
        and reads the size under it, so concurrent appenders queue instead of forking.
        """
        head = table_of(LogHead)
        moved = self._session.execute(
            update(head)
            .where(head.c.id == 1)
            .values(size=head.c.size + count)
            .returning(head.c.size)
        ).scalar_one_or_none()
        if moved is None:
            self._session.execute(insert(head).values(id=1, size=count))
            moved = count
        # The statement bypassed the ORM: a head row loaded earlier in this session is stale.
        cached = self._session.identity_map.get(Session.identity_key(LogHead, 1))
        if cached is not None:
            self._session.expire(cached)
        return int(moved) - count

    def add_entries(
        self,
        entries: Sequence[Mapping[str, Any]],
        *,
        parties: Sequence[Mapping[str, Any]],
        persons: Sequence[Mapping[str, Any]],
    ) -> None:
        """Insert entries and their party and person links: one statement per table."""
        for model, rows in ((LogEntry, entries), (LogParty, parties), (LogPerson, persons)):
            insert_rows(self._session, model, rows)

    def size(self) -> int:
        """Current number of entries (without locking)."""
        head = self._session.get(LogHead, 1)
        return head.size if head else 0

    def entry(self, index: int) -> LogEntry | None:
        """One entry."""
        return self._session.get(LogEntry, index)

    def stream(self, *, batch: int = 5000) -> Iterator[StoredEntry]:
        """Every entry in index order, as plain values, without holding them all in memory."""
        entry = table_of(LogEntry)
        columns = [entry.c[name] for name in StoredEntry.__slots__]
        last = -1
        while True:
            rows = self._session.execute(
                sa_select(*columns).where(entry.c.index > last).order_by(entry.c.index).limit(batch)
            ).all()
            if not rows:
                return
            for row in rows:
                yield StoredEntry(*row)
            last = rows[-1][0]

    def latest_checkpoint(self) -> LogCheckpoint | None:
        """The newest signed tree head."""
        return self._session.exec(
            select(LogCheckpoint).order_by(col(LogCheckpoint.size).desc()).limit(1)
        ).first()

    def checkpoint(self, size: int) -> LogCheckpoint | None:
        """The signed tree head at ``size``."""
        return self._session.get(LogCheckpoint, size)

    def add_checkpoint(self, checkpoint: LogCheckpoint) -> LogCheckpoint:
        """Store a signed tree head unless one of that size exists; return the stored one."""
        values = checkpoint.model_dump()
        dialect = self._session.get_bind().dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._session.execute(
            insert_(table_of(LogCheckpoint)).values(values).on_conflict_do_nothing()
        )
        stored = self._session.get(LogCheckpoint, checkpoint.size)
        assert stored is not None  # inserted now, or committed by the signer that won
        return stored

    def checkpoints(self) -> Sequence[LogCheckpoint]:
        """Every checkpoint, smallest first."""
        return self._session.exec(select(LogCheckpoint).order_by(col(LogCheckpoint.size))).all()


def table_of(model: type[Any]) -> Table:
    """The Core table of a model, for statements that need none of the ORM's bookkeeping."""
    # On the append and verify paths the ORM's per-row work costs more than the round trips.
    table: Table = model.__table__
    return table
