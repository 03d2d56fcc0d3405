"""Facts this process wrote and saw commit, so that repeating them costs no statements.

Some writes are no-ops when repeated: a much-asked family is asked about many times a day
by the same organisations, and each later sighting would find the match, join parties
already joined and claim notices already claimed; a fishing pattern that has crossed its
threshold would look up the same alert on every further query of the window. A ``Memo``
remembers, per process, what such a write produced, so the caller can skip it.

It only ever skips writes that would change nothing: entries are added after the
transaction that wrote them committed (a rolled-back write is not remembered), the rows
are never deleted, and each key holds everything the write depends on. Another process
that has not seen the fact writes as before; the database's unique keys keep both right.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Committed facts by key, bounded: the least recently added go first."""

    def __init__(self, name: str, *, capacity: int = 200_000) -> None:
        self._pending_key = f"memo.{name}.pending"
        self._capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value written under ``key``, or None if this process has not seen it commit."""
        with self._lock:
            return self._entries.get(key)

    def add_after_commit(self, session: Session, items: Iterable[tuple[K, V]]) -> None:
        """Remember ``items`` once (and only if) the session's transaction commits."""
        pending: list[tuple[K, V]] | None = session.info.get(self._pending_key)
        if pending is None:
            pending = session.info[self._pending_key] = []
            event.listen(session, "after_commit", self._committed, once=True)
            event.listen(session, "after_rollback", self._rolled_back, once=True)
        pending.extend(items)

    def clear(self) -> None:
        """Forget everything (after the tables were emptied, in tests)."""
        with self._lock:
            self._entries.clear()

    def _committed(self, session: Session) -> None:
        items: list[tuple[K, V]] = session.info.pop(self._pending_key, [])
        with self._lock:
            for key, value in items:
                self._entries[key] = value
                self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def _rolled_back(self, session: Session) -> None:
        session.info.pop(self._pending_key, None)
