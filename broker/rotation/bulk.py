"""One statement per batch for re-keyed rows: ``UPDATE ... FROM unnest(...)`` on PostgreSQL.

Every update is guarded by what was read, so a row changed or re-keyed by someone else
between the read and the write is left alone rather than overwritten with stale data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, update
from sqlmodel import Session

from broker.models import metadata
from broker.rotation.inventory import NONCE_PREFIX_BYTES


class PersonUpdate(NamedTuple):
    """A person row moved to a new key version."""

    signal_id: str
    position: int
    old_version: int
    index_token: bytes
    y_enc: bytes


class SignalUpdate(NamedTuple):
    """A signal's fields re-encrypted; ``old_prefix`` identifies the payload blob read."""

    signal_id: str
    old_prefix: bytes
    payload_enc: bytes
    contact_enc: bytes | None


# Arrays travel as one binary parameter each: a batch is one round trip and one plan, and
# nothing is escaped (text-format bytea arrays cost more than the cryptography).
_PG_PERSONS = """
    UPDATE signal_person AS p
    SET index_token = v.index_token, y_enc = v.y_enc, key_version = %(version)b
    FROM unnest(
        %(signal_ids)b::varchar[], %(positions)b::integer[], %(old_versions)b::integer[],
        %(tokens)b::bytea[], %(ys)b::bytea[]
    ) AS v(signal_id, position, old_version, index_token, y_enc)
    WHERE p.signal_id = v.signal_id AND p.position = v.position
      AND p.key_version = v.old_version
"""
_PG_SIGNALS = """
    UPDATE signal AS s
    SET payload_enc = v.payload_enc, contact_enc = v.contact_enc
    FROM unnest(
        %(ids)b::varchar[], %(prefixes)b::bytea[], %(payloads)b::bytea[], %(contacts)b::bytea[]
    ) AS v(id, old_prefix, payload_enc, contact_enc)
    WHERE s.id = v.id AND substr(s.payload_enc, 1, %(prefix_bytes)b) = v.old_prefix
"""


_BATCH_SETTINGS = (
    ("synchronous_commit", "off"),
    ("enable_hashjoin", "off"),
    ("enable_mergejoin", "off"),
    ("max_parallel_workers_per_gather", "0"),
)


def update_persons(session: Session, rows: Sequence[PersonUpdate], *, version: int) -> int:
    """Write re-keyed person rows, skipping any whose version changed since they were read.

    Returns the number of rows written.
    """
    if not rows:
        return 0
    if is_postgres(session):
        return _execute_binary(
            session,
            _PG_PERSONS,
            {
                "version": version,
                "signal_ids": [r.signal_id for r in rows],
                "positions": [r.position for r in rows],
                "old_versions": [r.old_version for r in rows],
                "tokens": [r.index_token for r in rows],
                "ys": [r.y_enc for r in rows],
            },
        )
    table = metadata.tables["signal_person"]
    statement = (
        update(table)
        .where(
            and_(
                table.c.signal_id == bindparam("b_signal_id"),
                table.c.position == bindparam("b_position"),
                table.c.key_version == bindparam("b_old_version"),
            )
        )
        .values(index_token=bindparam("b_token"), y_enc=bindparam("b_y"), key_version=version)
    )
    result = session.connection().execute(
        statement,
        [
            {
                "b_signal_id": r.signal_id,
                "b_position": r.position,
                "b_old_version": r.old_version,
                "b_token": r.index_token,
                "b_y": r.y_enc,
            }
            for r in rows
        ],
    )
    return int(result.rowcount)


def update_signals(session: Session, rows: Sequence[SignalUpdate]) -> int:
    """Write re-encrypted signal fields, skipping any payload replaced since it was read.

    Returns the number of rows written.
    """
    if not rows:
        return 0
    if is_postgres(session):
        return _execute_binary(
            session,
            _PG_SIGNALS,
            {
                "ids": [r.signal_id for r in rows],
                "prefixes": [r.old_prefix for r in rows],
                "payloads": [r.payload_enc for r in rows],
                "contacts": [r.contact_enc for r in rows],
                "prefix_bytes": NONCE_PREFIX_BYTES,
            },
        )
    table = metadata.tables["signal"]
    statement = (
        update(table)
        .where(
            and_(
                table.c.id == bindparam("b_id"),
                func.substr(table.c.payload_enc, 1, NONCE_PREFIX_BYTES) == bindparam("b_prefix"),
            )
        )
        .values(payload_enc=bindparam("b_payload"), contact_enc=bindparam("b_contact"))
    )
    result = session.connection().execute(
        statement,
        [
            {
                "b_id": r.signal_id,
                "b_prefix": r.old_prefix,
                "b_payload": r.payload_enc,
                "b_contact": r.contact_enc,
            }
            for r in rows
        ],
    )
    return int(result.rowcount)


def tune_batch(session: Session) -> None:
    """Set up a re-keying transaction on PostgreSQL (no-op elsewhere).

    Its commit does not wait for the WAL flush: a batch lost in a crash is simply done
    again, and the retirement that follows commits synchronously, flushing every earlier
    commit with it. A batch touches a few thousand rows of millions, so it must never scan,
    hash or sort a whole table: the planner did all three (a parallel sequential scan
    instead of the page range, hash joins from 200,000 rows), making each batch cost as
    much as the table.
    """
    if is_postgres(session):
        connection = session.connection()
        for setting, value in _BATCH_SETTINGS:
            connection.exec_driver_sql(f"SET LOCAL {setting} = {value}")


def _execute_binary(session: Session, sql: str, params: dict[str, Any]) -> int:
    # psycopg directly, on the session's own connection and transaction: SQLAlchemy cannot
    # ask for binary parameters (the %(name)b placeholders).
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def is_postgres(session: Session) -> bool:
    """True on PostgreSQL, where batches use its own faster statements."""
    return session.get_bind().dialect.name == "postgresql"
