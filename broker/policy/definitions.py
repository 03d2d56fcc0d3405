"""Value objects of the policy catalogue: purposes and signal categories."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from enum import StrEnum

from broker.policy.payload import PayloadField, PayloadValue, validate_payload
from broker.types import OrgId, OrgType


class ReleaseMode(StrEnum):
    """Whether a release needs the source organisation's approval."""

    AUTOMATIC = "automatic"  # a covenant already settles it
    APPROVAL = "approval"


@dataclass(frozen=True)
class Label:
    """A name shown to people, in Dutch and English."""

    nl: str
    _: KW_ONLY
    en: str


@dataclass(frozen=True)
class Purpose:
    """A purpose for which the broker may process signals (doelbinding)."""

    name: str
    _: KW_ONLY
    label: Label
    description: str


@dataclass(frozen=True)
class Desk:
    """A function to call (never a person), named by organisation id and desk id."""

    organisation: OrgId
    _: KW_ONLY
    desk: str


@dataclass(frozen=True)
class ReleaseRule:
    """Release mode per recipient organisation type, with a default for the rest."""

    default: ReleaseMode
    _: KW_ONLY
    by_recipient: Mapping[OrgType, ReleaseMode]

    def mode_for(self, recipient_type: OrgType) -> ReleaseMode:
        """Return the release mode for a recipient of this organisation type."""
        return self.by_recipient.get(recipient_type, self.default)


@dataclass(frozen=True)
class Category:
    """A kind of signal: who registers it, what it carries, who sees and receives what."""

    name: str
    _: KW_ONLY
    label: Label
    registrant_types: frozenset[OrgType]
    default_expiry_days: int
    payload_fields: Mapping[str, PayloadField]
    category_visible_to: frozenset[OrgType]
    shielded: bool
    embargo_allowed: bool
    fallback_desk: Desk | None
    release: ReleaseRule
    releasable: Mapping[str, frozenset[str]]

    def releasable_fields(self, purpose: str) -> frozenset[str]:
        """Return the payload fields that may be released for this purpose (maybe none)."""
        if self.shielded:
            # Belt and braces: the loader already refuses releasable fields here.
            return frozenset()
        return self.releasable.get(purpose, frozenset())

    def release_mode(self, recipient_type: OrgType) -> ReleaseMode:
        """Return whether releasing to this organisation type needs the source's approval."""
        return self.release.mode_for(recipient_type)

    def may_register(self, org_type: OrgType) -> bool:
        """Return whether organisations of this type may register this category."""
        return org_type in self.registrant_types

    def shows_category_to(self, org_type: OrgType) -> bool:
        """Return whether a hit may name this category to an organisation of this type."""
        return not self.shielded and org_type in self.category_visible_to

    def validate_payload(self, payload: Mapping[str, object]) -> dict[str, PayloadValue]:
        """Return the cleaned payload, or raise InvalidPayload without echoing values."""
        return validate_payload(self.payload_fields, payload)
