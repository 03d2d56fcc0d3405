"""Serious-danger overrides: released at once, told to privacy officers, reviewed later."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from broker.alerts.service import raise_alert
from broker.auth.principal import Principal
from broker.clock import as_utc
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.search import require_reviewer
from broker.disclosure_log.service import record
from broker.disclosures.models import Disclosure, Override
from broker.disclosures.schemas import OverrideReview, OverrideStatement
from broker.errors import Conflict, NotFound
from broker.matches.service import queue_notification

OVERRIDE_ALERT_THRESHOLD = 3
OVERRIDE_ALERT_WINDOW = timedelta(days=30)


def open_override(
    session: Session,
    container: Container,
    principal: Principal,
    disclosure: Disclosure,
    statement: OverrideStatement,
    *,
    sources: list[str],
) -> str:
    """Record the override, notify both organisations at once, watch per-professional counts."""
    now = container.clock.now()
    override = Override(
        id=uuid.uuid4().hex,
        disclosure_id=disclosure.id,
        requester_org=principal.org_id,
        requester_user=principal.user,
        source_orgs=sources,
        justification_enc=b"",
        created_at=now,
        deadline=now + timedelta(hours=container.settings.override_review_hours),
        status="pending",
    )
    override.justification_enc = container.fields.seal_json(
        statement.model_dump(), aad=f"override:{override.id}".encode()
    )
    session.add(override)
    session.flush()
    for org in sorted({principal.org_id, *sources}):
        queue_notification(
            session,
            container,
            org,
            "override",
            {
                "kind": "override",
                "override_id": override.id,
                "requester": principal.org_id,
                "deadline": override.deadline.isoformat(),
                "for": "privacy_officer",
            },
            now=now,
        )
    recent = session.exec(
        select(Override).where(
            Override.requester_org == principal.org_id,
            Override.requester_user == principal.user,
            col(Override.created_at) >= now - OVERRIDE_ALERT_WINDOW,
        )
    ).all()
    if len(recent) > OVERRIDE_ALERT_THRESHOLD:
        raise_alert(
            session,
            org_id=principal.org_id,
            user_id=principal.user,
            kind="override_threshold",
            window=(now - OVERRIDE_ALERT_WINDOW, now),
            details={"overrides_30_days": len(recent), "threshold": OVERRIDE_ALERT_THRESHOLD},
        )
    return override.id


def _visible(principal: Principal, override: Override) -> bool:
    return principal.is_broker_dpo or principal.org_id in {
        override.requester_org,
        *override.source_orgs,
    }


def list_overrides(
    session: Session, principal: Principal, *, status: str | None
) -> Sequence[Override]:
    """Overrides the officer's organisation requested or was the source of."""
    require_reviewer(principal)
    query = select(Override).order_by(col(Override.deadline))
    if status:
        query = query.where(Override.status == status)
    return [o for o in session.exec(query.limit(2000)).all() if _visible(principal, o)]


def describe(container: Container, override: Override, *, now: datetime) -> dict[str, Any]:
    """An override as privacy officers see it, justification included."""
    statement = container.fields.open_json(
        override.justification_enc, aad=f"override:{override.id}".encode()
    )
    note = (
        container.fields.decrypt(
            override.review_note_enc, aad=f"override-review:{override.id}".encode()
        ).decode()
        if override.review_note_enc
        else None
    )
    return {
        "id": override.id,
        "disclosure_id": override.disclosure_id,
        "requester": {"organisation": override.requester_org, "user": override.requester_user},
        "sources": override.source_orgs,
        "justification": statement,
        "created_at": override.created_at,
        "deadline": override.deadline,
        "overdue": override.status == "pending" and as_utc(override.deadline) < now,
        "status": override.status,
        "escalated_at": override.escalated_at,
        "review": {
            "by": override.reviewed_by,
            "organisation": override.reviewed_by_org,
            "at": override.reviewed_at,
            "note": note,
        }
        if override.reviewed_at
        else None,
    }


def review_override(
    session: Session,
    container: Container,
    principal: Principal,
    override_id: str,
    review: OverrideReview,
) -> Override:
    """Record whether the override was justified, with a note."""
    require_reviewer(principal)
    override = session.get(Override, override_id)
    if override is None or not _visible(principal, override):
        raise NotFound("No such override.")
    if override.status != "pending":
        raise Conflict("This override has already been reviewed.")
    now = container.clock.now()
    override.status = "justified" if review.justified else "unjustified"
    override.reviewed_at, override.reviewed_by = now, principal.user
    override.reviewed_by_org = principal.org_id
    override.review_note_enc = container.fields.encrypt(
        review.note.encode(), aad=f"override-review:{override.id}".encode()
    )
    session.add(override)
    record(
        session,
        LogEvent.by(
            principal,
            EventType.OVERRIDE_REVIEW,
            override.status,
            purpose="oversight",
            legal_basis="serious_danger",
            basis_ref=override.id,
            parties=(override.requester_org, *override.source_orgs),
            details={"overdue": as_utc(override.deadline) < now},
        ),
    )
    return override


def counts_per_professional(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """How many overrides each professional of the organisation filed, and how they were judged."""
    require_reviewer(principal)
    rows = session.exec(select(Override).where(Override.requester_org == principal.org_id)).all()
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        counts.setdefault(row.requester_user, Counter())[row.status] += 1
    return [
        {"user": user, "total": sum(c.values()), **dict(c)} for user, c in sorted(counts.items())
    ]


def escalate_overdue(session: Session, container: Container) -> int:
    """Escalate pending overrides past their deadline: alert and tell the broker's DPO."""
    now = container.clock.now()
    overdue = session.exec(
        select(Override).where(
            Override.status == "pending",
            col(Override.deadline) < now,
            col(Override.escalated_at).is_(None),
        )
    ).all()
    for override in overdue:
        override.escalated_at = now
        session.add(override)
        raise_alert(
            session,
            org_id=override.requester_org,
            user_id=None,
            kind="override_review_overdue",
            window=(override.deadline, now),
            details={"override_id": override.id},
        )
        queue_notification(
            session,
            container,
            "broker",
            "override_overdue",
            {
                "kind": "override_overdue",
                "override_id": override.id,
                "requester": override.requester_org,
            },
            now=now,
        )
        record(
            session,
            LogEvent.system(
                EventType.OVERRIDE_REVIEW,
                "escalated",
                basis_ref=override.id,
                parties=(override.requester_org, *override.source_orgs),
            ),
        )
    return len(overdue)
