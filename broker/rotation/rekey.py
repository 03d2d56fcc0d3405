"""One batch of re-keying: persons and their signals' fields moved to the active version.

Batches walk the person table in physical order from a cursor (PostgreSQL: a range of
heap pages by ``ctid``; elsewhere: ``rowid``), so each row is read once per pass and the
pages a batch writes lie together. Restarting from the top each time would make the scans
quadratic, and walking the primary key (random ids) writes all over the heap. Lookups stay
correct between batches because a person row changes token, ciphertext and version in one
UPDATE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, String, and_, func, literal_column, or_, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from broker.container import Container
from broker.rotation.bulk import (
    PersonUpdate,
    SignalUpdate,
    is_postgres,
    update_persons,
    update_signals,
)
from broker.rotation.inventory import HEADER_BYTES, NONCE_PREFIX_BYTES, field_header
from broker.signals.models import Signal, SignalPerson
from broker.signals.service import signal_aad
from keys import MatchingPseudonym

_PG_TABLE_PAGES = text(
    "SELECT pg_relation_size('signal_person') / current_setting('block_size')::bigint,"
    " CASE WHEN relpages > 0 AND reltuples > 0 THEN reltuples / relpages ELSE 40 END"
    " FROM pg_class WHERE oid = 'signal_person'::regclass"
)
_PG_PAGE_RANGE = text(
    "signal_person.ctid >= CAST(:low AS tid) AND signal_person.ctid < CAST(:high AS tid)"
)
# A stale person row with its signal's fields: signal id, position, version, y_enc, payload,
# contact.
StaleRow = tuple[str, int, int, bytes, bytes, bytes | None]


@dataclass(frozen=True)
class Batch:
    """Re-keyed rows, ready to write, and where the next batch starts (None: pass done)."""

    version: int
    persons: list[PersonUpdate] = field(default_factory=list)
    signals: list[SignalUpdate] = field(default_factory=list)
    next: int | None = None

    @property
    def rows(self) -> int:
        """Rows this batch changes: persons plus signals."""
        return len(self.persons) + len(self.signals)


def rekey_batch(
    session: Session, container: Container, *, batch_size: int, start: int = 0
) -> Batch:
    """Move up to ``batch_size`` persons from ``start`` on, with their signals' fields."""
    batch = plan_batch(session, container, batch_size=batch_size, start=start)
    write_batch(session, batch)
    return batch


def plan_batch(session: Session, container: Container, *, batch_size: int, start: int) -> Batch:
    """Read up to ``batch_size`` stale persons from ``start`` on and re-key them in memory."""
    keystore = container.keystore
    active, stale = keystore.active_version, keystore.live_versions[1:]
    if not stale:
        return Batch(version=active)
    walk = _page_window if is_postgres(session) else _rowid_window
    rows, following = walk(session, stale, start=start, batch_size=batch_size)
    header = field_header(active)
    persons: list[PersonUpdate] = []
    signals: dict[str, SignalUpdate] = {}
    for signal_id, position, old, y_enc, payload, contact in rows:
        persons.append(_rekeyed_person(container, signal_id, position, old, y_enc, version=active))
        if signal_id not in signals and not _is_current(header, payload, contact):
            signals[signal_id] = _reencrypted_signal(container, signal_id, payload, contact)
    return Batch(active, persons, list(signals.values()), following)


def write_batch(session: Session, batch: Batch) -> int:
    """Write a planned batch and return the rows written; rows changed since read are skipped."""
    return update_persons(session, batch.persons, version=batch.version) + update_signals(
        session, batch.signals
    )


def _stale_persons(stale: Sequence[int], *extra: Any) -> Any:
    person, signal = SignalPerson, Signal
    return (
        sa_select(
            col(person.signal_id),
            col(person.position),
            col(person.key_version),
            col(person.y_enc),
            col(signal.payload_enc),
            col(signal.contact_enc),
            *extra,
        )
        .join(signal, col(signal.id) == col(person.signal_id))
        .where(col(person.key_version).in_(stale))
    )


def _page_window(
    session: Session, stale: Sequence[int], *, start: int, batch_size: int
) -> tuple[list[StaleRow], int | None]:
    pages, per_page = session.connection().execute(_PG_TABLE_PAGES).one()
    if start >= pages:
        return [], None
    end = start + max(1, int(batch_size / float(per_page)))
    ctid = literal_column("signal_person.ctid", String)
    query = _stale_persons(stale, ctid).where(_PG_PAGE_RANGE).order_by(ctid).limit(batch_size)
    params = {"low": f"({start},0)", "high": f"({end},0)"}
    rows = session.connection().execute(query, params).all()
    if len(rows) == batch_size:
        # The window held more: carry on from the last row's page (its moved rows drop out).
        end = int(str(rows[-1][-1]).strip("()").split(",")[0])
    return [cast(StaleRow, tuple(row[:-1])) for row in rows], end


def _rowid_window(
    session: Session, stale: Sequence[int], *, start: int, batch_size: int
) -> tuple[list[StaleRow], int | None]:
    rowid = literal_column("signal_person.rowid", Integer)
    query = _stale_persons(stale, rowid).where(rowid >= start).order_by(rowid)
    rows = session.connection().execute(query.limit(batch_size)).all()
    following = int(rows[-1][-1]) + 1 if len(rows) == batch_size else None
    return [cast(StaleRow, tuple(row[:-1])) for row in rows], following


def sweep_signals(
    session: Session, container: Container, *, batch_size: int, after: str = ""
) -> tuple[int, str | None]:
    """Re-encrypt signals not reached through their persons, in id order after ``after``.

    Returns the rows written and the id to continue after (None at the end).
    """
    header = field_header(container.keystore.active_version)
    rows = session.exec(
        select(Signal.id, Signal.payload_enc, Signal.contact_enc)
        .where(col(Signal.id) > after, _stale_fields(header))
        .order_by(col(Signal.id))
        .limit(batch_size)
    ).all()
    written = update_signals(session, [_reencrypted_signal(container, *row) for row in rows])
    return written, (rows[-1][0] if len(rows) == batch_size else None)


def _rekeyed_person(
    container: Container, signal_id: str, position: int, old: int, y_enc: bytes, *, version: int
) -> PersonUpdate:
    fields = container.fields
    # broker.matches.service.person_aad without building an ORM row (50 µs each); a drift
    # between the two fails the decryption loudly, and the tests would catch it.
    aad = f"signal_person:{signal_id}:{position}".encode()
    y = MatchingPseudonym(fields.decrypt(y_enc, aad=aad))
    fresh = fields.encrypt(y, aad=aad)
    if fields.key_version(fresh) != version:
        # Another rotation was loaded mid-batch; roll back rather than mix versions in a row.
        raise RuntimeError("the active key version changed during re-keying")
    token = container.pseudonymiser.index_token(y, version=version)
    return PersonUpdate(signal_id, position, old, token, fresh)


def _is_current(header: bytes, payload: bytes, contact: bytes | None) -> bool:
    return payload.startswith(header) and (contact is None or contact.startswith(header))


def _stale_fields(header: bytes) -> ColumnElement[bool]:
    payload, contact = col(Signal.payload_enc), col(Signal.contact_enc)
    return or_(
        func.substr(payload, 1, HEADER_BYTES) != header,
        and_(contact.is_not(None), func.substr(contact, 1, HEADER_BYTES) != header),
    )


def _reencrypted_signal(
    container: Container, signal_id: str, payload: bytes, contact: bytes | None
) -> SignalUpdate:
    fields = container.fields
    return SignalUpdate(
        signal_id=signal_id,
        old_prefix=payload[:NONCE_PREFIX_BYTES],
        payload_enc=fields.reencrypt(payload, aad=signal_aad(signal_id, "payload")),
        contact_enc=None
        if contact is None
        else fields.reencrypt(contact, aad=signal_aad(signal_id, "contact")),
    )
