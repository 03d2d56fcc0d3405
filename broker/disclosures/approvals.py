"""The source organisation's side: approve or refuse a pending release, with a reason."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from broker.auth.principal import Principal
from broker.authorization import authorize
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.disclosures.content import released_content
from broker.disclosures.models import Disclosure, DisclosureItem
from broker.disclosures.schemas import ApprovalDecision, ItemStatus
from broker.disclosures.service import item_aad
from broker.errors import Conflict, NotFound
from broker.matches.service import queue_notification
from broker.policy import Action
from broker.signals.models import Signal


def pending_for(
    session: Session, principal: Principal
) -> Sequence[tuple[DisclosureItem, Disclosure]]:
    """Release requests awaiting the caller's organisation's decision."""
    return session.exec(
        select(DisclosureItem, Disclosure)
        .join(Disclosure, col(Disclosure.id) == col(DisclosureItem.disclosure_id))
        .where(
            DisclosureItem.source_org == principal.org_id,
            DisclosureItem.status == ItemStatus.PENDING,
        )
        .order_by(col(Disclosure.created_at))
    ).all()


def decide(
    session: Session,
    container: Container,
    principal: Principal,
    item_id: str,
    decision: ApprovalDecision,
) -> DisclosureItem:
    """Approve (release now) or refuse (recorded, visible to requester and officers)."""
    item = session.get(DisclosureItem, item_id)
    if item is None or item.source_org != principal.org_id:
        raise NotFound("No such release request.")
    if item.status != ItemStatus.PENDING:
        raise Conflict("This release request was already decided.")
    disclosure = session.get(Disclosure, item.disclosure_id)
    signal = session.get(Signal, item.signal_id)
    assert disclosure is not None
    rule = authorize(
        session,
        principal,
        policy=container.policy,
        catalogue=container.catalogue,
        action=Action.APPROVE_RELEASE,
        purpose=disclosure.purpose,
        category=item.category,
    ).rule
    now = container.clock.now()
    if decision.decision == "approve" and signal is not None and signal.withdrawn_at is None:
        fields = container.catalogue.category(item.category).releasable_fields(disclosure.purpose)
        content = released_content(
            session, container, signal, fields=fields, recipient=disclosure.requester_org
        )
        item.content_enc = container.fields.seal_json(content, aad=item_aad(item.id, "content"))
        item.fields, item.status = sorted(fields), ItemStatus.RELEASED
        event, outcome = EventType.RELEASE, "released_after_approval"
    else:
        item.status = ItemStatus.REFUSED
        event, outcome = EventType.REFUSAL, "refused_by_source"
    item.reason_enc = container.fields.encrypt(
        decision.reason.encode(), aad=item_aad(item.id, "reason")
    )
    item.decided_at, item.decided_by = now, principal.user
    session.add(item)
    queue_notification(
        session,
        container,
        disclosure.requester_org,
        "release_decision",
        {
            "kind": "release_decision",
            "disclosure_id": disclosure.id,
            "item_id": item.id,
            "status": str(item.status),
        },
        now=now,
    )
    record(
        session,
        LogEvent.by(
            principal,
            event,
            outcome,
            purpose=disclosure.purpose,
            legal_basis=disclosure.legal_basis,
            basis_ref=disclosure.basis_ref,
            rule=rule,
            parties=(disclosure.requester_org,),
            details={
                "item_id": item.id,
                "category": item.category,
                "released_fields": item.fields if item.status == ItemStatus.RELEASED else [],
            },
        ),
    )
    return item
