"""Queries on signals; the caller's organisation scopes every list."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from broker.disclosure_log.repository import table_of
from broker.signals.models import IdempotencyRecord, Signal, SignalPerson

_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class NewSignal:
    """The columns of a ``signal`` row about to be inserted (no ORM object: 10,000 a request)."""

    id: str
    org_id: str
    category: str
    severity: str
    purpose: str
    desk_id: str | None
    shielded: bool
    embargo: bool
    created_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None
    payload_enc: bytes
    contact_enc: bytes | None


@dataclass(frozen=True, slots=True)
class NewPerson:
    """The columns of a ``signal_person`` row about to be inserted."""

    signal_id: str
    position: int
    role: str
    index_token: bytes
    key_version: int
    y_enc: bytes


@dataclass(frozen=True, slots=True)
class ActiveRef:
    """A person's index token found in an active signal, and that signal's organisation."""

    index_token: bytes
    signal_id: str
    org_id: str


@dataclass(frozen=True, slots=True)
class SignalFacts:
    """What matching and hit answers read of a signal: never its payload or contact.

    Read as plain rows on the path of every hit query (ORM objects cost twice as much);
    a release loads the full ``Signal`` for the one signal it opens.
    """

    id: str
    org_id: str
    category: str
    purpose: str
    desk_id: str | None
    shielded: bool
    embargo: bool
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PersonKey:
    """The columns of a ``signal_person`` row that family links read."""

    signal_id: str
    position: int
    index_token: bytes
    y_enc: bytes


def _columns(row_type: type[NewSignal] | type[NewPerson]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(row_type))


SIGNAL_COLUMNS = _columns(NewSignal)
PERSON_COLUMNS = _columns(NewPerson)
_signal_values = attrgetter(*SIGNAL_COLUMNS)
_person_values = attrgetter(*PERSON_COLUMNS)


def _chunks(values: Collection[Any]) -> Iterator[list[Any]]:
    """The distinct ``values`` in order, ``_IN_CHUNK`` at a time (bound-parameter limits)."""
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), _IN_CHUNK):
        yield unique[start : start + _IN_CHUNK]


# The look-ups of every hit query, built once. SQLAlchemy then finds the compiled form in
# its cache; a statement built anew per call cost three times the database round trip
# (bench/bench_hits.py). Expanding IN lists render the bound list at execution time, on
# SQLite and PostgreSQL alike.
_PERSON, _SIGNAL = table_of(SignalPerson), table_of(Signal)
_IS_ACTIVE = (_SIGNAL.c.withdrawn_at.is_(None), _SIGNAL.c.expires_at > bindparam("now"))
_ACTIVE_ROWS = (
    select(SignalPerson, Signal)
    .join(Signal, col(Signal.id) == col(SignalPerson.signal_id))
    .where(col(SignalPerson.index_token).in_(bindparam("tokens", expanding=True)), *_IS_ACTIVE)
)


def _active_on_tokens(*columns: ColumnElement[Any]) -> Select[Any]:
    """``columns`` of persons with the bound ``tokens`` in active signals (Core rows)."""
    return (
        sa_select(*columns)
        .join(_SIGNAL, _SIGNAL.c.id == _PERSON.c.signal_id)
        .where(_PERSON.c.index_token.in_(bindparam("tokens", expanding=True)), *_IS_ACTIVE)
    )


_ACTIVE_REFS = _active_on_tokens(_PERSON.c.index_token, _PERSON.c.signal_id, _SIGNAL.c.org_id)
_FACTS = tuple(_SIGNAL.c[field.name] for field in fields(SignalFacts))
_ACTIVE_FACTS = _active_on_tokens(_PERSON.c.index_token, *_FACTS)
_FACTS_BY_ID = sa_select(*_FACTS).where(_SIGNAL.c.id.in_(bindparam("ids", expanding=True)))
_PERSON_KEYS = sa_select(
    _PERSON.c.signal_id, _PERSON.c.position, _PERSON.c.index_token, _PERSON.c.y_enc
).where(_PERSON.c.signal_id.in_(bindparam("ids", expanding=True)))


class SignalRepository:
    """Data access for signals and their persons."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def active_by_tokens(
        self, tokens: Collection[bytes], *, now: datetime
    ) -> list[tuple[SignalPerson, Signal]]:
        """Persons with these index tokens in signals that are neither expired nor withdrawn."""
        found: list[tuple[SignalPerson, Signal]] = []
        for chunk in _chunks(tokens):
            found.extend(self._session.exec(_ACTIVE_ROWS, params={"tokens": chunk, "now": now}))
        return found

    def active_facts(
        self, tokens: Collection[bytes], *, now: datetime
    ) -> list[tuple[bytes, SignalFacts]]:
        """``active_by_tokens`` as (index token, the signal's facts): no ORM objects."""
        found: list[tuple[bytes, SignalFacts]] = []
        for chunk in _chunks(tokens):
            rows = self._session.execute(_ACTIVE_FACTS, {"tokens": chunk, "now": now})
            found.extend((row[0], SignalFacts(*row[1:])) for row in rows)
        return found

    def facts_by_ids(self, signal_ids: Collection[str]) -> dict[str, SignalFacts]:
        """The facts of the signals with these ids (those that exist)."""
        found: dict[str, SignalFacts] = {}
        for chunk in _chunks(signal_ids):
            for row in self._session.execute(_FACTS_BY_ID, {"ids": chunk}):
                found[row[0]] = SignalFacts(*row)
        return found

    def active_refs(self, tokens: Collection[bytes], *, now: datetime) -> list[ActiveRef]:
        """``active_by_tokens`` without loading the rows: token, signal and organisation.

        A bulk registration meets thousands of earlier signals, mostly its own; building
        ORM objects for all of them cost more than the query.
        """
        found: list[ActiveRef] = []
        for chunk in _chunks(tokens):
            rows = self._session.execute(_ACTIVE_REFS, {"tokens": chunk, "now": now})
            found.extend(ActiveRef(*row) for row in rows)
        return found

    def person_keys_of(self, signal_ids: Collection[str]) -> list[PersonKey]:
        """``persons_of`` without loading the rows: what family links need."""
        found: list[PersonKey] = []
        for chunk in _chunks(signal_ids):
            rows = self._session.execute(_PERSON_KEYS, {"ids": chunk})
            found.extend(PersonKey(*row) for row in rows)
        return found

    def persons_of(self, signal_ids: Collection[str]) -> Sequence[SignalPerson]:
        """All persons of the given signals (for family links)."""
        if not signal_ids:
            return []
        return self._session.exec(
            select(SignalPerson).where(col(SignalPerson.signal_id).in_(list(signal_ids)))
        ).all()

    def own(self, org_id: str, *, offset: int, limit: int) -> tuple[Sequence[Signal], int]:
        """A page of one organisation's signals, newest first, with the total."""
        query = select(Signal).where(Signal.org_id == org_id)
        total = self._session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = self._session.exec(
            query.order_by(col(Signal.created_at).desc()).offset(offset).limit(limit)
        ).all()
        return rows, int(total)

    def get_own(self, org_id: str, signal_id: str) -> Signal | None:
        """One signal of the organisation (None for another organisation's)."""
        signal = self._session.get(Signal, signal_id)
        return signal if signal is not None and signal.org_id == org_id else None

    def count_persons(self, signal_ids: Collection[str]) -> dict[str, int]:
        """Number of persons per signal."""
        if not signal_ids:
            return {}
        rows = self._session.exec(
            select(SignalPerson.signal_id, func.count())
            .where(col(SignalPerson.signal_id).in_(list(signal_ids)))
            .group_by(col(SignalPerson.signal_id))
        ).all()
        return {signal_id: int(count) for signal_id, count in rows}

    def insert_new(self, signals: Sequence[NewSignal], persons: Sequence[NewPerson]) -> None:
        """Insert signals and their persons set-based, in the session's transaction.

        PostgreSQL gets one COPY per table; the ORM would spend some 50 µs building and
        flushing each row, and executemany still sends one statement per row.
        """
        self._session.flush()  # anything the ORM holds goes first, as a flush would order it
        rows = [_signal_values(s) for s in signals], [_person_values(p) for p in persons]
        if self._session.get_bind().dialect.name == "postgresql":
            driver: Any = self._session.connection().connection.driver_connection
            with driver.cursor() as cursor:
                for name, columns, values in zip(
                    ("signal", "signal_person"), (SIGNAL_COLUMNS, PERSON_COLUMNS), rows, strict=True
                ):
                    _copy(cursor, name, columns, values)
            return
        connection = self._session.connection()
        for model, columns, values in zip(
            (Signal, SignalPerson), (SIGNAL_COLUMNS, PERSON_COLUMNS), rows, strict=True
        ):
            if not values:
                continue
            table = table_of(model)
            if connection.dialect.paramstyle != "qmark":
                self._session.execute(
                    insert(table), [dict(zip(columns, v, strict=True)) for v in values]
                )
                continue
            # SQLite: the driver's executemany (one prepared statement, run in C), with the
            # columns' own conversions applied here instead of per row by SQLAlchemy.
            convert = [
                (number, processor)
                for number, name in enumerate(columns)
                if (processor := table.c[name].type.bind_processor(connection.dialect))
            ]
            converted = []
            for row in values:
                values_of_row = list(row)
                for number, processor in convert:
                    values_of_row[number] = processor(values_of_row[number])
                converted.append(tuple(values_of_row))
            connection.exec_driver_sql(_qmark_insert(table.name, columns), converted)

    def idempotency(self, org_id: str, key: str) -> IdempotencyRecord | None:
        """A completed request under this key."""
        return self._session.get(IdempotencyRecord, (org_id, key))


def _qmark_insert(table: str, columns: Sequence[str]) -> str:
    # Names come from the models and dataclasses above, never from a request.
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    # Names come from the dataclasses above, never from a request.
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
