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
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Insert, insert
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.repository import table_of
from broker.disclosure_log.service import record
from broker.matches.directory import Directory
from broker.matches.models import Match, MatchNotice, MatchParty, Notification
from broker.signals.models import SignalPerson
from broker.signals.repository import ActiveRef, SignalFacts, SignalRepository
from broker.types import OrgType
from keys import MatchingPseudonym


@dataclass(frozen=True)
class Involvement:
    """An active signal of some organisation on one of the persons asked about."""

    person: int
    signal: SignalFacts
    via_family: bool = False

    @property
    def is_hidden(self) -> bool:
        """Shielded or embargoed: the organisation is not shown to others."""
        return self.signal.shielded or self.signal.embargo


def find_involvements(
    session: Session,
    container: Container,
    ys: Sequence[MatchingPseudonym],
    *,
    now: datetime,
    exclude_org: str | None = None,
) -> list[Involvement]:
    """Active signals on each person, directly or through a family member.

    Signals of ``exclude_org`` still link family members but are not returned, nor loaded:
    a registration leaves its own organisation's signals out, and meets many of them.
    """
    repo = SignalRepository(session)
    token_owner = _tokens(container, ys)
    signals: dict[str, SignalFacts] = {}
    direct = _active(repo, token_owner, signals, now=now, lean=exclude_org is not None)
    found: dict[tuple[int, str], bool] = {}  # (person, signal id) -> via a family member
    for ref in direct:
        found.setdefault((token_owner[ref.index_token], ref.signal_id), False)
    # Family: persons registered together with an asked-about person in any signal.
    owner_of_signal = {ref.signal_id: token_owner[ref.index_token] for ref in direct}
    relatives = [
        p for p in repo.person_keys_of(owner_of_signal) if p.index_token not in token_owner
    ]
    via: dict[bytes, int] = {}
    for relative in relatives:
        owner = owner_of_signal[relative.signal_id]
        aad = person_aad_of(relative.signal_id, relative.position)
        y = MatchingPseudonym(container.fields.decrypt(relative.y_enc, aad=aad))
        for token in container.pseudonymiser.lookup_tokens(y).values():
            via.setdefault(token, owner)
    family = _active(repo, via, signals, now=now, lean=exclude_org is not None)
    for ref in family:
        found.setdefault((via[ref.index_token], ref.signal_id), True)
    org_of = {ref.signal_id: ref.org_id for ref in (*direct, *family)}
    wanted = {sid for _, sid in found if org_of[sid] != exclude_org and sid not in signals}
    if wanted:
        signals.update(repo.facts_by_ids(wanted))
    return [
        Involvement(person, signals[sid], via_family=via_family)
        for (person, sid), via_family in found.items()
        if org_of[sid] != exclude_org and sid in signals  # gone meanwhile: purged
    ]


def _active(
    repo: SignalRepository,
    tokens: dict[bytes, int],
    signals: dict[str, SignalFacts],
    *,
    now: datetime,
    lean: bool,
) -> list[ActiveRef]:
    """Active signals on these tokens; unless ``lean``, with their facts put in ``signals``."""
    if lean:
        return repo.active_refs(tokens, now=now)
    refs = []
    for token, signal in repo.active_facts(tokens, now=now):
        signals[signal.id] = signal
        refs.append(ActiveRef(token, signal.id, signal.org_id))
    return refs


def _tokens(container: Container, ys: Sequence[MatchingPseudonym]) -> dict[bytes, int]:
    owner: dict[bytes, int] = {}
    for number, y in enumerate(ys):
        for token in container.pseudonymiser.lookup_tokens(y).values():
            owner.setdefault(token, number)
    return owner


def person_aad(person: SignalPerson) -> bytes:
    """Associated data binding an encrypted pseudonym to its row."""
    return person_aad_of(person.signal_id, person.position)


def person_aad_of(signal_id: str, position: int) -> bytes:
    """``person_aad`` of the row (signal_id, position), without building the row."""
    return f"signal_person:{signal_id}:{position}".encode()


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


@dataclass(frozen=True)
class Sighting:
    """One occasion on which an actor met persons: a hit query, or one registered signal."""

    actor: Actor
    ys: Sequence[MatchingPseudonym]
    involvements: Sequence[Involvement]


@dataclass(frozen=True)
class Recorded:
    """What recording one sighting produced: notifications queued and events for the log."""

    sent: int
    events: tuple[LogEvent, ...]


# Rows per multi-row INSERT: well under the bound-parameter limits of SQLite and PostgreSQL.
_ROWS_PER_INSERT = 1000
# Person keys per SELECT ... IN: a bulk registration can match many thousands of persons.
_KEYS_PER_SELECT = 1000

# (day, recipient, counterpart, person_key): the key of ``match_notice``.
NoticeKey = tuple[date, str, str, str]


class MatchMemoKey(NamedTuple):
    """A pairing written today, for ``Container.match_memo`` (see ``broker.memo``).

    A later sighting of the same pairing on the same day would find the match, join the
    parties already joined and claim the notices already claimed: it skips those writes
    (its log entry is still written).
    """

    day: date
    person_key: str
    actor: str
    actor_hidden: bool
    source: str
    source_hidden: bool


@dataclass(frozen=True)
class _Pairing:
    """An involvement of another organisation than the actor's, with the person's log key."""

    actor: Actor
    inv: Involvement
    y: MatchingPseudonym
    key: str

    @property
    def source(self) -> str:
        return self.inv.signal.org_id

    def memo_key(self, day: date) -> MatchMemoKey:
        """What this pairing's writes depend on: the match, both parties, the day's notices."""
        return MatchMemoKey(
            day, self.key, self.actor.org_id, self.actor.hidden, self.source, self.inv.is_hidden
        )

    def notices(self, day: date) -> list[NoticeKey]:
        """Who is told of whom: the source always, the actor unless the source is hidden."""
        told = [(day, self.source, self.actor.org_id, self.key)]
        if not self.inv.is_hidden:
            told.append((day, self.actor.org_id, self.source, self.key))
        return told


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
    (recorded,) = record_matches(
        session, container, [Sighting(actor, ys, involvements)], cause=cause
    )
    for logged in recorded.events:
        record(session, logged)
    return recorded.sent


def record_matches(
    session: Session, container: Container, sightings: Sequence[Sighting], *, cause: str
) -> list[Recorded]:
    """Record the matches of several sightings at once; the caller logs the events.

    Set-based, a handful of statements whatever the number of involvements: match rows,
    parties, notices and notifications are each written in one statement, and the
    ON CONFLICT forms keep concurrent brokers recording the same match from failing.
    The result, per sighting, equals recording the sightings one by one in order: a
    notice key wanted twice goes to its first claimant, and the events come in the same
    order (per involvement: its notifications, then its match).
    """
    now = container.clock.now()
    day = now.date()
    plans = [_pairings(container, sighting) for sighting in sightings]
    match_ids: dict[str, str] = {}
    unwritten: list[_Pairing] = []
    for pairing in (pairing for plan in plans for pairing in plan):
        known = container.match_memo.get(pairing.memo_key(day))
        if known is None:
            unwritten.append(pairing)
        else:
            match_ids[pairing.key] = known
    fresh: set[NoticeKey] = set()
    if unwritten:
        written = _match_ids(session, {p.key for p in unwritten}, now=now)
        match_ids.update(written)
        _join(session, unwritten, written, now=now)
        fresh = _claim_notices(session, [n for p in unwritten for n in p.notices(day)])
        container.match_memo.add_after_commit(
            session, [(p.memo_key(day), written[p.key]) for p in unwritten]
        )
    directory = Directory(session)
    rows: list[dict[str, Any]] = []
    results: list[Recorded] = []
    for plan in plans:
        events: list[LogEvent] = []
        sent = 0
        for pairing in plan:
            match_id = match_ids[pairing.key]
            for notice in pairing.notices(day):
                if notice not in fresh:
                    continue
                fresh.discard(notice)  # a key wanted twice in this call is told once
                body = _match_body(
                    container, directory, pairing, match_id, recipient=notice[1], cause=cause
                )
                webhook = directory.has_webhook(notice[1])
                rows.append(_notification_row(notice[1], "match", body, now=now, webhook=webhook))
                events.append(_queued(rows[-1]))
                sent += 1
            events.append(_matched(pairing, match_id, cause=cause))
        results.append(Recorded(sent=sent, events=tuple(events)))
    _insert_all(session, insert(table_of(Notification)), rows)
    return results


def _pairings(container: Container, sighting: Sighting) -> list[_Pairing]:
    keys: dict[int, str] = {}
    pairings: list[_Pairing] = []
    for inv in sighting.involvements:
        if inv.signal.org_id == sighting.actor.org_id:
            continue
        y = sighting.ys[inv.person]
        if inv.person not in keys:
            keys[inv.person] = container.pseudonymiser.log_pseudonym(y)
        pairings.append(_Pairing(sighting.actor, inv, y, keys[inv.person]))
    return pairings


def _counterpart(
    directory: Directory, container: Container, org_id: str, desk: str | None, hidden: bool
) -> dict[str, Any]:
    if hidden:
        fallback = container.catalogue.category("shelter_stay").fallback_desk
        via = directory.contact(fallback.organisation, fallback.desk) if fallback else None
        return {"organisation": None, "contact": via, "note": "known; contact via Veilig Thuis"}
    return {"organisation": directory.describe(org_id), "contact": directory.contact(org_id, desk)}


def _upsert(session: Session, model: type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into the model's table that can take an ON CONFLICT clause on this database."""
    table = table_of(model)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _insert_all(session: Session, stmt: Insert, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` with multi-row VALUES, at most ``_ROWS_PER_INSERT`` per statement.

    Given a list of parameters, a statement without RETURNING goes to the driver's
    executemany, which runs it once per row; ``values`` renders the rows into one statement.
    """
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        session.execute(stmt.values(list(rows[start : start + _ROWS_PER_INSERT])))


def _match_ids(session: Session, keys: set[str], *, now: datetime) -> dict[str, str]:
    """The match id of each person key, creating the missing matches."""
    match = table_of(Match)
    wanted = sorted(keys)  # one order for every broker, so inserts cannot deadlock

    def existing(among: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(among), _KEYS_PER_SELECT):
            chunk = among[start : start + _KEYS_PER_SELECT]
            rows = session.execute(
                sa_select(match.c.person_key, match.c.id).where(match.c.person_key.in_(chunk))
            )
            found.update({key: match_id for key, match_id in rows})
        return found

    ids = existing(wanted)
    missing = [key for key in wanted if key not in ids]
    if missing:
        # Another broker may insert the same key meanwhile: its row wins, and is read after.
        stmt = _upsert(session, Match).on_conflict_do_nothing(index_elements=[match.c.person_key])
        created = session.execute(
            stmt.returning(match.c.person_key, match.c.id),
            [{"id": uuid.uuid4().hex, "person_key": key, "created_at": now} for key in missing],
        )
        ids.update({key: match_id for key, match_id in created})
        if len(ids) < len(wanted):
            ids.update(existing([key for key in missing if key not in ids]))
    return ids


def _join(
    session: Session, pairings: Sequence[_Pairing], match_ids: dict[str, str], *, now: datetime
) -> None:
    """Add actor and source to each match; a party once hidden stays hidden."""
    hidden: dict[tuple[str, str], bool] = {}
    for p in pairings:
        for org_id, is_hidden in ((p.actor.org_id, p.actor.hidden), (p.source, p.inv.is_hidden)):
            party = (match_ids[p.key], org_id)
            hidden[party] = hidden.get(party, False) or is_hidden
    table = table_of(MatchParty)
    rows = [
        {"match_id": match_id, "org_id": org_id, "hidden": is_hidden, "joined_at": now}
        for (match_id, org_id), is_hidden in sorted(hidden.items())
    ]
    # A visible party that exists already needs nothing: DO NOTHING leaves the row unlocked.
    # (DO UPDATE would lock it until commit even when its WHERE is false, and every query
    # about a much-asked person by the same organisation would queue behind the others.)
    joined = _upsert(session, MatchParty).on_conflict_do_nothing(
        index_elements=[table.c.match_id, table.c.org_id]
    )
    _insert_all(session, joined, [row for row in rows if not row["hidden"]])
    hide = _upsert(session, MatchParty)
    hide = hide.on_conflict_do_update(
        index_elements=[table.c.match_id, table.c.org_id],
        set_={"hidden": True},
        where=~table.c.hidden,
    )
    _insert_all(session, hide, [row for row in rows if row["hidden"]])


def _claim_notices(session: Session, notices: Sequence[NoticeKey]) -> set[NoticeKey]:
    """Insert the notices not yet given today; return those this call inserted."""
    table = table_of(MatchNotice)
    columns = (table.c.day, table.c.recipient, table.c.counterpart, table.c.person_key)
    stmt = _upsert(session, MatchNotice).on_conflict_do_nothing().returning(*columns)
    rows = [
        {"day": day, "recipient": recipient, "counterpart": counterpart, "person_key": key}
        for day, recipient, counterpart, key in sorted(set(notices))
    ]
    inserted = session.execute(stmt, rows)
    return {(day, recipient, counterpart, key) for day, recipient, counterpart, key in inserted}


def _match_body(
    container: Container,
    directory: Directory,
    pairing: _Pairing,
    match_id: str,
    *,
    recipient: str,
    cause: str,
) -> dict[str, Any]:
    """The notification telling ``recipient`` (the source or the actor) of the match."""
    inv, actor = pairing.inv, pairing.actor
    if recipient == pairing.source:
        counterpart = _counterpart(directory, container, actor.org_id, actor.desk, actor.hidden)
    else:
        counterpart = _counterpart(directory, container, pairing.source, inv.signal.desk_id, False)
    recipient_type = OrgType(directory.describe(recipient)["type"])
    category = container.catalogue.category(inv.signal.category)
    return {
        "kind": "match",
        "match_id": match_id,
        "cause": cause,
        "person": container.pseudonymiser.release_pseudonym(pairing.y, recipient=recipient),
        "counterpart": counterpart,
        "via_family": inv.via_family,
        "category": inv.signal.category
        if recipient == inv.signal.org_id or category.shows_category_to(recipient_type)
        else None,
    }


def _matched(pairing: _Pairing, match_id: str, *, cause: str) -> LogEvent:
    parties = (pairing.source,) if pairing.inv.is_hidden else (pairing.actor.org_id, pairing.source)
    return LogEvent.system(
        EventType.MATCH,
        "matched",
        persons=(pairing.key,),
        parties=parties,
        details={"match_id": match_id, "cause": cause, "family": pairing.inv.via_family},
    )


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
    webhook = Directory(session).has_webhook(org_id)
    row = _notification_row(org_id, kind, body, now=now, webhook=webhook)
    notification = Notification(**row)
    session.add(notification)
    record(session, _queued(row))
    return notification


def _notification_row(
    org_id: str, kind: str, body: dict[str, Any], *, now: datetime, webhook: bool
) -> dict[str, Any]:
    """The columns of a new outbox row, on the delivery queue only if there is a webhook.

    Without one the row is in the recipient's inbox alone: no webhook round has to take it
    off the queue again (an UPDATE per notification, done every few seconds by every
    process at once).
    """
    return {
        "id": uuid.uuid4().hex,
        "org_id": org_id,
        "kind": kind,
        "body": json.dumps(body, sort_keys=True, ensure_ascii=False),
        "created_at": now,
        "webhook_attempts": 0,
        "webhook_next_at": now if webhook else None,
    }


def _queued(row: dict[str, Any]) -> LogEvent:
    return LogEvent.system(
        EventType.NOTIFICATION,
        "queued",
        parties=(row["org_id"],),
        details={"notification_id": row["id"], "kind": row["kind"]},
    )
