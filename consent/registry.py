"""Recording, withdrawing and reading consents (the caller has pseudonymised the subject)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from consent.models import Consent, ConsentEvent
from consent.rules import AgeBand, ConsentDecision, GivenBy, ObtainedHow, check_giver


class ConsentRuleError(ValueError):
    """A consent that the rules do not allow to be recorded; the message names the rule."""


@dataclass(frozen=True)
class ConsentTerms:
    """What a consent covers."""

    decision: ConsentDecision
    given_by: GivenBy
    age_band: AgeBand
    recipient_orgs: tuple[str, ...]
    recipient_types: tuple[str, ...]
    purposes: tuple[str, ...]
    categories: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    obtained_how: ObtainedHow


def record_consent(
    session: Session, *, subject_key: str, terms: ConsentTerms, org: str, user: str, now: datetime
) -> Consent:
    """Record a consent or refusal and its first history event."""
    problem = check_giver(terms.age_band, terms.given_by)
    if problem:
        raise ConsentRuleError(problem)
    if terms.valid_until <= terms.valid_from:
        raise ConsentRuleError("valid_until must be after valid_from")
    if terms.decision is ConsentDecision.GIVEN and not (
        terms.recipient_orgs or terms.recipient_types
    ):
        raise ConsentRuleError("a consent names at least one recipient organisation or type")
    consent = Consent(
        id=uuid.uuid4().hex,
        subject_key=subject_key,
        decision=terms.decision,
        given_by=terms.given_by,
        age_band=terms.age_band,
        recipient_orgs=list(terms.recipient_orgs),
        recipient_types=list(terms.recipient_types),
        purposes=list(terms.purposes),
        categories=list(terms.categories),
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        obtained_how=terms.obtained_how,
        recorded_by_org=org,
        recorded_by_user=user,
        created_at=now,
    )
    session.add(consent)
    session.flush()
    _event(
        session,
        consent,
        "refused" if terms.decision is ConsentDecision.REFUSED else "recorded",
        org=org,
        user=user,
        at=now,
    )
    return consent


def withdraw_consent(
    session: Session, consent: Consent, *, org: str, user: str, now: datetime
) -> Consent:
    """Withdraw at once; the row and its history stay."""
    if consent.withdrawn_at is None:
        consent.withdrawn_at = now
        session.add(consent)
        _event(session, consent, "withdrawn", org=org, user=user, at=now)
    return consent


def history(session: Session, subject_key: str) -> Sequence[ConsentEvent]:
    """Every consent event of one person, oldest first."""
    return session.exec(
        select(ConsentEvent)
        .where(ConsentEvent.subject_key == subject_key)
        .order_by(col(ConsentEvent.at), col(ConsentEvent.id))
    ).all()


def consents_of(session: Session, subject_key: str) -> Sequence[Consent]:
    """Every consent of one person, newest first."""
    return session.exec(
        select(Consent)
        .where(Consent.subject_key == subject_key)
        .order_by(col(Consent.created_at).desc())
    ).all()


def _event(
    session: Session, consent: Consent, action: str, *, org: str, user: str, at: datetime
) -> None:
    session.add(
        ConsentEvent(
            consent_id=consent.id,
            subject_key=consent.subject_key,
            action=action,
            at=at,
            by_org=org,
            by_user=user,
        )
    )


def receipt(
    consent: Consent, events: Sequence[ConsentEvent], *, controller: str
) -> dict[str, object]:
    """An ISO/IEC TS 27560-style consent record, as JSON-ready data."""
    state = "withdrawn" if consent.withdrawn_at else consent.decision
    return {
        "schema_version": "ISO/IEC TS 27560:2023 (profile: dv-broker/1)",
        "record_id": consent.id,
        "pii_principal_id": consent.subject_key,
        "pii_controllers": [{"id": controller}],
        "consent_type": "explicit",
        "collection_method": consent.obtained_how,
        "given_by": consent.given_by,
        "age_band": consent.age_band,
        "state": state,
        "processing": [
            {
                "purposes": list(consent.purposes),
                "pii_categories": list(consent.categories),
                "recipients": {
                    "organisations": list(consent.recipient_orgs),
                    "organisation_types": list(consent.recipient_types),
                },
                "valid_from": consent.valid_from.isoformat(),
                "valid_until": consent.valid_until.isoformat(),
            }
        ],
        "events": [
            {"action": e.action, "at": e.at.isoformat(), "by": e.by_org}
            for e in events
            if e.consent_id == consent.id
        ],
        "timestamp": consent.created_at.isoformat(),
    }
