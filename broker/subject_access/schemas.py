"""Request and response shapes of subject access and erasure requests."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from broker.persons import PersonRef


class VerificationMethod(StrEnum):
    """How the officer established that the requester is the person (or may act for them)."""

    ID_DOCUMENT_IN_PERSON = "id_document_in_person"
    DIGID = "digid"
    LEGAL_REPRESENTATIVE_VERIFIED = "legal_representative_verified"


class Verification(BaseModel):
    """The identity check behind a request; the reference is stored encrypted."""

    model_config = ConfigDict(extra="forbid")

    method: VerificationMethod
    reference: str = Field(min_length=3, max_length=200, repr=False)


class Period(BaseModel):
    """Optional limits of a report, by day (``until`` inclusive)."""

    model_config = ConfigDict(extra="forbid")

    since: date | None = None
    until: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.since and self.until and self.since > self.until:
            raise ValueError("period.since must not be after period.until")
        return self


class ReportRequest(BaseModel):
    """A verified request to see one's data: the identifier in the body, never in a URL."""

    model_config = ConfigDict(extra="forbid")

    person: PersonRef
    verification: Verification
    period: Period | None = None


class Text(BaseModel):
    """A phrase in Dutch and English."""

    nl: str
    en: str


class RegistrationLine(BaseModel):
    """An organisation registered its involvement with the person."""

    organisation: str
    category: Text
    month: str
    status: Literal["active", "ended"]


class QueryLine(BaseModel):
    """An organisation asked whether the person was known."""

    organisation: str
    purpose: Text
    month: str
    outcome: Literal["known", "not_known"]


class ReceiptLine(BaseModel):
    """An organisation received data on the person: from whom, why, on which basis, what."""

    organisation: str
    source: str | None
    purpose: Text
    legal_basis: Text
    month: str
    fields: list[str]


class ReportSections(BaseModel):
    """The three questions a report answers."""

    registrations: list[RegistrationLine]
    queries: list[QueryLine]
    receipts: list[ReceiptLine]


class WithheldNotice(BaseModel):
    """That something was withheld and on which ground; never what, how much or by whom."""

    ground: Text
    legal_reference: str


class SubjectAccessReportPublic(BaseModel):
    """A subject-access report as its producing organisation reads it."""

    id: str
    created_at: datetime
    scope: Literal["chain", "organisation"]
    period: Period | None
    verification_method: VerificationMethod
    sections: ReportSections
    withheld: WithheldNotice | None
    text: str


class ErasureStatus(StrEnum):
    """Where an erasure request stands."""

    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


class SafetyFlag(StrEnum):
    """Why an erasure could put someone at risk (DOMAIN.md scenario 9)."""

    VICTIM_IN_ACTIVE_CASE = "victim_in_active_case"
    SHIELDED_STAY = "shielded_stay"
    RESTRAINING_ORDER = "restraining_order"
    POSSIBLE_PRESSURE = "possible_pressure"
    SUSPECT_IN_ACTIVE_CASE = "suspect_in_active_case"


class ErasureRequestCreate(BaseModel):
    """A verified request to erase the person's data."""

    model_config = ConfigDict(extra="forbid")

    person: PersonRef
    verification: Verification
    reason: str = Field(min_length=3, max_length=2000)


class ErasureDecision(BaseModel):
    """The officer's decision after the safety review."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    note: str = Field(min_length=3, max_length=1000)


class ErasureRequestPublic(BaseModel):
    """An erasure request as the officers of its organisation see it."""

    id: str
    status: ErasureStatus
    created_at: datetime
    verification_method: VerificationMethod
    reason: str
    safety_flags: list[SafetyFlag]
    notice: str
    decided_at: datetime | None
    decision_note: str | None
    withdrawn_signals: int
