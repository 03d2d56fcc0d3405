"""Privacy officer: the override review queue, alerts and the consent look-up."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from broker.alerts.models import Alert
from broker.alerts.service import list_alerts, resolve_alert
from broker.console.forms import persons_from
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
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.disclosures.overrides import (
    counts_per_professional,
    describe,
    list_overrides,
    review_override,
)
from broker.disclosures.schemas import OverrideReview, OverrideStatement
from broker.errors import Conflict, InvalidRequest, NotFound
from broker.transaction import transaction
from consent.registry import consents_of, history

router = APIRouter(route_class=ConsoleRoute)
OVERRIDE_STATUSES = ("pending", "justified", "unjustified")
STATEMENT_FIELDS = tuple(OverrideStatement.model_fields)


# --- Overrides --------------------------------------------------------------------------


@router.get("/overrides")
def overrides(request: Request, session: OfficerSession, db: SessionDep) -> Response:
    """The review queue, earliest deadline first, and overrides per professional."""
    container = container_of(request)
    status = request.query_params.get("status", "pending")
    status = status if status in OVERRIDE_STATUSES else "pending"
    now = container.clock.now()
    principal = session.principal()
    return render(
        request,
        "overrides.html",
        statuses=OVERRIDE_STATUSES,
        current_status=status,
        overrides=[
            describe(container, o, now=now) for o in list_overrides(db, principal, status=status)
        ],
        counts=counts_per_professional(db, principal),
    )


def _override(db: Session, container: Container, session: ConsoleSession, override_id: str) -> Any:
    for found in list_overrides(db, session.principal(), status=None):
        if found.id == override_id:
            return describe(container, found, now=container.clock.now())
    raise NotFound("No such override.")


def _override_page(
    request: Request,
    session: ConsoleSession,
    override_id: str,
    *,
    message: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    container = container_of(request)
    with transaction(container.engine, container.log) as db:
        described = _override(db, container, session, override_id)
    return render(
        request,
        "override_detail.html",
        status=status,
        o=described,
        statement_fields=STATEMENT_FIELDS,
        message=message,
        problem=problem,
    )


@router.get("/overrides/{override_id}")
def override_detail(request: Request, override_id: str, session: OfficerSession) -> Response:
    """One override with its justification and the review form."""
    return _override_page(request, session, override_id)


@router.post("/overrides/{override_id}/review")
def review(
    request: Request, override_id: str, session: OfficerSession, form: CheckedForm
) -> Response:
    """Record whether the override was justified, with a note."""
    container = container_of(request)
    choice = field(form, "justified", limit=3)
    try:
        if choice not in ("yes", "no"):
            raise ValueError("no choice")
        body = OverrideReview.model_validate(
            {"justified": choice == "yes", "note": field(form, "note")}
        )
    except ValueError:
        return _override_page(
            request, session, override_id, problem=words_of(request)("form_incomplete"), status=422
        )
    try:
        with transaction(container.engine, container.log) as db:
            review_override(db, container, session.principal(), override_id, body)
    except (InvalidRequest, Conflict) as exc:
        return _override_page(
            request, session, override_id, problem=message_of(request, exc), status=exc.status
        )
    return _override_page(
        request, session, override_id, message=words_of(request)("review_recorded")
    )


# --- Alerts -----------------------------------------------------------------------------


def _alert_view(alert: Alert) -> dict[str, Any]:
    details = json.loads(alert.details)
    link = "/console/log?" + "&".join(
        f"{k}={v}"
        for k, v in (
            ("organisation", alert.org_id),
            ("user", alert.user_id or ""),
            ("since", alert.window_start.date().isoformat()),
            ("until", alert.window_end.date().isoformat()),
        )
        if v
    )
    return {
        "id": alert.id,
        "kind": alert.kind,
        "org_id": alert.org_id,
        "user_id": alert.user_id,
        "window_start": alert.window_start,
        "window_end": alert.window_end,
        "details_items": sorted(details.items()) if isinstance(details, dict) else [],
        "resolved_at": alert.resolved_at,
        "resolution": alert.resolution,
        "log_link": link,
    }


def _alerts_page(
    request: Request, session: ConsoleSession, *, open_only: bool, message: str | None = None
) -> Response:
    container = container_of(request)
    with transaction(container.engine, container.log) as db:
        alerts = [_alert_view(a) for a in list_alerts(db, session.principal(), open_only=open_only)]
    return render(request, "alerts.html", alerts=alerts, open_only=open_only, message=message)


@router.get("/alerts")
def alerts(request: Request, session: OfficerSession) -> Response:
    """Open alerts (or all with ``?show=all``) of the organisation."""
    return _alerts_page(request, session, open_only=request.query_params.get("show") != "all")


@router.post("/alerts/{alert_id}/resolve")
def resolve(
    request: Request, alert_id: str, session: OfficerSession, form: CheckedForm
) -> Response:
    """Record how an alert was handled."""
    container = container_of(request)
    note = field(form, "note", limit=1000)
    if len(note) < 3:
        raise FormProblem("form_incomplete")
    with transaction(container.engine, container.log) as db:
        resolve_alert(db, session.principal(), alert_id, note=note, now=container.clock.now())
    return _alerts_page(
        request, session, open_only=True, message=words_of(request)("alert_resolved")
    )


# --- Consent look-up --------------------------------------------------------------------


@router.get("/consents")
def consents_page(request: Request, session: OfficerSession) -> Response:
    """Look up a person's consents: the identifier goes in the form."""
    return render(request, "consents.html", looked_up=False, problem=None)


@router.post("/consents")
def consents(request: Request, session: OfficerSession, form: CheckedForm) -> Response:
    """The person's consents recorded by the organisation, with their history (logged)."""
    container = container_of(request)
    try:
        person = persons_from(form, container, session)[0]
    except FormProblem as exc:
        return render(request, "consents.html", looked_up=False, problem=message_of(request, exc))
    principal = session.principal()
    subject = container.pseudonymiser.log_pseudonym(person.pseudonym(container.pseudonymiser))
    with transaction(container.engine, container.log) as db:
        own = [
            c
            for c in consents_of(db, subject)
            if principal.is_broker_dpo or c.recorded_by_org == principal.org_id
        ]
        ids = {c.id for c in own}
        events = [e for e in history(db, subject) if e.consent_id in ids]
        record(
            db,
            LogEvent.by(
                principal,
                EventType.CONSENT,
                "looked_up",
                persons=(subject,),
                details={"found": len(own), "via": "console"},
            ),
        )
    return render(
        request, "consents.html", looked_up=True, consents=own, events=events, problem=None
    )
