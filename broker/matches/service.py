"""Finding who else is involved with a person, and telling both sides.

Used by registration and by hit queries alike. Shielded signals (a shelter stay) never
reveal their organisation; embargoed signals (a police investigation) are invisible to the
other side, and only their registrant learns of the match. A shelter acting as asker or
registrant is itself hidden behind the fallback desk.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.matches.directory import Directory
from broker.matches.models import Match, MatchNotice, MatchParty, Notification
from broker.signals.models import Signal, SignalPerson
from broker.signals.repository import SignalRepository
from broker.types import OrgType
from keys import MatchingPseudonym


@dataclass(frozen=True)
class Involvement:
    """An active signal of some organisation on one of the persons asked about."""

    person: int
    signal: Signal
    via_family: bool = False

    @property
    def is_hidden(self) -> bool:
        """Shielded or embargoed: the organisation is not shown to others."""
        return self.signal.shielded or self.signal.embargo


def find_involvements(
    session: Session, container: Container, ys: Sequence[MatchingPseudonym], *, now: datetime
) -> list[Involvement]:
    """Active signals on each person, directly or through a family member."""
    repo = SignalRepository(session)
    token_owner = _tokens(container, ys)
    direct = repo.active_by_tokens(token_owner, now=now)
    found = {
        (token_owner[p.index_token], s.id): Involvement(token_owner[p.index_token], s)
        for p, s in direct
    }
    # Family: persons registered together with an asked-about person in any signal.
    relatives = [
        p for p in repo.persons_of({s.id for _, s in direct}) if p.index_token not in token_owner
    ]
    owner_of_signal = {s.id: token_owner[p.index_token] for p, s in direct}
    via: dict[bytes, int] = {}
    for relative in relatives:
        owner = owner_of_signal[relative.signal_id]
        y = MatchingPseudonym(container.fields.decrypt(relative.y_enc, aad=person_aad(relative)))
        for token in container.pseudonymiser.lookup_tokens(y).values():
            via.setdefault(token, owner)
    for person, signal in repo.active_by_tokens(via, now=now):
        key = (via[person.index_token], signal.id)
        found.setdefault(key, Involvement(via[person.index_token], signal, via_family=True))
    return list(found.values())


def _tokens(container: Container, ys: Sequence[MatchingPseudonym]) -> dict[bytes, int]:
    owner: dict[bytes, int] = {}
    for number, y in enumerate(ys):
        for token in container.pseudonymiser.lookup_tokens(y).values():
            owner.setdefault(token, number)
    return owner


def person_aad(person: SignalPerson) -> bytes:
    """Associated data binding an encrypted pseudonym to its row."""
    return f"signal_person:{person.signal_id}:{person.position}".encode()


def is_hidden_org(org_type: OrgType) -> bool:
    """A shelter never shows itself to others, not even as the one asking."""
    return org_type is OrgType.SHELTER


@dataclass(frozen=True)
class Actor:
    """The organisation whose query or registration caused the match."""

    org_id: str
    org_type: OrgType
    desk: str | None
    hidden: bool


def notify_matches(
    session: Session,
    container: Container,
    *,
    actor: Actor,
    ys: Sequence[MatchingPseudonym],
    involvements: Sequence[Involvement],
    cause: str,
) -> int:
    """Record matches and queue notifications (deduplicated per pair, person and day)."""
    now = container.clock.now()
    directory = Directory(session)
    sent = 0
    for inv in involvements:
        source = inv.signal.org_id
        if source == actor.org_id:
            continue
        key = container.pseudonymiser.log_pseudonym(ys[inv.person])
        match = _match(session, key, now=now)
        _join(session, match, actor.org_id, hidden=actor.hidden, now=now)
        _join(session, match, source, hidden=inv.is_hidden, now=now)
        about_actor = _counterpart(directory, container, actor.org_id, actor.desk, actor.hidden)
        if _first_today(session, source, actor.org_id, key, now=now):
            _queue(
                session,
                container,
                directory,
                source,
                ys[inv.person],
                match,
                about_actor,
                inv,
                cause,
                now,
            )
            sent += 1
        if not inv.is_hidden and _first_today(session, actor.org_id, source, key, now=now):
            about_source = _counterpart(directory, container, source, inv.signal.desk_id, False)
            _queue(
                session,
                container,
                directory,
                actor.org_id,
                ys[inv.person],
                match,
                about_source,
                inv,
                cause,
                now,
            )
            sent += 1
        parties = (source,) if inv.is_hidden else (actor.org_id, source)
        record(
            session,
            LogEvent.system(
                EventType.MATCH,
                "matched",
                persons=(key,),
                parties=parties,
                details={"match_id": match.id, "cause": cause, "family": inv.via_family},
            ),
        )
    return sent


def _counterpart(
    directory: Directory, container: Container, org_id: str, desk: str | None, hidden: bool
) -> dict[str, Any]:
    if hidden:
        fallback = container.catalogue.category("shelter_stay").fallback_desk
        via = directory.contact(fallback.organisation, fallback.desk) if fallback else None
        return {"organisation": None, "contact": via, "note": "known; contact via Veilig Thuis"}
    return {"organisation": directory.describe(org_id), "contact": directory.contact(org_id, desk)}


def _match(session: Session, person_key: str, *, now: datetime) -> Match:
    match = session.exec(select(Match).where(Match.person_key == person_key)).first()
    if match is None:
        match = Match(id=uuid.uuid4().hex, person_key=person_key, created_at=now)
        session.add(match)
        session.flush()
    return match


def _join(session: Session, match: Match, org_id: str, *, hidden: bool, now: datetime) -> None:
    party = session.get(MatchParty, (match.id, org_id))
    if party is None:
        session.add(MatchParty(match_id=match.id, org_id=org_id, hidden=hidden, joined_at=now))
    elif hidden and not party.hidden:
        party.hidden = True
        session.add(party)


def _first_today(
    session: Session, recipient: str, counterpart: str, key: str, *, now: datetime
) -> bool:
    notice_key = (now.date(), recipient, counterpart, key)
    if session.get(MatchNotice, notice_key) is not None:
        return False
    session.add(
        MatchNotice(day=now.date(), recipient=recipient, counterpart=counterpart, person_key=key)
    )
    session.flush()
    return True


def _queue(
    session: Session,
    container: Container,
    directory: Directory,
    recipient: str,
    y: MatchingPseudonym,
    match: Match,
    counterpart: dict[str, Any],
    inv: Involvement,
    cause: str,
    now: datetime,
) -> None:
    recipient_type = OrgType(directory.describe(recipient)["type"])
    category = container.catalogue.category(inv.signal.category)
    body = {
        "kind": "match",
        "match_id": match.id,
        "cause": cause,
        "person": container.pseudonymiser.release_pseudonym(y, recipient=recipient),
        "counterpart": counterpart,
        "via_family": inv.via_family,
        "category": inv.signal.category
        if recipient == inv.signal.org_id or category.shows_category_to(recipient_type)
        else None,
    }
    queue_notification(session, container, recipient, "match", body, now=now)


def queue_notification(
    session: Session,
    container: Container,
    org_id: str,
    kind: str,
    body: dict[str, Any],
    *,
    now: datetime,
) -> Notification:
    """Write a notification to the outbox, in the caller's transaction."""
    notification = Notification(
        id=uuid.uuid4().hex,
        org_id=org_id,
        kind=kind,
        body=json.dumps(body, sort_keys=True, ensure_ascii=False),
        created_at=now,
        webhook_next_at=now,
    )
    session.add(notification)
    record(
        session,
        LogEvent.system(
            EventType.NOTIFICATION,
            "queued",
            parties=(org_id,),
            details={"notification_id": notification.id, "kind": kind},
        ),
    )
    return notification
