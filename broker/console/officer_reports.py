"""Privacy officer: weekly figures as inline SVG charts, and subject-access reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from broker.console.charts import BarChart, bar_chart, last_weeks
from broker.console.forms import persons_from
from broker.console.i18n import Words
from broker.console.problems import FormProblem
from broker.console.session import ConsoleSession
from broker.console.web import (
    CheckedForm,
    ConsoleRoute,
    OfficerSession,
    field,
    message_of,
    render,
    words_of,
)
from broker.container import Container
from broker.dependencies import SessionDep, container_of
from broker.disclosure_log.search import LogFilter, search_entries, weekly_statistics
from broker.errors import InvalidRequest
from broker.persons import PersonRef
from broker.subject_access.schemas import ReportRequest, VerificationMethod
from broker.subject_access.service import produce_report
from broker.transaction import transaction

router = APIRouter(route_class=ConsoleRoute)
# Serious-danger releases have their own chart: overrides.
RELEASE_BASES = ("consent", "proportionality")


# --- Weekly figures ---------------------------------------------------------------------


def _series(words: Words, title: str, values: list[tuple[str, int]]) -> BarChart:
    described = ", ".join(f"{week}: {count}" for week, count in values)
    return bar_chart(title, words("chart_description", title=title, values=described), values)


def weekly_charts(
    db: Session, container: Container, session: ConsoleSession, words: Words, *, weeks: int
) -> list[BarChart]:
    """Queries, hits, releases per legal basis, overrides and refusals, per ISO week."""
    principal = session.principal()
    now = container.clock.now()
    counts = _weekly_counts(weekly_statistics(db, principal, now=now, weeks=weeks))
    spans = last_weeks(now, weeks)

    def counted(key: str) -> list[tuple[str, int]]:
        return [(week, counts.get(week, {}).get(key, 0)) for week, _, _ in spans]

    def released(basis: str) -> list[tuple[str, int]]:
        values = []
        for week, start, end in spans:
            flt = LogFilter(since=start, until=end, event_type="release", legal_basis=basis)
            values.append((week, search_entries(db, principal, flt, offset=0, limit=0)[1]))
        return values

    charts = [
        _series(words, words("chart_queries"), counted("event:query")),
        _series(words, words("chart_hits"), counted("outcome:query:hit")),
    ]
    for basis in RELEASE_BASES:
        title = words("chart_releases", basis=words(f"basis_{basis}"))
        charts.append(_series(words, title, released(basis)))
    charts.append(_series(words, words("chart_overrides"), counted("event:override")))
    charts.append(_series(words, words("chart_refusals"), counted("event:refusal")))
    return charts


def _weekly_counts(rows: list[dict[str, object]]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        per_key = row.get("counts")
        if isinstance(per_key, dict):
            counts[str(row["week"])] = {str(k): int(v) for k, v in per_key.items()}
    return counts


@router.get("/statistics")
def statistics(request: Request, session: OfficerSession, db: SessionDep) -> Response:
    """Weekly charts as inline SVG, each with a table."""
    text = request.query_params.get("weeks", "8")
    weeks = min(max(int(text), 1), 26) if text.isdigit() else 8
    charts = weekly_charts(db, container_of(request), session, words_of(request), weeks=weeks)
    return render(request, "statistics.html", charts=charts, weeks=weeks)


# --- Subject access ---------------------------------------------------------------------


def _subject_access_page(request: Request, **context: Any) -> Response:
    return render(
        request,
        "subject_access.html",
        methods=[m.value for m in VerificationMethod],
        **{"report": None, "problem": None, **context},
    )


@router.get("/subject-access")
def subject_access_page(request: Request, session: OfficerSession) -> Response:
    """The form for a verified request to see one's data."""
    return _subject_access_page(request)


@router.post("/subject-access")
def subject_access(request: Request, session: OfficerSession, form: CheckedForm) -> Response:
    """Produce the report; it is shown in this response and stored encrypted."""
    container = container_of(request)
    try:
        person = persons_from(form, container, session)[0]
        body = _report_request(form, person)
        with transaction(container.engine, container.log) as db:
            report = produce_report(db, container, session.principal(), body)
    except InvalidRequest as exc:
        return _subject_access_page(request, problem=message_of(request, exc), status=exc.status)
    return _subject_access_page(request, report=report)


def _report_request(form: FormData, person: PersonRef) -> ReportRequest:
    since, until = field(form, "since", limit=10), field(form, "until", limit=10)
    period = {"since": since or None, "until": until or None} if since or until else None
    try:
        return ReportRequest.model_validate(
            {
                "person": person,
                "verification": {
                    "method": field(form, "method", limit=40),
                    "reference": field(form, "reference", limit=200),
                },
                "period": period,
            }
        )
    except ValidationError:
        raise FormProblem("form_incomplete") from None
