"""Queries behind reports and erasure requests; every read is scoped by the caller."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from broker.auth.principal import Principal
from broker.disclosure_log.events import EventType
from broker.disclosure_log.models import LogEntry
from broker.disclosure_log.search import LogFilter, search_entries
from broker.signals.models import Signal, SignalPerson, SignalTombstone
from broker.subject_access.models import ErasureRequest, SubjectAccessReport

_PAGE = 500


class SubjectRepository:
    """Signals, tombstones and log entries on one person; reports and erasure requests."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def signals_on(self, tokens: Collection[bytes]) -> Sequence[tuple[SignalPerson, Signal]]:
        """Every stored signal naming a person with these index tokens, active or ended."""
        if not tokens:
            return []
        return self._session.exec(
            select(SignalPerson, Signal)
            .join(Signal, col(Signal.id) == col(SignalPerson.signal_id))
            .where(col(SignalPerson.index_token).in_(list(tokens)))
            .order_by(col(Signal.created_at))
        ).all()

    def tombstones_on(self, person_key: str) -> Sequence[SignalTombstone]:
        """The archive of ended signals on the person (kept five years)."""
        return self._session.exec(
            select(SignalTombstone)
            .where(SignalTombstone.log_pseudonym == person_key)
            .order_by(col(SignalTombstone.registered_at))
        ).all()

    def entries_on(
        self,
        principal: Principal,
        person_key: str,
        event_type: EventType,
        *,
        since: datetime | None,
        until: datetime | None,
    ) -> list[LogEntry]:
        """Log entries of one type on the person, scoped exactly as the officer's log search."""
        flt = LogFilter(person=person_key, event_type=event_type.value, since=since, until=until)
        found: list[LogEntry] = []
        while True:
            page, total = search_entries(
                self._session, principal, flt, offset=len(found), limit=_PAGE
            )
            found.extend(page)
            if not page or len(found) >= total:
                return found

    def report(self, org_id: str, report_id: str) -> SubjectAccessReport | None:
        """One report of the organisation (None for another organisation's)."""
        row = self._session.get(SubjectAccessReport, report_id)
        return row if row is not None and row.org_id == org_id else None

    def erasure_request(self, org_id: str, request_id: str) -> ErasureRequest | None:
        """One erasure request of the organisation (None for another organisation's)."""
        row = self._session.get(ErasureRequest, request_id)
        return row if row is not None and row.org_id == org_id else None

    def erasure_requests(self, org_id: str, *, status: str | None) -> Sequence[ErasureRequest]:
        """The organisation's erasure requests, newest first."""
        query = select(ErasureRequest).where(ErasureRequest.org_id == org_id)
        if status is not None:
            query = query.where(ErasureRequest.status == status)
        return self._session.exec(
            query.order_by(col(ErasureRequest.created_at).desc()).limit(500)
        ).all()

    def own_open_signals(self, org_id: str, tokens: Collection[bytes]) -> Sequence[Signal]:
        """The organisation's not yet withdrawn signals naming the person."""
        if not tokens:
            return []
        rows = self._session.exec(
            select(Signal)
            .join(SignalPerson, col(Signal.id) == col(SignalPerson.signal_id))
            .where(
                col(SignalPerson.index_token).in_(list(tokens)),
                Signal.org_id == org_id,
                col(Signal.withdrawn_at).is_(None),
            )
        ).all()
        # A person named twice in one signal (two roles) must not withdraw it twice.
        return list({signal.id: signal for signal in rows}.values())
