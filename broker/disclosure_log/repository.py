"""Queries of the disclosure log tables; the SQL side of the Merkle ``NodeReader`` port."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from sqlalchemy import tuple_, update
from sqlmodel import Session, col, select

from broker.disclosure_log.models import LogCheckpoint, LogEntry, LogHead, LogNode
from broker.ledger import Node, NodeKey

_IN_CHUNK = 400


class NodeStore:
    """Complete-subtree hashes in ``log_node``; one query per batch of keys."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Stored hashes of the requested nodes."""
        found: dict[NodeKey, bytes] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start : start + _IN_CHUNK]
            rows = self._session.exec(
                select(LogNode.level, LogNode.idx, LogNode.hash).where(
                    tuple_(col(LogNode.level), col(LogNode.idx)).in_(chunk)
                )
            )
            found.update({(level, idx): digest for level, idx, digest in rows})
        return found

    def put(self, nodes: Iterable[Node]) -> None:
        """Stage new complete nodes."""
        self._session.add_all(LogNode(level=n.level, idx=n.index, hash=n.hash) for n in nodes)


class LogRepository:
    """Entries, the head and checkpoints."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def lock_head(self) -> int:
        """Lock the head row for this transaction and return the log size.

        The no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite
        before the size is read, so concurrent appenders queue instead of forking.
        """
        self._session.execute(update(LogHead).where(col(LogHead.id) == 1).values(size=LogHead.size))
        head = self._session.get(LogHead, 1, populate_existing=True)
        if head is None:
            head = LogHead(id=1, size=0)
            self._session.add(head)
            self._session.flush()
        return head.size

    def set_size(self, size: int) -> None:
        """Move the head after an append."""
        self._session.execute(update(LogHead).where(col(LogHead.id) == 1).values(size=size))

    def size(self) -> int:
        """Current number of entries (without locking)."""
        head = self._session.get(LogHead, 1)
        return head.size if head else 0

    def entry(self, index: int) -> LogEntry | None:
        """One entry."""
        return self._session.get(LogEntry, index)

    def stream(self, *, batch: int = 5000) -> Iterator[LogEntry]:
        """Every entry in index order, without holding them all in memory."""
        last = -1
        while True:
            rows = self._session.exec(
                select(LogEntry)
                .where(col(LogEntry.index) > last)
                .order_by(col(LogEntry.index))
                .limit(batch)
            ).all()
            if not rows:
                return
            yield from rows
            last = rows[-1].index
            self._session.expunge_all()

    def latest_checkpoint(self) -> LogCheckpoint | None:
        """The newest signed tree head."""
        return self._session.exec(
            select(LogCheckpoint).order_by(col(LogCheckpoint.size).desc()).limit(1)
        ).first()

    def checkpoint(self, size: int) -> LogCheckpoint | None:
        """The signed tree head at ``size``."""
        return self._session.get(LogCheckpoint, size)

    def checkpoints(self) -> Sequence[LogCheckpoint]:
        """Every checkpoint, smallest first."""
        return self._session.exec(select(LogCheckpoint).order_by(col(LogCheckpoint.size))).all()
