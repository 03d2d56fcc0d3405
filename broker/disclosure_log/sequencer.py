"""The log sequencer: request transactions queue events, one integrator folds them into the tree.

A request writes its events to ``log_queue`` in its own transaction, next to its data, so
the data and its record commit together without any lock shared between requests. The
integrator takes the queued rows that have committed, gives them the next indices, writes
entries, party and person rows and the new tree nodes, moves the head and deletes the
queue rows, all in one transaction. Only one integrator runs at a time in a deployment: a
PostgreSQL advisory lock (a process lock on SQLite) elects it, and the head row lock stays
as the guard that makes a fork impossible even if two ever ran.

Each broker process runs an ``Integrator`` thread that wakes when one of its requests
commits events and polls a few times a second for events of other processes. Everything
that reads the log (search, proofs, checkpoints, verify) first drains the queue with
``integrate_pending(engine, wait=True)``, so a reader always sees every committed event.
"""

from __future__ import annotations

import json
import logging
import threading
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Text,
    any_,
    bindparam,
    delete,
    func,
    insert,
    text,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from broker.db import unit_of_work
from broker.disclosure_log.models import LogQueue
from broker.disclosure_log.repository import LogRepository, NodeStore, table_of
from broker.ledger import append_batch, canonical_json, leaf_hash

logger = logging.getLogger("broker.disclosure_log")

# One advisory lock key for the whole deployment (a stable 31-bit number from a name).
ADVISORY_KEY = zlib.crc32(b"broker.disclosure_log.integrator") & 0x7FFFFFFF
BATCH = 2000

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


# One statement for all of a request's events on PostgreSQL, in their order (the queue id
# orders them); a driver-level executemany costs a pipeline per request on the hot path.
# A single event goes in as a plain INSERT, which PostgreSQL plans more cheaply.
_ENQUEUE_PG = text(
    "INSERT INTO log_queue (queued_at, body) "
    "SELECT :at, q.body FROM unnest(:bodies) WITH ORDINALITY AS q(body, n) ORDER BY q.n"
).bindparams(bindparam("at", type_=DateTime(timezone=True)), bindparam("bodies", type_=ARRAY(Text)))
_ENQUEUE = insert(table_of(LogQueue))


def enqueue(session: Session, at: datetime, bodies: Sequence[str]) -> None:
    """Queue prepared entry bodies, all queued ``at``, in the caller's transaction."""
    if not bodies:
        return
    if len(bodies) > 1 and session.get_bind().dialect.name == "postgresql":
        session.execute(_ENQUEUE_PG, {"at": at, "bodies": list(bodies)})
    else:
        session.execute(_ENQUEUE, [{"queued_at": at, "body": body} for body in bodies])


def pending(session: Session) -> int:
    """How many committed events wait for the integrator."""
    queue = table_of(LogQueue)
    return int(session.execute(sa_select(func.count()).select_from(queue)).scalar_one())


def integrate_pending(engine: Engine, *, wait: bool = True, batch: int = BATCH) -> int:
    """Fold every committed queued event into the tree; return how many were integrated.

    With ``wait`` the call queues behind a running integrator and then drains what is left,
    so everything committed before the call is in the tree when it returns. Without it the
    call gives up at once when another integrator holds the lock: that one, or the next
    poll, picks the events up. Events queued after the call began are left to the next
    call, so a reader (a checkpoint) is never starved by a queue that keeps refilling.
    """
    total = 0
    upto = _last_queued(engine)
    if upto is None:
        return total
    while True:
        local = _process_lock(engine)
        if not local.acquire(blocking=wait):
            return total
        try:
            with unit_of_work(engine) as session:
                if not _deployment_lock(session, wait=wait):
                    return total
                moved = integrate_batch(session, limit=batch, upto=upto)
        finally:
            local.release()
        total += moved
        if moved < batch:
            return total


def integrate_batch(session: Session, *, limit: int, upto: int | None = None) -> int:
    """Integrate up to ``limit`` queued events in the caller's transaction, oldest first.

    With ``upto``, only events with a queue id up to it: those committed before the caller
    looked (a committed event always has an id at most the highest id then visible).
    """
    repo = LogRepository(session)
    # Lock the head before reading the queue: a second integrator waiting here sees the
    # queue rows this one deletes once it commits, never the same rows twice.
    size = repo.reserve(0)
    queue = table_of(LogQueue)
    oldest = sa_select(queue.c.id, queue.c.queued_at, queue.c.body)
    if upto is not None:
        oldest = oldest.where(queue.c.id <= upto)
    rows = session.execute(oldest.order_by(queue.c.id).limit(limit)).all()
    if not rows:
        return 0
    repo.reserve(len(rows))
    entries: list[dict[str, Any]] = []
    parties: list[dict[str, Any]] = []
    persons: list[dict[str, Any]] = []
    leaves: list[bytes] = []
    for offset, (_, queued_at, queued_body) in enumerate(rows):
        index = size + offset
        record = json.loads(queued_body)
        body = with_index(queued_body, record, index)
        leaves.append(leaf_hash(body))
        entries.append(
            {
                "index": index,
                "created_at": queued_at,
                "event_type": record["event"],
                "outcome": record["outcome"],
                "org_id": record["org"],
                "user_id": record["user"],
                "purpose": record["purpose"],
                "legal_basis": record["legal_basis"],
                "body": body.decode("utf-8"),
                "leaf_hash": leaves[-1],
                "redacted_at": None,
            }
        )
        parties.extend({"entry_index": index, "org_id": org} for org in record["parties"])
        persons.extend({"entry_index": index, "pseudonym": p} for p in record["persons"])
    repo.add_entries(entries, parties=parties, persons=persons)
    nodes = NodeStore(session)
    nodes.put(append_batch(size, leaf_hashes=leaves, read=nodes))
    ids = [row[0] for row in rows]
    if session.get_bind().dialect.name == "postgresql":
        # One bound array: an IN list of thousands of parameters costs more to render.
        session.execute(
            delete(queue).where(queue.c.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger))))
        )
    else:
        session.execute(delete(queue).where(queue.c.id.in_(ids)))
    return len(rows)


# The one top-level key that follows "index" in a canonical entry body; every key after it
# holds a string, a list of strings or null, in which this text cannot occur (a quote
# inside a JSON string is escaped), so its last occurrence is the top-level key.
_AFTER_INDEX = ',"legal_basis":'


def with_index(queued_body: str, record: dict[str, Any], index: int) -> bytes:
    """The canonical body of a queued event once it has its index: the Merkle leaf data.

    The queued body is already canonical JSON without ``index``, so the index is spliced in
    where key order puts it instead of parsing and re-encoding the whole body (the
    integrator's largest cost per event). The result equals ``canonical_json`` of the
    record with the index, which the tests check against adversarial bodies.
    """
    at = queued_body.rfind(_AFTER_INDEX)
    if at < 0 or "index" in record:  # not the shape ``entry_body`` makes: encode afresh
        return canonical_json({**record, "index": index})
    return f'{queued_body[:at]},"index":{index}{queued_body[at:]}'.encode()


def _last_queued(engine: Engine) -> int | None:
    """A lock-free look at the highest queued id; None means every event is in the tree."""
    queue = table_of(LogQueue)
    with engine.connect() as connection:
        last = connection.execute(sa_select(func.max(queue.c.id))).scalar_one_or_none()
        return None if last is None else int(last)


def _deployment_lock(session: Session, *, wait: bool) -> bool:
    """Take the integrator lock for this transaction (PostgreSQL; SQLite has one writer)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY})
        return True
    taken = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY}
    ).scalar_one()
    return bool(taken)


def _process_lock(engine: Engine) -> threading.Lock:
    key = engine.url.render_as_string(hide_password=True)
    with _process_locks_guard:
        return _process_locks.setdefault(key, threading.Lock())


class Integrator:
    """A daemon thread that integrates this process's events as soon as they commit.

    It also polls every ``interval`` seconds for events queued by other processes, and the
    last broker process to stop leaves nothing behind because ``stop`` drains once more.
    Once woken it lingers ``linger`` seconds before draining, so the commits of concurrent
    requests fold into one batch: a batch costs about ten statements whatever its size, so
    integrating each request's event on its own would cost more than the request itself.
    Readers never wait for the linger; they drain the queue themselves.
    """

    def __init__(self, engine: Engine, *, interval: float = 0.2, linger: float = 0.5) -> None:
        self._engine = engine
        self._interval = interval
        self._linger = linger
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the thread runs; otherwise callers integrate inline."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Begin integrating in the background."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="broker-log-integrator")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then integrate whatever this process queued last."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join(timeout=10)
        self._drain(wait=True)

    def committed(self) -> None:
        """A transaction with log events committed: integrate now or wake the thread."""
        if self.running:
            self._wake.set()
        else:
            self._drain(wait=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._wake.wait(self._interval) and self._linger:
                self._stop.wait(self._linger)  # let concurrent commits join this batch
            self._wake.clear()
            self._drain(wait=False)

    def _drain(self, *, wait: bool) -> None:
        try:
            integrate_pending(self._engine, wait=wait)
        except SQLAlchemyError as exc:
            # The events stay queued in the database; the next wake or poll retries.
            logger.warning("log integration postponed", extra={"error_class": type(exc).__name__})
