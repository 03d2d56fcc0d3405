"""Erasure requests (GDPR art. 17): filed for review with a safety check, never automatic.

Approval withdraws only the deciding organisation's own signals on the person, through the
same path as any withdrawal (tombstone, log entry). Other organisations' signals are
theirs to decide on; the disclosure log is kept as the record of what happened.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session

from broker.auth.principal import Principal
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.errors import Conflict, NotFound
from broker.signals.service import withdraw
from broker.subject_access.models import ErasureRequest
from broker.subject_access.repository import SubjectRepository
from broker.subject_access.safety import safety_flags
from broker.subject_access.schemas import (
    ErasureDecision,
    ErasureRequestCreate,
    ErasureRequestPublic,
    ErasureStatus,
    SafetyFlag,
    VerificationMethod,
)
from broker.subject_access.service import require_officer
from keys import MatchingPseudonym

PURPOSE = "erasure_request"
NOTICES = {
    ErasureStatus.PENDING_REVIEW: (
        "Nothing has been erased. The request awaits a privacy officer's decision; "
        "weigh the safety flags first."
    ),
    ErasureStatus.APPROVED: (
        "Your organisation's own registrations on this person were withdrawn. Other "
        "organisations' registrations were not touched; the archive of ended registrations "
        "and the disclosure log are kept for their legal terms."
    ),
    ErasureStatus.REJECTED: "The request was rejected; nothing was erased.",
}


def erasure_aad(request_id: str, field: str) -> bytes:
    """Associated data binding an encrypted field to its erasure request."""
    return f"erasure_request:{request_id}:{field}".encode()


def file_erasure_request(
    session: Session, container: Container, principal: Principal, body: ErasureRequestCreate
) -> ErasureRequestPublic:
    """Record the request with its safety check; it waits for review and erases nothing."""
    require_officer(principal)
    y = body.person.pseudonym(container.pseudonymiser)
    person_key = container.pseudonymiser.log_pseudonym(y)
    now = container.clock.now()
    flags = safety_flags(session, container, principal, y, now=now)
    request_id = uuid.uuid4().hex
    fields = container.fields
    row = ErasureRequest(
        id=request_id,
        org_id=principal.org_id,
        requested_by=principal.user,
        person_key=person_key,
        verification_method=body.verification.method.value,
        status=ErasureStatus.PENDING_REVIEW.value,
        safety_flags=[flag.value for flag in flags],
        created_at=now,
        subject_enc=fields.encrypt(y, aad=erasure_aad(request_id, "subject")),
        request_enc=fields.seal_json(
            {"reason": body.reason, "verification_reference": body.verification.reference},
            aad=erasure_aad(request_id, "request"),
        ),
    )
    session.add(row)
    _log(session, principal, row, outcome=row.status)
    return public(container, row)


def list_erasure_requests(
    session: Session, container: Container, principal: Principal, *, status: ErasureStatus | None
) -> list[ErasureRequestPublic]:
    """The officer's organisation's erasure requests, newest first."""
    require_officer(principal)
    rows = SubjectRepository(session).erasure_requests(
        principal.org_id, status=status.value if status else None
    )
    return [public(container, row) for row in rows]


def decide_erasure_request(
    session: Session,
    container: Container,
    principal: Principal,
    request_id: str,
    decision: ErasureDecision,
) -> ErasureRequestPublic:
    """Approve (withdraw the organisation's own signals on the person) or reject."""
    require_officer(principal)
    repo = SubjectRepository(session)
    row = repo.erasure_request(principal.org_id, request_id)
    if row is None:
        raise NotFound("No such erasure request.")
    if row.status != ErasureStatus.PENDING_REVIEW:
        raise Conflict("This erasure request was already decided.")
    y = MatchingPseudonym(
        container.fields.decrypt(row.subject_enc, aad=erasure_aad(row.id, "subject"))
    )
    now = container.clock.now()
    # The situation may have changed since filing: the decision is logged with today's flags.
    row.safety_flags = [f.value for f in safety_flags(session, container, principal, y, now=now)]
    if decision.decision == "approve":
        tokens = set(container.pseudonymiser.lookup_tokens(y).values())
        own = repo.own_open_signals(principal.org_id, tokens)
        for signal in own:
            withdraw(session, container, principal, signal.id)
        row.withdrawn_signals = len(own)
        row.status = ErasureStatus.APPROVED.value
    else:
        row.status = ErasureStatus.REJECTED.value
    row.decided_at, row.decided_by = now, principal.user
    row.decision_note_enc = container.fields.encrypt(
        decision.note.encode(), aad=erasure_aad(row.id, "note")
    )
    session.add(row)
    _log(session, principal, row, outcome=row.status)
    return public(container, row)


def public(container: Container, row: ErasureRequest) -> ErasureRequestPublic:
    """The officer's view of one request."""
    request = container.fields.open_json(row.request_enc, aad=erasure_aad(row.id, "request"))
    note = (
        container.fields.decrypt(row.decision_note_enc, aad=erasure_aad(row.id, "note")).decode()
        if row.decision_note_enc
        else None
    )
    status = ErasureStatus(row.status)
    return ErasureRequestPublic(
        id=row.id,
        status=status,
        created_at=row.created_at,
        verification_method=VerificationMethod(row.verification_method),
        reason=str(request["reason"]),
        safety_flags=[SafetyFlag(flag) for flag in row.safety_flags],
        notice=NOTICES[status],
        decided_at=row.decided_at,
        decision_note=note,
        withdrawn_signals=row.withdrawn_signals,
    )


def _log(session: Session, principal: Principal, row: ErasureRequest, *, outcome: str) -> None:
    record(
        session,
        LogEvent.by(
            principal,
            EventType.ERASURE_REQUEST,
            outcome,
            purpose=PURPOSE,
            legal_basis="gdpr_art_17",
            persons=(row.person_key,),
            details={
                "request_id": row.id,
                "verification": row.verification_method,
                "safety_flags": list(row.safety_flags),
                "withdrawn_signals": row.withdrawn_signals,
            },
        ),
    )
