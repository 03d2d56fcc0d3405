"""Shapes of a hit query and its answer: organisations and desks, never content."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from broker.persons import PersonRef

NO_HIT_NOTICE = (
    "Nothing is registered with the broker for these persons by other organisations. "
    "This is not an assessment of safety: an empty answer only means that no "
    "participating organisation has registered a signal."
)
HIT_NOTICE = (
    "The organisations below are involved. Call their desk to exchange what is needed; "
    "the broker shares no content in a hit."
)


class HitQuery(BaseModel):
    """Ask whether a family (one or more persons) is known elsewhere, for a purpose."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(max_length=40)
    persons: list[PersonRef] = Field(min_length=1, max_length=12)


class PersonAnswer(BaseModel):
    """Whether one person of the query is known elsewhere (by position in the query)."""

    person: int
    known: bool


class OrganisationHit(BaseModel):
    """An organisation involved with the family, or a fallback desk for a shielded one."""

    organisation: dict[str, Any] | None
    contact: dict[str, Any] | None
    since: str | None = Field(description="Month of the earliest visible signal, YYYY-MM.")
    category: str | None = Field(default=None, description="Only where policy allows.")
    persons: list[int]
    via_family: bool = False
    note: str | None = None


class HitAnswer(BaseModel):
    """Known or not, per family and per person; whom to call. Never severity or payload."""

    known: bool
    notice: str
    persons: list[PersonAnswer]
    organisations: list[OrganisationHit]
