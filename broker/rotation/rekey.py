"""One batch of re-keying: person rows, or signal ciphertexts, moved to the active version.

Persons (blind-index token and encrypted matching pseudonym) and signals (payload and
contact ciphertexts) are walked separately, each table in physical order from a cursor
(PostgreSQL: a range of heap pages by ``ctid``; elsewhere: ``rowid``). Reading each table
on its own needs no join: the join read every signal twice, once per person, through random
probes of the signal key (about a sixth of the time at 1,000,000 signals), and updating
signals in their own physical order writes each heap page once. Restarting from
the top for each batch would make the scans quadratic, and walking a primary key (random
ids) writes all over the heap.

Lookups stay correct between batches because a person row changes token, ciphertext and
version in one UPDATE, and a lookup asks with one token per live version. A batch is its own
transaction: a crash loses at most the batch in flight, and the next run (``broker keys
retire-old``) picks up whatever is still under an old version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Integer, and_, func, literal, literal_column, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col

from broker.container import Container
from broker.rotation.bulk import (
    PersonUpdates,
    SignalUpdates,
    is_postgres,
    update_persons,
    update_signals,
)
from broker.rotation.inventory import HEADER_BYTES, NONCE_PREFIX_BYTES, field_header
from broker.signals.models import Signal, SignalPerson
from broker.signals.service import signal_aad
from keys import MatchingPseudonym

# Heap pages and rows per page, to size a window of pages that holds about one batch.
_PG_TABLE_PAGES = """
    SELECT pg_relation_size(c.oid) / current_setting('block_size')::bigint,
           CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages
                ELSE 40 END
    FROM pg_class AS c WHERE c.oid = %(table)s::regclass
"""
# Read with psycopg in binary: bytea arrives as bytes without hex decoding, and the rows
# are plain tuples (SQLAlchemy's row processing cost more than the decryption). The tuple
# id comes last, as text, under another name: ``ORDER BY ctid`` must sort by the column
# itself, and would sort by the text ("(10,2)" after "(10,19)") if an output were named so.
_PG_STALE_PERSONS = """
    SELECT signal_id, position, key_version, y_enc, ctid::text AS tid
    FROM signal_person
    WHERE ctid >= %(low)s::tid AND ctid < %(high)s::tid AND key_version = ANY(%(stale)s)
    ORDER BY ctid LIMIT %(limit)s
"""
_PG_STALE_SIGNALS = """
    SELECT id, payload_enc, contact_enc, ctid::text AS tid
    FROM signal
    WHERE ctid >= %(low)s::tid AND ctid < %(high)s::tid
      AND (substr(payload_enc, 1, %(header_bytes)s) <> %(header)s
           OR substr(contact_enc, 1, %(header_bytes)s) <> %(header)s)
    ORDER BY ctid LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Cursor:
    """Where a pass over one table stands.

    ``start`` is the first row to read: a ``rowid``, or on PostgreSQL a heap tuple id packed
    as ``page << 16 | line``, so that the next batch starts right after the last row read
    and two batches of a pass never share a row (writers running side by side would
    otherwise wait for each other's row locks). ``stop`` is the end of the table when the
    pass began: PostgreSQL writes updated rows as new tuples, mostly past that end, and
    walking them again doubled the reads. A row written under an old version past it is
    found by ``stale_left`` and moved by another pass.
    """

    start: int = 0
    stop: int | None = None


@dataclass(frozen=True)
class Batch:
    """Re-keyed rows, ready to write, and where the next batch starts (None: pass done)."""

    version: int
    persons: PersonUpdates = field(default_factory=PersonUpdates)
    signals: SignalUpdates = field(default_factory=SignalUpdates)
    next: Cursor | None = None

    @property
    def rows(self) -> int:
        """Rows this batch changes: persons plus signals."""
        return len(self.persons) + len(self.signals)


class Plan(Protocol):
    """Reads up to ``batch_size`` stale rows of one table from a cursor; re-keys them in memory."""

    def __call__(
        self, session: Session, container: Container, *, batch_size: int, cursor: Cursor
    ) -> Batch: ...


def rekey_batch(
    session: Session,
    container: Container,
    *,
    batch_size: int,
    cursor: Cursor | None = None,
    plan: Plan | None = None,
) -> Batch:
    """Move up to ``batch_size`` rows from ``cursor`` on (persons unless ``plan`` says)."""
    batch = (plan or plan_persons)(
        session, container, batch_size=batch_size, cursor=cursor or Cursor()
    )
    write_batch(session, batch)
    return batch


def write_batch(session: Session, batch: Batch) -> int:
    """Write a planned batch and return the rows written; rows changed since read are skipped."""
    return update_persons(session, batch.persons, version=batch.version) + update_signals(
        session, batch.signals
    )


def plan_persons(
    session: Session, container: Container, *, batch_size: int, cursor: Cursor
) -> Batch:
    """Read up to ``batch_size`` persons under an older version from ``cursor`` on; re-key them.

    A person's y is decrypted, given the active version's index token and encrypted again,
    all in memory; only the new token and ciphertext are written.
    """
    keystore = container.keystore
    active, stale = keystore.active_version, list(keystore.live_versions[1:])
    if not stale:
        return Batch(version=active)
    if is_postgres(session):
        rows, following = _pg_window(
            session, "signal_person", _PG_STALE_PERSONS, {"stale": stale}, cursor, batch_size
        )
    else:
        rows, following = _rowid_window(
            session, "signal_person", col(SignalPerson.key_version).in_(stale), cursor, batch_size
        )
    # broker.matches.service.person_aad without building an ORM row (50 µs each); a drift
    # between the two fails the decryption loudly, and the tests would catch it.
    aads = [f"signal_person:{row[0]}:{row[1]}".encode() for row in rows]
    fields = container.fields
    sealed = [(row[3], aad) for row, aad in zip(rows, aads, strict=True)]
    ys = [MatchingPseudonym(y) for y in fields.decrypt_many(sealed)]
    # encrypt_many raises if another rotation was loaded meanwhile: no row mixes versions.
    persons = PersonUpdates(
        signal_ids=[row[0] for row in rows],
        positions=[row[1] for row in rows],
        old_versions=[row[2] for row in rows],
        index_tokens=list(container.pseudonymiser.index_tokens(ys, version=active)),
        y_encs=fields.encrypt_many(list(zip(ys, aads, strict=True)), version=active),
    )
    return Batch(active, persons=persons, next=following)


def plan_signals(
    session: Session, container: Container, *, batch_size: int, cursor: Cursor
) -> Batch:
    """Read up to ``batch_size`` signals with a field under an older version; re-encrypt them.

    Unlike persons, every signal is looked at, whatever the live versions: a payload or
    contact under any version but the active one is stale.
    """
    active = container.keystore.active_version
    header = field_header(active)
    if is_postgres(session):
        params = {"header": header, "header_bytes": HEADER_BYTES}
        rows, following = _pg_window(
            session, "signal", _PG_STALE_SIGNALS, params, cursor, batch_size
        )
    else:
        rows, following = _rowid_window(
            session, "signal", _stale_fields(header), cursor, batch_size
        )
    # (row, column) of each stale field, then all of them decrypted and encrypted at once.
    stale = [
        (number, column)
        for number, row in enumerate(rows)
        for column in (1, 2)
        if row[column] is not None and not row[column].startswith(header)
    ]
    names = {1: "payload", 2: "contact"}
    items = [(rows[n][c], signal_aad(rows[n][0], names[c])) for n, c in stale]
    fields = container.fields
    plaintexts = fields.decrypt_many(items)
    fresh = fields.encrypt_many(
        [(text, aad) for text, (_, aad) in zip(plaintexts, items, strict=True)], version=active
    )
    blobs: dict[tuple[int, int], bytes] = dict(zip(stale, fresh, strict=True))
    signals = SignalUpdates(
        ids=[row[0] for row in rows],
        old_prefixes=[row[1][:NONCE_PREFIX_BYTES] for row in rows],
        payloads=[blobs.get((number, 1), row[1]) for number, row in enumerate(rows)],
        contacts=[blobs.get((number, 2), row[2]) for number, row in enumerate(rows)],
    )
    return Batch(active, signals=signals, next=following)


def stale_left(session: Session, container: Container) -> bool:
    """True while any person or signal field is stored under a version but the active one.

    One scan of each table, to decide whether another pass is needed (a slow writer may have
    added a row under the old version behind the cursor); a pass would read just as much.
    """
    stale = list(container.keystore.live_versions[1:])
    header = field_header(container.keystore.active_version)
    checks: list[tuple[type[SQLModel], ColumnElement[bool]]] = [(Signal, _stale_fields(header))]
    if stale:
        checks.insert(0, (SignalPerson, col(SignalPerson.key_version).in_(stale)))
    for table, condition in checks:
        query = sa_select(literal(1)).select_from(table).where(condition)
        if session.execute(sa_select(query.exists())).scalar_one():
            return True
    return False


def _pg_window(
    session: Session,
    table: str,
    query: str,
    params: dict[str, Any],
    cursor: Cursor,
    batch_size: int,
) -> tuple[list[tuple[Any, ...]], Cursor | None]:
    """Stale rows from ``cursor`` on, up to a window of pages holding about ``batch_size``.

    Each row carries its tuple id last. psycopg directly, on the session's own connection
    and transaction (see bulk.py).
    """
    driver = session.connection().connection.driver_connection
    assert driver is not None
    page, line = cursor.start >> 16, cursor.start & 0xFFFF
    with driver.cursor(binary=True) as db:
        db.execute(_PG_TABLE_PAGES, {"table": table})
        sizes = db.fetchone()
        assert sizes is not None
        stop = int(sizes[0]) if cursor.stop is None else cursor.stop
        if page >= stop:
            return [], None
        end = min(stop, page + max(1, int(batch_size / float(sizes[1]))))
        window = {"low": f"({page},{line})", "high": f"({end},0)", "limit": batch_size}
        db.execute(query, params | window)
        rows = db.fetchall()
    following = Cursor(end << 16, stop)
    if len(rows) == batch_size:
        # The window held more: carry on right after the last row read.
        last_page, last_line = rows[-1][-1].strip("()").split(",")
        following = Cursor(int(last_page) << 16 | (int(last_line) + 1), stop)
    return rows, following


def _rowid_window(
    session: Session,
    table: str,
    stale: ColumnElement[bool],
    cursor: Cursor,
    batch_size: int,
) -> tuple[list[tuple[Any, ...]], Cursor | None]:
    """Stale rows from ``cursor`` on, each carrying its ``rowid`` last."""
    rowid: ColumnElement[int] = literal_column(f"{table}.rowid", Integer)
    columns: Sequence[Any] = (
        (
            col(SignalPerson.signal_id),
            col(SignalPerson.position),
            col(SignalPerson.key_version),
            col(SignalPerson.y_enc),
        )
        if table == "signal_person"
        else (col(Signal.id), col(Signal.payload_enc), col(Signal.contact_enc))
    )
    query = sa_select(*columns, rowid).where(rowid >= cursor.start, stale).order_by(rowid)
    rows = session.connection().execute(query.limit(batch_size)).all()
    # SQLite updates rows in place (same rowid), so a pass needs no stop.
    following = Cursor(int(rows[-1][-1]) + 1) if len(rows) == batch_size else None
    return list(rows), following


def _stale_fields(header: bytes) -> ColumnElement[bool]:
    payload, contact = col(Signal.payload_enc), col(Signal.contact_enc)
    return or_(
        func.substr(payload, 1, HEADER_BYTES) != header,
        and_(contact.is_not(None), func.substr(contact, 1, HEADER_BYTES) != header),
    )
