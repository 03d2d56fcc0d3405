"""Request and response shapes of lawful release."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from broker.persons import PersonRef

FIVE_QUESTIONS = ("purpose", "need_to_know", "subsidiarity", "proportionality", "effectiveness")


class ConsentBasis(BaseModel):
    """Recorded consent: one consent per person whose data is to be released."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["consent"]
    consent_id: str | None = None
    consent_ids: list[str] = Field(default_factory=list, max_length=12)

    def ids(self) -> list[str]:
        """Every consent id given."""
        return [*([self.consent_id] if self.consent_id else []), *self.consent_ids]


class ProportionalityBasis(BaseModel):
    """No consent: the five questions of the proportionality test, each a written reason."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["proportionality"]
    answers: dict[str, str]


class OverrideStatement(BaseModel):
    """Why serious danger justifies releasing now, without consent."""

    model_config = ConfigDict(extra="forbid")

    danger: str = Field(description="Who is at risk, and from what.", max_length=4000)
    why_now: str = Field(max_length=4000)
    tried: str = Field(description="Why consent is not possible.", max_length=4000)
    needed: str = Field(description="Which information is needed.", max_length=4000)


class SeriousDangerBasis(BaseModel):
    """Serious danger (ernstig gevaar): release at once, privacy officers review afterwards."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["serious_danger"]
    override: OverrideStatement


LegalBasis = Annotated[
    ConsentBasis | ProportionalityBasis | SeriousDangerBasis, Field(discriminator="type")
]


class DisclosureRequest(BaseModel):
    """Ask for more than a hit, for one purpose, on one legal basis."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(max_length=40)
    persons: list[PersonRef] = Field(min_length=1, max_length=12)
    legal_basis: LegalBasis


class ItemStatus(StrEnum):
    """State of one source signal within a release."""

    RELEASED = "released"
    PENDING = "pending"
    REFUSED = "refused"
    WITHHELD = "withheld"


class ReleasedItem(BaseModel):
    """What one source releases: category, dates, contact, minimised fields, pseudonyms."""

    item_id: str
    status: ItemStatus
    source: dict[str, Any] | None
    category: str | None = None
    registered: str | None = None
    expires: str | None = None
    contact: dict[str, Any] | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    persons: list[dict[str, str]] = Field(default_factory=list)
    reason: str | None = None


class DisclosureResult(BaseModel):
    """The answer: released, pending (a source must approve), or partly both."""

    id: str
    status: Literal["released", "pending", "nothing_to_release", "refused"]
    purpose: str
    legal_basis: str
    basis_ref: str | None
    override_id: str | None = None
    items: list[ReleasedItem]
    created_at: datetime


class ApprovalDecision(BaseModel):
    """The source organisation approves or refuses, with a reason."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "refuse"]
    reason: str = Field(min_length=3, max_length=2000)


class OverrideReview(BaseModel):
    """A privacy officer's review of an override."""

    model_config = ConfigDict(extra="forbid")

    justified: bool
    note: str = Field(min_length=3, max_length=4000)
