"""Privacy officer: the disclosure log, searched, paged, exported and verified entry by entry.

Filters travel in the query string because they hold no identifiers; a search by person
goes in a POST body and its results are rendered in that response. Every search is logged,
as the API logs it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from broker.console.forms import persons_from
from broker.console.problems import FormProblem
from broker.console.proofs import verify_entry
from broker.console.session import ConsoleSession
from broker.console.web import (
    CheckedForm,
    ConsoleRoute,
    OfficerSession,
    message_of,
    render,
)
from broker.container import Container
from broker.dependencies import SessionDep, container_of
from broker.disclosure_log.endpoints import CSV_FIELDS
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.models import LogEntry
from broker.disclosure_log.schemas import LogEntryPublic
from broker.disclosure_log.search import LogFilter, search_entries, visible_entry
from broker.disclosure_log.service import record
from broker.transaction import transaction

router = APIRouter(route_class=ConsoleRoute)
PAGE_SIZE = 25
PERSON_RESULTS = 100
CSV_LIMIT = 10_000
BASES = ("consent", "proportionality", "serious_danger", "gdpr_art_15", "gdpr_art_17")


@dataclass(frozen=True)
class Filters:
    """The search form's values, as typed (dates as YYYY-MM-DD)."""

    since: str = ""
    until: str = ""
    event_type: str = ""
    outcome: str = ""
    purpose: str = ""
    legal_basis: str = ""
    user: str = ""
    organisation: str = ""

    @classmethod
    def of(cls, request: Request) -> Filters:
        """From the query string; unknown parameters are ignored, long ones cut."""
        params = request.query_params
        return cls(**{f.name: params.get(f.name, "").strip()[:128] for f in fields(cls)})

    def query(self) -> dict[str, str]:
        """The non-empty filters, for links that keep them."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def to_log_filter(self) -> LogFilter:
        """The service's filter; dates become the start of the day and the day after."""
        return LogFilter(
            since=_day(self.since),
            until=_day(self.until, plus=timedelta(days=1)),
            organisation=self.organisation or None,
            user=self.user or None,
            purpose=self.purpose or None,
            legal_basis=self.legal_basis or None,
            event_type=self.event_type or None,
            outcome=self.outcome or None,
        )


def _day(text: str, *, plus: timedelta = timedelta()) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC) + plus
    except ValueError:
        raise FormProblem("bad_date") from None


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return max(1, min(int(text), 1_000_000)) if text.isdigit() else 1


def _searched(
    db: Session, session: ConsoleSession, *, results: int, how: str, persons: tuple[str, ...] = ()
) -> None:
    record(
        db,
        LogEvent.by(
            session.principal(),
            EventType.LOG_SEARCH,
            "success",
            purpose="oversight",
            persons=persons,
            details={"results": results, "format": how},
        ),
    )


def _log_page(request: Request, container: Container, **context: Any) -> Response:
    return render(
        request,
        "log.html",
        event_types=[e.value for e in EventType],
        bases=BASES,
        purposes=list(container.catalogue.purposes),
        **context,
    )


@router.get("/log")
def log(request: Request, session: OfficerSession, db: SessionDep) -> Response:
    """Search the entries the organisation is party to, newest first, a page at a time."""
    container = container_of(request)
    filters = Filters.of(request)
    page = _page_number(request)
    try:
        flt = filters.to_log_filter()
    except FormProblem as exc:
        return _log_page(
            request,
            container,
            filters=filters,
            entries=[],
            total=0,
            by_person=False,
            problem=message_of(request, exc),
        )
    rows, total = search_entries(
        db, session.principal(), flt, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    _searched(db, session, results=total, how="console")
    pages = max(1, math.ceil(total / PAGE_SIZE))

    def link(number: int) -> str:
        return "/console/log?" + urlencode({**filters.query(), "page": number})

    return _log_page(
        request,
        container,
        filters=filters,
        entries=rows,
        total=total,
        page=page,
        pages=pages,
        prev_link=link(page - 1) if page > 1 else None,
        next_link=link(page + 1) if page < pages else None,
        csv_link="/console/log/export?" + urlencode(filters.query()),
        by_person=False,
        problem=None,
    )


@router.post("/log/person")
def log_by_person(request: Request, session: OfficerSession, form: CheckedForm) -> Response:
    """Entries concerning one person: the BSN in the body, pseudonymised at once."""
    container = container_of(request)
    try:
        person = persons_from(form, container, session)[0]
    except FormProblem as exc:
        return _log_page(
            request,
            container,
            filters=Filters(),
            entries=[],
            total=0,
            by_person=True,
            problem=message_of(request, exc),
        )
    key = container.pseudonymiser.log_pseudonym(person.pseudonym(container.pseudonymiser))
    with transaction(container.engine, container.log) as db:
        rows, total = search_entries(
            db, session.principal(), LogFilter(person=key), offset=0, limit=PERSON_RESULTS
        )
        _searched(db, session, results=total, how="console-person", persons=(key,))
    return _log_page(
        request,
        container,
        filters=Filters(),
        entries=rows,
        total=total,
        by_person=True,
        problem=None,
    )


@router.get("/log/export")
def export(request: Request, session: OfficerSession, db: SessionDep) -> Response:
    """The current selection as CSV (at most ten thousand entries)."""
    flt = Filters.of(request).to_log_filter()
    rows, total = search_entries(db, session.principal(), flt, offset=0, limit=CSV_LIMIT)
    _searched(db, session, results=total, how="csv")
    return Response(
        _csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="disclosure-log.csv"'},
    )


def _csv(rows: Sequence[LogEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row_entry in rows:
        public = LogEntryPublic.of(row_entry)
        row = dict(
            public.body
            or {"index": public.index, "event": public.event_type, "outcome": public.outcome}
        )
        writer.writerow({key: _cell(row.get(key)) for key in CSV_FIELDS})
    return out.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with these as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _entry_page(request: Request, entry: LogEntry, *, verification: object = None) -> Response:
    public = LogEntryPublic.of(entry)
    return render(
        request,
        "log_entry.html",
        entry=entry,
        body=public.body,
        leaf=public.leaf_hash,
        verification=verification,
    )


@router.get("/log/entries/{index}")
def entry(request: Request, index: int, session: OfficerSession, db: SessionDep) -> Response:
    """One visible entry with its verify action."""
    return _entry_page(request, visible_entry(db, session.principal(), index))


@router.post("/log/entries/{index}/verify")
def verify(
    request: Request, index: int, session: OfficerSession, form: CheckedForm, db: SessionDep
) -> Response:
    """Check the entry's inclusion proof against the latest signed checkpoint."""
    found = visible_entry(db, session.principal(), index)
    return _entry_page(
        request, found, verification=verify_entry(db, container_of(request), found.index)
    )
