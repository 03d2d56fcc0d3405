"""Release on a legal basis: consent, the five questions, or a serious-danger override."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from broker.auth.principal import Principal
from broker.authorization import authorize
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.disclosures.content import released_content
from broker.disclosures.models import Disclosure, DisclosureItem, ProportionalityAnswers
from broker.disclosures.overrides import open_override
from broker.disclosures.schemas import (
    FIVE_QUESTIONS,
    ConsentBasis,
    DisclosureRequest,
    DisclosureResult,
    ItemStatus,
    ProportionalityBasis,
    ReleasedItem,
    SeriousDangerBasis,
)
from broker.errors import Conflict, InvalidRequest, PolicyDenied
from broker.matches.directory import Directory
from broker.matches.service import Involvement, find_involvements, person_aad, queue_notification
from broker.policy import AccessRequest, Action, Category, ReleaseMode
from broker.signals.models import Signal
from broker.signals.repository import SignalRepository
from consent import Consent, why_not_covered
from keys import MatchingPseudonym

MIN_ANSWER = 10


@dataclass(frozen=True)
class Basis:
    """The checked legal basis: its name, reference and what it needs per signal."""

    name: str
    ref: str | None
    consents: tuple[Consent, ...] = ()
    override: bool = False
    rule: tuple[str, ...] | None = None


def item_aad(item_id: str, field: str) -> bytes:
    """Associated data binding an encrypted release field to its item."""
    return f"disclosure_item:{item_id}:{field}".encode()


def request_release(
    session: Session, container: Container, principal: Principal, request: DisclosureRequest
) -> DisclosureResult:
    """Check the basis, bind the purpose, minimise, pseudonymise, and record every decision."""
    container.catalogue.purpose(request.purpose)
    now = container.clock.now()
    disclosure = Disclosure(
        id=uuid.uuid4().hex,
        requester_org=principal.org_id,
        requester_user=principal.user,
        purpose=request.purpose,
        legal_basis=request.legal_basis.type,
        created_at=now,
    )
    basis = _check_basis(session, container, principal, request, disclosure_id=disclosure.id)
    disclosure.basis_ref = basis.ref
    ys = [p.pseudonym(container.pseudonymiser) for p in request.persons]
    candidates = _candidates(session, container, principal, ys, now=now)
    items: list[tuple[DisclosureItem, ReleasedItem]] = []
    for inv in candidates:
        items.append(_decide_item(session, container, principal, request, basis, disclosure, inv))
    released = [i for i, _ in items if i.status == ItemStatus.RELEASED]
    pending = [i for i, _ in items if i.status == ItemStatus.PENDING]
    log_keys = tuple(container.pseudonymiser.log_pseudonym(y) for y in ys)
    if items and not released and not pending:
        reasons = sorted({view.reason or "" for _, view in items})
        record(
            session,
            LogEvent.by(
                principal,
                EventType.REFUSAL,
                "release_refused",
                purpose=request.purpose,
                legal_basis=basis.name,
                basis_ref=basis.ref,
                persons=log_keys,
                parties=tuple(sorted({i.source_org for i, _ in items})),
                details={"reasons": reasons},
                survives_rollback=True,
            ),
        )
        raise PolicyDenied(
            "Nothing can be released on this basis: " + "; ".join(reasons) + ".", conditions=reasons
        )
    session.add(disclosure)
    session.flush()
    session.add_all([item for item, _ in items])
    override_id = None
    if basis.override:
        assert isinstance(request.legal_basis, SeriousDangerBasis)
        override_id = open_override(
            session,
            container,
            principal,
            disclosure,
            request.legal_basis.override,
            sources=sorted({i.source_org for i in released}),
        )
    _log_items(session, principal, request, basis, items, log_keys, override_id)
    status = "pending" if pending else "released" if released else "nothing_to_release"
    return DisclosureResult(
        id=disclosure.id,
        status=status,
        purpose=request.purpose,
        legal_basis=basis.name,
        basis_ref=basis.ref,
        override_id=override_id,
        items=[view for _, view in items],
        created_at=now,
    )


def _check_basis(
    session: Session,
    container: Container,
    principal: Principal,
    request: DisclosureRequest,
    *,
    disclosure_id: str,
) -> Basis:
    basis = request.legal_basis
    if isinstance(basis, ProportionalityBasis):
        missing = [q for q in FIVE_QUESTIONS if len(basis.answers.get(q, "").strip()) < MIN_ANSWER]
        unknown = sorted(set(basis.answers) - set(FIVE_QUESTIONS))
        if missing or unknown:
            raise InvalidRequest(
                "Answer each of the five questions with a written reason "
                f"(at least {MIN_ANSWER} characters).",
                missing=missing,
                unknown=unknown,
            )
        answers = ProportionalityAnswers(
            id=uuid.uuid4().hex,
            org_id=principal.org_id,
            user_id=principal.user,
            answers_enc=b"",
            created_at=container.clock.now(),
        )
        answers.answers_enc = container.fields.seal_json(
            {q: basis.answers[q] for q in FIVE_QUESTIONS}, aad=f"answers:{answers.id}".encode()
        )
        session.add(answers)
        return Basis(name="proportionality", ref=answers.id)
    if isinstance(basis, ConsentBasis):
        ids = basis.ids()
        if not ids:
            raise InvalidRequest("A consent basis names at least one consent_id.")
        consents = [session.get(Consent, cid) for cid in ids]
        if any(c is None for c in consents):
            raise PolicyDenied(
                "No recorded consent with that id: no recorded consent means no.",
                conditions=["consent not found"],
            )
        return Basis(
            name="consent", ref=",".join(ids), consents=tuple(c for c in consents if c is not None)
        )
    empty = [
        name
        for name, value in basis.override.model_dump().items()
        if len(str(value).strip()) < MIN_ANSWER
    ]
    if empty:
        raise InvalidRequest("Justify the override in every field.", missing=empty)
    decision = authorize(
        session,
        principal,
        policy=container.policy,
        catalogue=container.catalogue,
        action=Action.OVERRIDE,
        purpose=request.purpose,
    )
    # Replay protection for overrides fails closed: without Redis there is no override.
    if not container.replay.first_use(
        f"override:{principal.org_id}:{principal.token_id}",
        expires_at=principal.expires_at,
        strict=True,
    ):
        raise Conflict("This override was already filed with this token.")
    return Basis(name="serious_danger", ref=None, override=True, rule=decision.rule)


def _candidates(
    session: Session,
    container: Container,
    principal: Principal,
    ys: list[MatchingPseudonym],
    *,
    now: datetime,
) -> list[Involvement]:
    seen: dict[str, Involvement] = {}
    for inv in find_involvements(session, container, ys, now=now):
        # Never embargoed or shielded signals, not even on an override; not family links.
        if inv.signal.org_id == principal.org_id or inv.via_family:
            continue
        if inv.signal.embargo or inv.signal.shielded:
            continue
        seen.setdefault(inv.signal.id, inv)
    return list(seen.values())


def _withheld(
    container: Container, item: DisclosureItem, reason: str
) -> tuple[DisclosureItem, ReleasedItem]:
    item.reason_enc = container.fields.encrypt(reason.encode(), aad=item_aad(item.id, "reason"))
    return item, ReleasedItem(
        item_id=item.id, status=ItemStatus.WITHHELD, source=None, reason=reason
    )


def _decide_item(
    session: Session,
    container: Container,
    principal: Principal,
    request: DisclosureRequest,
    basis: Basis,
    disclosure: Disclosure,
    inv: Involvement,
) -> tuple[DisclosureItem, ReleasedItem]:
    signal = inv.signal
    category = container.catalogue.category(signal.category)
    item = DisclosureItem(
        id=uuid.uuid4().hex,
        disclosure_id=disclosure.id,
        signal_id=signal.id,
        source_org=signal.org_id,
        category=signal.category,
        status=ItemStatus.WITHHELD,
    )
    reason = _why_withheld(session, container, principal, request, basis, category, inv)
    if reason is not None:
        return _withheld(container, item, reason)
    fields = category.releasable_fields(request.purpose)
    mode = category.release_mode(principal.org_type)
    if basis.override or mode is ReleaseMode.AUTOMATIC:
        # The row itself (payload and all) only for a signal that is released now.
        stored = session.get(Signal, signal.id)
        if stored is None:  # purged since it was found
            return _withheld(container, item, "The signal ended while the request was decided.")
        item.fields = sorted(fields)
        content = released_content(
            session, container, stored, fields=fields, recipient=principal.org_id
        )
        item.status = ItemStatus.RELEASED
        item.content_enc = container.fields.seal_json(content, aad=item_aad(item.id, "content"))
        return item, ReleasedItem(item_id=item.id, status=ItemStatus.RELEASED, **content)
    item.fields = sorted(fields)
    item.status = ItemStatus.PENDING
    queue_notification(
        session,
        container,
        signal.org_id,
        "release_request",
        {
            "kind": "release_request",
            "item_id": item.id,
            "purpose": request.purpose,
            "legal_basis": basis.name,
            "category": signal.category,
            "requester": Directory(session).describe(principal.org_id),
        },
        now=container.clock.now(),
    )
    return item, ReleasedItem(
        item_id=item.id,
        status=ItemStatus.PENDING,
        source=Directory(session).describe(signal.org_id),
        category=signal.category,
        reason="awaiting the source's approval",
    )


def _why_withheld(
    session: Session,
    container: Container,
    principal: Principal,
    request: DisclosureRequest,
    basis: Basis,
    category: Category,
    inv: Involvement,
) -> str | None:
    action = Action.OVERRIDE if basis.override else Action.REQUEST_RELEASE
    allowed = any(
        container.policy.decide(
            AccessRequest(
                principal.org_type,
                role=role,
                purpose=request.purpose,
                action=action,
                category="*" if basis.override else category.name,
            )
        ).allowed
        for role in principal.roles
    )
    if not allowed:
        return f"purpose binding does not allow release of {category.name} for {request.purpose}"
    if not category.releasable_fields(request.purpose):
        return f"nothing of {category.name} may be released for {request.purpose}"
    if basis.name != "consent":
        return None
    # Every person in the signal must be covered by a consent of their own.
    for person in SignalRepository(session).persons_of([inv.signal.id]):
        y = MatchingPseudonym(container.fields.decrypt(person.y_enc, aad=person_aad(person)))
        key = container.pseudonymiser.log_pseudonym(y)
        reasons = [
            why_not_covered(
                c,
                subject_key=key,
                recipient_org=principal.org_id,
                recipient_type=principal.org_type.value,
                purpose=request.purpose,
                category=category.name,
                at=container.clock.now(),
            )
            for c in basis.consents
        ]
        if all(r is not None for r in reasons):
            own = [r for r in reasons if r != "the consent is another person's"]
            return own[0] if own else "no consent of every person in the signal"
    return None


def _log_items(
    session: Session,
    principal: Principal,
    request: DisclosureRequest,
    basis: Basis,
    items: list[tuple[DisclosureItem, ReleasedItem]],
    log_keys: tuple[str, ...],
    override_id: str | None,
) -> None:
    for item, view in items:
        event = {
            ItemStatus.RELEASED: (EventType.OVERRIDE if basis.override else EventType.RELEASE),
            ItemStatus.PENDING: EventType.RELEASE_PENDING,
        }.get(ItemStatus(item.status), EventType.REFUSAL)
        details: dict[str, Any] = {
            "item_id": item.id,
            "category": item.category,
            "released_fields": item.fields if item.status == ItemStatus.RELEASED else [],
        }
        if view.reason and item.status == ItemStatus.WITHHELD:
            details["reason"] = view.reason
        record(
            session,
            LogEvent.by(
                principal,
                event,
                str(item.status),
                purpose=request.purpose,
                legal_basis=basis.name,
                basis_ref=override_id or basis.ref,
                rule=basis.rule,
                persons=log_keys,
                parties=(item.source_org,),
                details=details,
            ),
        )


def load_result(
    session: Session, container: Container, disclosure: Disclosure, items: list[DisclosureItem]
) -> DisclosureResult:
    """A stored release, as its requester reads it back."""
    views: list[ReleasedItem] = []
    directory = Directory(session)
    for item in items:
        if item.status == ItemStatus.RELEASED and item.content_enc:
            content = container.fields.open_json(item.content_enc, aad=item_aad(item.id, "content"))
            views.append(ReleasedItem(item_id=item.id, status=ItemStatus.RELEASED, **content))
            continue
        reason = (
            container.fields.decrypt(item.reason_enc, aad=item_aad(item.id, "reason")).decode()
            if item.reason_enc
            else None
        )
        views.append(
            ReleasedItem(
                item_id=item.id,
                status=ItemStatus(item.status),
                source=directory.describe(item.source_org)
                if item.status != ItemStatus.WITHHELD
                else None,
                category=item.category if item.status != ItemStatus.WITHHELD else None,
                reason=reason,
            )
        )
    statuses = {v.status for v in views}
    status = (
        "pending"
        if ItemStatus.PENDING in statuses
        else "released"
        if ItemStatus.RELEASED in statuses
        else "refused"
        if views
        else "nothing_to_release"
    )
    return DisclosureResult(
        id=disclosure.id,
        status=status,
        purpose=disclosure.purpose,
        legal_basis=disclosure.legal_basis,
        basis_ref=disclosure.basis_ref,
        items=views,
        created_at=disclosure.created_at,
    )


def dumps(value: object) -> str:
    """Compact JSON."""
    return json.dumps(value, sort_keys=True)
