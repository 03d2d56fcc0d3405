"""HTTP endpoints of the consent registry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from broker.auth.principal import Principal
from broker.authorization import authorize
from broker.dependencies import ContainerDep, SessionDep, require_role
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.errors import InvalidRequest, NotFound
from broker.persons import PersonRef
from broker.policy import Action
from broker.types import Role
from consent import AgeBand, Consent, ConsentDecision, GivenBy, ObtainedHow
from consent.registry import (
    ConsentRuleError,
    ConsentTerms,
    consents_of,
    history,
    receipt,
    record_consent,
    withdraw_consent,
)

router = APIRouter(prefix="/v1/consents", tags=["consent"])
MemberDep = Annotated[
    Principal, Depends(require_role(Role.PROFESSIONAL, Role.COORDINATOR, Role.PRIVACY_OFFICER))
]
RecorderDep = Annotated[Principal, Depends(require_role(Role.PROFESSIONAL, Role.COORDINATOR))]


class ConsentCreate(BaseModel):
    """A consent (or refusal) as a professional records it."""

    model_config = ConfigDict(extra="forbid")

    person: PersonRef
    decision: ConsentDecision = ConsentDecision.GIVEN
    given_by: GivenBy
    age_band: AgeBand
    recipient_organisations: list[str] = Field(default_factory=list, max_length=50)
    recipient_types: list[str] = Field(default_factory=list, max_length=20)
    purposes: list[str] = Field(min_length=1, max_length=20)
    categories: list[str] = Field(min_length=1, max_length=20)
    valid_from: datetime
    valid_until: datetime
    obtained_how: ObtainedHow


class ConsentPublic(BaseModel):
    """A consent as its recording organisation sees it."""

    id: str
    decision: str
    given_by: str
    age_band: str
    recipient_organisations: list[str]
    recipient_types: list[str]
    purposes: list[str]
    categories: list[str]
    valid_from: datetime
    valid_until: datetime
    obtained_how: str
    recorded_by: str
    created_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, c: Consent) -> ConsentPublic:
        """From a row."""
        return cls(
            id=c.id,
            decision=c.decision,
            given_by=c.given_by,
            age_band=c.age_band,
            recipient_organisations=c.recipient_orgs,
            recipient_types=c.recipient_types,
            purposes=c.purposes,
            categories=c.categories,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            obtained_how=c.obtained_how,
            recorded_by=c.recorded_by_org,
            created_at=c.created_at,
            withdrawn_at=c.withdrawn_at,
        )


class ConsentLookup(BaseModel):
    """Look up a person's consents and history (identifier in the body, never a URL)."""

    person: PersonRef


class ConsentHistory(BaseModel):
    """A person's consents recorded by the caller's organisation, with every event."""

    consents: list[ConsentPublic]
    events: list[dict[str, Any]]


def _check_vocabulary(container: ContainerDep, body: ConsentCreate) -> None:
    for purpose in body.purposes:
        container.catalogue.purpose(purpose)
    for category in body.categories:
        container.catalogue.category(category)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConsentPublic)
def create_consent(
    body: ConsentCreate, principal: RecorderDep, session: SessionDep, container: ContainerDep
) -> ConsentPublic:
    """Record who consented (or refused), for which recipients, purposes and categories."""
    _check_vocabulary(container, body)
    decision = None
    for purpose in sorted(set(body.purposes)):
        decision = authorize(
            session,
            principal,
            policy=container.policy,
            catalogue=container.catalogue,
            action=Action.RECORD_CONSENT,
            purpose=purpose,
        )
    subject = container.pseudonymiser.log_pseudonym(body.person.pseudonym(container.pseudonymiser))
    terms = ConsentTerms(
        decision=body.decision,
        given_by=body.given_by,
        age_band=body.age_band,
        recipient_orgs=tuple(body.recipient_organisations),
        recipient_types=tuple(body.recipient_types),
        purposes=tuple(body.purposes),
        categories=tuple(body.categories),
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        obtained_how=body.obtained_how,
    )
    try:
        consent = record_consent(
            session,
            subject_key=subject,
            terms=terms,
            org=principal.org_id,
            user=principal.user,
            now=container.clock.now(),
        )
    except ConsentRuleError as exc:
        raise InvalidRequest(f"The consent cannot be recorded: {exc}.") from exc
    record(
        session,
        LogEvent.by(
            principal,
            EventType.CONSENT,
            body.decision.value,
            purpose=",".join(body.purposes),
            legal_basis="consent",
            basis_ref=consent.id,
            rule=decision.rule if decision else None,
            persons=(subject,),
            details={"given_by": body.given_by.value, "obtained_how": body.obtained_how.value},
        ),
    )
    return ConsentPublic.of(consent)


def _visible(session: SessionDep, principal: Principal, consent_id: str) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None or not (
        principal.is_broker_dpo or consent.recorded_by_org == principal.org_id
    ):
        raise NotFound("No such consent.")
    return consent


@router.get("/{consent_id}", response_model=ConsentPublic)
def get_consent(consent_id: str, principal: MemberDep, session: SessionDep) -> ConsentPublic:
    """One consent recorded by the caller's organisation."""
    return ConsentPublic.of(_visible(session, principal, consent_id))


@router.post("/{consent_id}/withdraw", response_model=ConsentPublic)
def withdraw(
    consent_id: str, principal: RecorderDep, session: SessionDep, container: ContainerDep
) -> ConsentPublic:
    """Withdraw a consent; it takes effect at once and the history is kept."""
    consent = withdraw_consent(
        session,
        _visible(session, principal, consent_id),
        org=principal.org_id,
        user=principal.user,
        now=container.clock.now(),
    )
    record(
        session,
        LogEvent.by(
            principal,
            EventType.CONSENT_WITHDRAWN,
            "withdrawn",
            legal_basis="consent",
            basis_ref=consent.id,
            persons=(consent.subject_key,),
        ),
    )
    return ConsentPublic.of(consent)


@router.get("/{consent_id}/receipt")
def consent_receipt(consent_id: str, principal: MemberDep, session: SessionDep) -> dict[str, Any]:
    """The consent as an ISO/IEC TS 27560-style receipt (JSON)."""
    consent = _visible(session, principal, consent_id)
    return receipt(
        consent, history(session, consent.subject_key), controller=consent.recorded_by_org
    )


@router.post("/lookup", response_model=ConsentHistory)
def lookup(
    body: ConsentLookup, principal: MemberDep, session: SessionDep, container: ContainerDep
) -> ConsentHistory:
    """A person's consents and history as recorded by the caller's organisation."""
    subject = container.pseudonymiser.log_pseudonym(body.person.pseudonym(container.pseudonymiser))
    own = [
        c
        for c in consents_of(session, subject)
        if principal.is_broker_dpo or c.recorded_by_org == principal.org_id
    ]
    ids = {c.id for c in own}
    events = [
        {"consent_id": e.consent_id, "action": e.action, "at": e.at.isoformat()}
        for e in history(session, subject)
        if e.consent_id in ids
    ]
    record(
        session,
        LogEvent.by(
            principal,
            EventType.CONSENT,
            "looked_up",
            persons=(subject,),
            details={"found": len(own)},
        ),
    )
    return ConsentHistory(consents=[ConsentPublic.of(c) for c in own], events=events)
