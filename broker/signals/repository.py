"""Queries on signals; the caller's organisation scopes every list."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, LargeBinary, any_, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from broker.signals.models import IdempotencyRecord, Signal, SignalPerson

_IN_CHUNK = 500


class SignalRepository:
    """Data access for signals and their persons."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def active_by_tokens(
        self, tokens: Collection[bytes], *, now: datetime
    ) -> list[tuple[SignalPerson, Signal]]:
        """Persons with these index tokens in signals that are neither expired nor withdrawn."""
        found: list[tuple[SignalPerson, Signal]] = []
        unique = list(dict.fromkeys(tokens))
        for start in range(0, len(unique), _IN_CHUNK):
            rows = self._session.exec(
                select(SignalPerson, Signal)
                .join(Signal, col(Signal.id) == col(SignalPerson.signal_id))
                .where(
                    self._token_in(unique[start : start + _IN_CHUNK]),
                    col(Signal.withdrawn_at).is_(None),
                    col(Signal.expires_at) > now,
                )
            ).all()
            found.extend(rows)
        return found

    def _token_in(self, tokens: list[bytes]) -> ColumnElement[bool]:
        """``index_token IN tokens``; on PostgreSQL as ``= ANY(array)``, one bound array.

        An expanding IN list is rendered anew for every number of tokens, which costs more
        CPU than the index lookup itself on the hot path of every hit query.
        """
        if self._session.get_bind().dialect.name == "postgresql":
            array = bindparam("tokens", tokens, type_=ARRAY(LargeBinary))
            return col(SignalPerson.index_token) == any_(array)
        return col(SignalPerson.index_token).in_(tokens)

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

    def idempotency(self, org_id: str, key: str) -> IdempotencyRecord | None:
        """A completed request under this key."""
        return self._session.get(IdempotencyRecord, (org_id, key))
