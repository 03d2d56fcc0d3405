"""The consent rules, as pure functions over a consent row."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from broker.clock import as_utc
from consent.models import Consent


class ConsentDecision(StrEnum):
    """Consent given, or explicitly refused (a refusal is recorded too)."""

    GIVEN = "given"
    REFUSED = "refused"


class GivenBy(StrEnum):
    """Who gave the consent."""

    SUBJECT = "subject"
    LEGAL_REPRESENTATIVE = "legal_representative"
    SUBJECT_AND_REPRESENTATIVE = "subject_and_representative"


class AgeBand(StrEnum):
    """The subject's age, as far as consent law cares (WGBO/AVG: 12 and 16)."""

    UNDER_12 = "under_12"
    FROM_12_TO_16 = "12_to_16"
    ADULT_OR_16_PLUS = "16_plus"


class ObtainedHow(StrEnum):
    """How consent was obtained."""

    VERBAL = "verbal"
    WRITTEN = "written"
    WITH_INTERPRETER = "with_interpreter"


REQUIRED_GIVER = {
    AgeBand.UNDER_12: {GivenBy.LEGAL_REPRESENTATIVE},
    AgeBand.FROM_12_TO_16: {GivenBy.SUBJECT_AND_REPRESENTATIVE},
    AgeBand.ADULT_OR_16_PLUS: {GivenBy.SUBJECT},
}


def check_giver(age_band: AgeBand, given_by: GivenBy) -> str | None:
    """Why this giver cannot consent for this age band, or None when it can."""
    if given_by in REQUIRED_GIVER[age_band]:
        return None
    if age_band is AgeBand.UNDER_12:
        return "for a child under 12 a legal representative gives consent"
    if age_band is AgeBand.FROM_12_TO_16:
        return "from 12 to 16 both the child and a legal representative must consent"
    return "from 16 the person consents personally"


def why_not_covered(
    consent: Consent,
    *,
    subject_key: str,
    recipient_org: str,
    recipient_type: str,
    purpose: str,
    category: str,
    at: datetime,
) -> str | None:
    """The first condition the consent fails for this release, or None when it covers it."""
    if consent.subject_key != subject_key:
        return "the consent is another person's"
    if consent.decision != ConsentDecision.GIVEN:
        return "consent was refused"
    if consent.withdrawn_at is not None and consent.withdrawn_at <= at:
        return "the consent was withdrawn"
    if not as_utc(consent.valid_from) <= at < as_utc(consent.valid_until):
        return "the consent is not valid at this time"
    if (
        recipient_org not in consent.recipient_orgs
        and recipient_type not in consent.recipient_types
    ):
        return "the consent does not name this recipient"
    if purpose not in consent.purposes:
        return "the consent does not cover this purpose"
    if category not in consent.categories:
        return "the consent does not cover this data category"
    return None
