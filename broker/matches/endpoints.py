"""The inbox of notifications and the coordinator of a match."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from broker.auth.principal import Principal
from broker.dependencies import ContainerDep, PrincipalDep, SessionDep, require_role
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.errors import InvalidRequest, NotFound
from broker.matches.directory import Directory
from broker.matches.models import Match, MatchParty, Notification
from broker.matches.service import queue_notification
from broker.types import Role

router = APIRouter(prefix="/v1", tags=["matches"])
MemberDep = Annotated[Principal, Depends(require_role(Role.PROFESSIONAL, Role.COORDINATOR))]


class NotificationPublic(BaseModel):
    """One inbox item."""

    id: str
    kind: str
    created_at: datetime
    read: bool
    body: dict[str, Any]


class Inbox(BaseModel):
    """The organisation's notifications, newest first."""

    items: list[NotificationPublic]


class CoordinatorSet(BaseModel):
    """Record the coordinator (regisseur) of a match: an organisation's desk."""

    organisation: str = Field(max_length=64)
    desk: str = Field(max_length=64)


class MatchPublic(BaseModel):
    """A match as one party sees it: hidden parties are not shown."""

    id: str
    created_at: datetime
    parties: list[dict[str, Any]]
    coordinator: dict[str, Any] | None


@router.get("/notifications", response_model=Inbox)
def inbox(
    principal: MemberDep,
    session: SessionDep,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Inbox:
    """The caller's organisation's notifications."""
    query = select(Notification).where(Notification.org_id == principal.org_id)
    if unread:
        query = query.where(col(Notification.read_at).is_(None))
    rows = session.exec(query.order_by(col(Notification.created_at).desc()).limit(limit)).all()
    return Inbox(
        items=[
            NotificationPublic(
                id=n.id,
                kind=n.kind,
                created_at=n.created_at,
                read=n.read_at is not None,
                body=json.loads(n.body),
            )
            for n in rows
        ]
    )


@router.post("/notifications/{notification_id}/read", response_model=NotificationPublic)
def mark_read(
    notification_id: str, principal: MemberDep, session: SessionDep, container: ContainerDep
) -> NotificationPublic:
    """Mark one of the organisation's notifications as read."""
    item = session.get(Notification, notification_id)
    if item is None or item.org_id != principal.org_id:
        raise NotFound("No such notification.")
    item.read_at = item.read_at or container.clock.now()
    session.add(item)
    return NotificationPublic(
        id=item.id,
        kind=item.kind,
        created_at=item.created_at,
        read=True,
        body=json.loads(item.body),
    )


def _visible_match(session: SessionDep, principal: Principal, match_id: str) -> Match:
    match = session.get(Match, match_id)
    if match is None or session.get(MatchParty, (match_id, principal.org_id)) is None:
        raise NotFound("No such match.")
    return match


def _public(session: SessionDep, principal: Principal, match: Match) -> MatchPublic:
    directory = Directory(session)
    parties = session.exec(select(MatchParty).where(MatchParty.match_id == match.id)).all()
    shown = [
        directory.describe(p.org_id)
        for p in parties
        if not p.hidden or p.org_id == principal.org_id
    ]
    coordinator = None
    if match.coordinator_org:
        coordinator = {
            "organisation": directory.describe(match.coordinator_org),
            "contact": directory.contact(match.coordinator_org, match.coordinator_desk),
            "set_at": match.coordinator_set_at,
        }
    return MatchPublic(
        id=match.id, created_at=match.created_at, parties=shown, coordinator=coordinator
    )


@router.get("/matches/{match_id}", response_model=MatchPublic)
def get_match(match_id: str, principal: MemberDep, session: SessionDep) -> MatchPublic:
    """A match the caller's organisation is party to."""
    return _public(session, principal, _visible_match(session, principal, match_id))


@router.post("/matches/{match_id}/coordinator", response_model=MatchPublic)
def set_coordinator(
    match_id: str,
    body: CoordinatorSet,
    principal: MemberDep,
    session: SessionDep,
    container: ContainerDep,
) -> MatchPublic:
    """Record the coordinator (regisseur); every involved organisation is told."""
    match = _visible_match(session, principal, match_id)
    parties = session.exec(select(MatchParty).where(MatchParty.match_id == match.id)).all()
    visible = {p.org_id for p in parties if not p.hidden or p.org_id == principal.org_id}
    if (
        body.organisation not in visible
        or Directory(session).contact(body.organisation, body.desk) is None
    ):
        raise InvalidRequest("The coordinator must be a desk of an organisation in this match.")
    now = container.clock.now()
    match.coordinator_org, match.coordinator_desk = body.organisation, body.desk
    match.coordinator_set_by, match.coordinator_set_at = principal.org_id, now
    session.add(match)
    for party in parties:
        if party.org_id != principal.org_id:
            queue_notification(
                session,
                container,
                party.org_id,
                "coordinator",
                {
                    "kind": "coordinator",
                    "match_id": match.id,
                    "coordinator": body.organisation,
                    "desk": body.desk,
                },
                now=now,
            )
    record(
        session,
        LogEvent.by(
            principal,
            EventType.COORDINATOR,
            "recorded",
            persons=(match.person_key,),
            parties=tuple(sorted(visible)),
            details={"match_id": match.id, "coordinator": body.organisation},
        ),
    )
    return _public(session, principal, match)


@router.get("/matches", response_model=list[MatchPublic])
def list_matches(
    principal: PrincipalDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[MatchPublic]:
    """Matches the caller's organisation is party to."""
    ids = select(MatchParty.match_id).where(MatchParty.org_id == principal.org_id)
    rows = session.exec(
        select(Match)
        .where(col(Match.id).in_(ids))
        .order_by(col(Match.created_at).desc())
        .limit(limit)
    ).all()
    return [_public(session, principal, m) for m in rows]
