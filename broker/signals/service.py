"""Registering, listing and withdrawing signals; bulk registration all or nothing."""

from __future__ import annotations

import gc
import hashlib
import json
import uuid
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlmodel import Session

from broker.auth.principal import Principal
from broker.authorization import authorize
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.errors import BrokerError, Conflict, Forbidden, InvalidRequest, NotFound
from broker.matches.service import (
    Actor,
    Involvement,
    Sighting,
    find_involvements,
    is_hidden_org,
    person_aad_of,
    record_matches,
)
from broker.matches.service import person_aad as person_aad
from broker.organisations.repository import OrganisationRepository
from broker.policy import Action
from broker.signals.models import IdempotencyRecord, Signal, SignalTombstone
from broker.signals.repository import NewPerson, NewSignal, SignalRepository
from broker.signals.schemas import SignalCreate, SignalPublic
from keys import MatchingPseudonym

MAX_EXPIRY = timedelta(days=730)
TOMBSTONE_YEARS = 5
_ITEMS = TypeAdapter(list[SignalCreate])


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector from running during one bulk registration.

    A request of 10,000 signals builds a few hundred thousand objects that all live until
    it ends, so the full collections they trigger walk the whole heap and free nothing:
    that was some 40% of the request's CPU. Reference counting still frees everything
    acyclic meanwhile. Only the request that paused the collector resumes it, so it is
    never off for longer than one (bounded) request, whatever overlaps it.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated signal with its persons pseudonymised, ready to insert."""

    signal: NewSignal
    persons: list[NewPerson]
    ys: list[MatchingPseudonym]


def signal_aad(signal_id: str, field: str) -> bytes:
    """Associated data binding an encrypted field to its signal row."""
    return f"signal:{signal_id}:{field}".encode()


def prepare_signal(
    container: Container,
    principal: Principal,
    item: SignalCreate,
    *,
    now: datetime,
    desks: set[str],
    version: int | None = None,
) -> Prepared:
    """Validate one registration and pseudonymise its persons; raise on any problem.

    ``version`` is the index key version to file the persons under: a bulk request reads
    the active version once, so that a reload between two items cannot split it.
    """
    category = container.catalogue.category(item.category)
    if not category.may_register(principal.org_type):
        raise Forbidden(f"Your organisation type may not register {item.category!r} signals.")
    payload = category.validate_payload(item.payload)
    if item.embargo and not category.embargo_allowed:
        raise InvalidRequest(f"Signals of category {item.category!r} cannot be embargoed.")
    if item.desk is not None and item.desk not in desks:
        raise InvalidRequest("The contact desk is not one of your organisation's desks.")
    expires = item.expires_at or now + timedelta(days=category.default_expiry_days)
    if expires.tzinfo is None:
        raise InvalidRequest("expires_at must include a timezone.")
    if not now < expires <= now + MAX_EXPIRY:
        raise InvalidRequest("expires_at must be in the future and at most two years away.")
    signal_id = uuid.uuid4().hex
    fields = container.fields
    pseudonymiser = container.pseudonymiser
    signal = NewSignal(
        id=signal_id,
        org_id=principal.org_id,
        category=item.category,
        severity=item.severity.value,
        purpose=item.purpose,
        desk_id=item.desk,
        shielded=category.shielded or item.shielded,
        embargo=item.embargo,
        created_at=now,
        expires_at=expires,
        withdrawn_at=None,
        payload_enc=fields.seal_json(payload, aad=signal_aad(signal_id, "payload")),
        contact_enc=fields.encrypt(item.contact_note.encode(), aad=signal_aad(signal_id, "contact"))
        if item.contact_note
        else None,
    )
    persons: list[NewPerson] = []
    ys: list[MatchingPseudonym] = []
    # One read: a reload between two reads could file a token under another version.
    if version is None:
        version = container.keystore.active_version
    for position, entry in enumerate(item.persons):
        y = entry.person.pseudonym(pseudonymiser)
        persons.append(
            NewPerson(
                signal_id=signal_id,
                position=position,
                role=entry.role.value,
                index_token=pseudonymiser.index_token(y, version=version),
                key_version=version,
                y_enc=fields.encrypt(y, aad=person_aad_of(signal_id, position)),
            )
        )
        ys.append(y)
    return Prepared(signal=signal, persons=persons, ys=ys)


def register_signals(
    session: Session, container: Container, principal: Principal, items: Sequence[SignalCreate]
) -> tuple[list[Prepared], int]:
    """Validate every item (all or nothing), insert, find matches, log; return matches sent."""
    for purpose, category in sorted({(i.purpose, i.category) for i in items}):
        authorize(
            session,
            principal,
            policy=container.policy,
            catalogue=container.catalogue,
            action=Action.REGISTER,
            purpose=purpose,
            category=category,
        )
    now = container.clock.now()
    desks = {d.id for d in OrganisationRepository(session).desks(principal.org_id)}
    version = container.keystore.active_version  # one version for the whole request
    prepared: list[Prepared] = []
    errors: list[dict[str, Any]] = []
    for row, item in enumerate(items):
        try:
            prepared.append(
                prepare_signal(container, principal, item, now=now, desks=desks, version=version)
            )
        except BrokerError as exc:
            errors.append({"row": row, "detail": exc.detail, **dict(exc.extensions)})
    if errors:
        raise InvalidRequest(
            f"{len(errors)} of {len(items)} signals are invalid; none was registered.",
            errors=errors[:1000],
        )
    # Look for other organisations' signals once for the whole batch, before inserting it.
    involvements = _involvements_per_item(session, container, principal, prepared, now=now)
    SignalRepository(session).insert_new(
        [p.signal for p in prepared], [person for p in prepared for person in p.persons]
    )
    return prepared, _match_and_log(session, container, principal, prepared, involvements)


def _involvements_per_item(
    session: Session,
    container: Container,
    principal: Principal,
    prepared: list[Prepared],
    *,
    now: datetime,
) -> list[list[Involvement]]:
    offsets: list[int] = []
    ys: list[MatchingPseudonym] = []
    for item in prepared:
        offsets.append(len(ys))
        ys.extend(item.ys)
    per_item: list[list[Involvement]] = [[] for _ in prepared]
    for inv in find_involvements(session, container, ys, now=now, exclude_org=principal.org_id):
        number = bisect_right(offsets, inv.person) - 1
        per_item[number].append(replace(inv, person=inv.person - offsets[number]))
    return per_item


def _match_and_log(
    session: Session,
    container: Container,
    principal: Principal,
    prepared: list[Prepared],
    involvements: list[list[Involvement]],
) -> int:
    pseudonymiser = container.pseudonymiser
    hidden_org = is_hidden_org(principal.org_type)
    sightings = [
        Sighting(
            actor=Actor(
                org_id=principal.org_id,
                org_type=principal.org_type,
                desk=item.signal.desk_id,
                hidden=item.signal.shielded or item.signal.embargo or hidden_org,
            ),
            ys=item.ys,
            involvements=found,
        )
        for item, found in zip(prepared, involvements, strict=True)
    ]
    # The whole request's matches in one go; each item's events still precede its own.
    recorded = record_matches(session, container, sightings, cause="registration")
    for item, result in zip(prepared, recorded, strict=True):
        for event in result.events:
            record(session, event)
        record(
            session,
            LogEvent.by(
                principal,
                EventType.REGISTRATION,
                "registered",
                purpose=item.signal.purpose,
                persons=tuple(pseudonymiser.log_pseudonym(y) for y in item.ys),
                details={
                    "signal_id": item.signal.id,
                    "category": item.signal.category,
                    "persons": len(item.ys),
                    "shielded": item.signal.shielded,
                    "embargo": item.signal.embargo,
                },
            ),
        )
    return sum(result.sent for result in recorded)


def request_fingerprint(items: Sequence[SignalCreate]) -> str:
    """A hash of the request body, so a reused idempotency key with other content is caught."""
    # One serialiser call for the whole list; equal to dumping the items one by one.
    canonical = json.dumps(_ITEMS.dump_python(list(items), mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay_or_none(
    session: Session, principal: Principal, key: str, fingerprint: str
) -> dict[str, Any] | None:
    """The stored response of an earlier identical request, if any."""
    previous = SignalRepository(session).idempotency(principal.org_id, key)
    if previous is None:
        return None
    if previous.request_hash != fingerprint:
        raise Conflict("This Idempotency-Key was used for a different request.")
    stored: dict[str, Any] = json.loads(previous.response)
    return stored


def remember(
    session: Session,
    principal: Principal,
    key: str,
    fingerprint: str,
    response: dict[str, Any],
    *,
    now: datetime,
) -> None:
    """Store the response under the idempotency key."""
    session.add(
        IdempotencyRecord(
            org_id=principal.org_id,
            key=key,
            request_hash=fingerprint,
            response=json.dumps(response),
            created_at=now,
        )
    )


def list_own(
    session: Session, container: Container, principal: Principal, *, offset: int, limit: int
) -> tuple[list[SignalPublic], int]:
    """The caller's organisation's signals, payload decrypted, persons only counted."""
    repo = SignalRepository(session)
    rows, total = repo.own(principal.org_id, offset=offset, limit=limit)
    counts = repo.count_persons([r.id for r in rows])
    return [public(container, r, persons=counts.get(r.id, 0)) for r in rows], total


def public(container: Container, signal: Signal, *, persons: int) -> SignalPublic:
    """The registrant's view of one signal."""
    payload = container.fields.open_json(signal.payload_enc, aad=signal_aad(signal.id, "payload"))
    return SignalPublic(
        id=signal.id,
        category=signal.category,
        severity=signal.severity,
        purpose=signal.purpose,
        desk=signal.desk_id,
        shielded=signal.shielded,
        embargo=signal.embargo,
        persons=persons,
        created_at=signal.created_at,
        expires_at=signal.expires_at,
        withdrawn_at=signal.withdrawn_at,
        payload=payload,
    )


def withdraw(
    session: Session, container: Container, principal: Principal, signal_id: str
) -> Signal:
    """Withdraw one of the organisation's own signals; it stops matching at once."""
    repo = SignalRepository(session)
    signal = repo.get_own(principal.org_id, signal_id)
    if signal is None:
        raise NotFound("No such signal.")
    if signal.withdrawn_at is None:
        signal.withdrawn_at = container.clock.now()
        session.add(signal)
        keys = _tombstone(session, container, signal, ended=signal.withdrawn_at)
        record(
            session,
            LogEvent.by(
                principal,
                EventType.WITHDRAWAL,
                "withdrawn",
                purpose=signal.purpose,
                persons=keys,
                details={"signal_id": signal.id, "category": signal.category},
            ),
        )
    return signal


def _tombstone(
    session: Session, container: Container, signal: Signal, *, ended: datetime
) -> tuple[str, ...]:
    keys: list[str] = []
    for person in SignalRepository(session).persons_of([signal.id]):
        y = MatchingPseudonym(container.fields.decrypt(person.y_enc, aad=person_aad(person)))
        key = container.pseudonymiser.log_pseudonym(y)
        keys.append(key)
        session.merge(
            SignalTombstone(
                signal_id=signal.id,
                position=person.position,
                org_id=signal.org_id,
                category=signal.category,
                log_pseudonym=key,
                registered_at=signal.created_at,
                ended_at=ended,
                purge_after=ended + timedelta(days=365 * TOMBSTONE_YEARS),
            )
        )
    return tuple(keys)
