"""The professional's inbox: matches and other notifications, and release requests to decide."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from broker.console.i18n import DASH, Words
from broker.console.problems import FormProblem
from broker.console.session import ConsoleSession
from broker.console.web import (
    CheckedForm,
    ConsoleRoute,
    MemberSession,
    field,
    message_of,
    render,
    words_of,
)
from broker.dependencies import container_of
from broker.disclosures.approvals import decide, pending_for
from broker.disclosures.schemas import ApprovalDecision
from broker.errors import Conflict, InvalidRequest, NotFound, PolicyDenied
from broker.matches.directory import Directory
from broker.matches.models import Notification
from broker.transaction import transaction
from broker.types import Role

router = APIRouter(route_class=ConsoleRoute)
INBOX_SIZE = 50


@dataclass(frozen=True)
class InboxLine:
    """One notification as the inbox shows it."""

    created_at: datetime
    kind: str
    summary: str


def summarise(words: Words, kind: str, body: dict[str, Any]) -> str:
    """A notification in one readable sentence; never more than its body holds."""
    if kind == "match":
        counterpart = body.get("counterpart") or {}
        org = (counterpart.get("organisation") or {}).get("name") or words("shielded_org")
        desk = counterpart.get("contact") or {}
        call = f"{desk.get('name', '')} {desk.get('phone', '')}".strip() or DASH
        return words("match_summary", org=org, desk=call)
    if kind == "release_request":
        requester = (body.get("requester") or {}).get("name", DASH)
        return words(
            "release_request_summary", org=requester, purpose=words.purpose(body["purpose"])
        )
    if kind == "release_decision":
        status = words(f"item_{body.get('status', '')}")
        return words("release_decision_summary", reference=body.get("disclosure_id"), status=status)
    if kind == "override":
        deadline = words.when(body.get("deadline"))
        return words("override_summary", org=body.get("requester", DASH), deadline=deadline)
    if kind == "coordinator":
        return words("coordinator_summary", org=body.get("coordinator", DASH))
    return words("other_summary")


def _lines(db: Session, words: Words, org_id: str) -> list[InboxLine]:
    rows = db.exec(
        select(Notification)
        .where(Notification.org_id == org_id)
        .order_by(col(Notification.created_at).desc())
        .limit(INBOX_SIZE)
    ).all()
    return [
        InboxLine(n.created_at, n.kind, summarise(words, n.kind, json.loads(n.body))) for n in rows
    ]


def _requests(db: Session, session: ConsoleSession) -> list[dict[str, Any]]:
    directory = Directory(db)
    return [
        {
            "item_id": item.id,
            "requester": directory.describe(d.requester_org),
            "purpose": d.purpose,
            "legal_basis": d.legal_basis,
            "category": item.category,
            "requested_at": d.created_at,
        }
        for item, d in pending_for(db, session.principal())
    ]


def _inbox(
    request: Request,
    session: ConsoleSession,
    *,
    message: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    container = container_of(request)
    with transaction(container.engine, container.log) as db:
        lines = _lines(db, words_of(request), session.org_id)
        requests = _requests(db, session)
    return render(
        request,
        "inbox.html",
        status=status,
        notifications=lines,
        requests=requests,
        can_decide=session.has_any_role(Role.COORDINATOR),
        message=message,
        problem=problem,
    )


@router.get("/inbox")
def inbox(request: Request, session: MemberSession) -> Response:
    """Notifications of the organisation, newest first, and requests awaiting a decision."""
    return _inbox(request, session)


@router.post("/inbox/decision")
def decide_request(request: Request, session: MemberSession, form: CheckedForm) -> Response:
    """Approve or refuse a release of the organisation's own signal, with a reason."""
    container = container_of(request)
    try:
        decision = _decision(field(form, "decision", limit=10), field(form, "reason", limit=2000))
        with transaction(container.engine, container.log) as db:
            decide(db, container, session.principal(), field(form, "item_id", limit=64), decision)
    except (InvalidRequest, PolicyDenied, NotFound, Conflict) as exc:
        return _inbox(request, session, problem=message_of(request, exc), status=exc.status)
    return _inbox(request, session, message=words_of(request)("decision_recorded"))


def _decision(choice: str, reason: str) -> ApprovalDecision:
    try:
        return ApprovalDecision.model_validate({"decision": choice, "reason": reason})
    except ValidationError:
        raise FormProblem("form_incomplete") from None
