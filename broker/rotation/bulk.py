"""One statement per batch for re-keyed rows: ``UPDATE ... FROM unnest(...)`` on PostgreSQL.

Every update is guarded by what was read, so a row changed or re-keyed by someone else
between the read and the write is left alone rather than overwritten with stale data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func, update
from sqlmodel import Session

from broker.models import metadata
from broker.rotation.inventory import NONCE_PREFIX_BYTES


@dataclass(frozen=True)
class PersonUpdates:
    """Person rows moved to a new key version, column by column: one array parameter each.

    Columns rather than a tuple per row: building 2,000,000 row tuples and taking them
    apart again for the arrays cost about a fifth as much as the cryptography.
    """

    signal_ids: list[str] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    old_versions: list[int] = field(default_factory=list)
    index_tokens: list[bytes] = field(default_factory=list)
    y_encs: list[bytes] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.signal_ids)


@dataclass(frozen=True)
class SignalUpdates:
    """Signals' fields re-encrypted, column by column; ``old_prefixes`` identify the blobs read."""

    ids: list[str] = field(default_factory=list)
    old_prefixes: list[bytes] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)
    contacts: list[bytes | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


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


def update_persons(session: Session, rows: PersonUpdates, *, version: int) -> int:
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
                "signal_ids": rows.signal_ids,
                "positions": rows.positions,
                "old_versions": rows.old_versions,
                "tokens": rows.index_tokens,
                "ys": rows.y_encs,
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
    columns = (rows.signal_ids, rows.positions, rows.old_versions, rows.index_tokens, rows.y_encs)
    names = ("b_signal_id", "b_position", "b_old_version", "b_token", "b_y")
    result = session.connection().execute(
        statement, [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    )
    return int(result.rowcount)


def update_signals(session: Session, rows: SignalUpdates) -> int:
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
                "ids": rows.ids,
                "prefixes": rows.old_prefixes,
                "payloads": rows.payloads,
                "contacts": rows.contacts,
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
    columns = (rows.ids, rows.old_prefixes, rows.payloads, rows.contacts)
    names = ("b_id", "b_prefix", "b_payload", "b_contact")
    result = session.connection().execute(
        statement, [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
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
