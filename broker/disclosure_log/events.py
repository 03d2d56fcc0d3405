"""What a capability hands to the log: a typed event, never an identifier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from broker.auth.principal import Principal


class EventType(StrEnum):
    """Kinds of logged event (NEN 7513: read, search, transfer, emergency access, ...)."""

    QUERY = "query"
    BLIND_EVALUATION = "blind_evaluation"
    REGISTRATION = "registration"
    WITHDRAWAL = "withdrawal"
    PURGE = "purge"
    MATCH = "match"
    NOTIFICATION = "notification"
    COORDINATOR = "coordinator"
    RELEASE = "release"
    RELEASE_PENDING = "release_pending"
    APPROVAL = "approval"
    REFUSAL = "refusal"
    OVERRIDE = "override"
    OVERRIDE_REVIEW = "override_review"
    CONSENT = "consent"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    KEY_ROTATION = "key_rotation"
    POLICY_CHANGE = "policy_change"
    SUBJECT_ACCESS = "subject_access"
    ERASURE_REQUEST = "erasure_request"
    LOG_SEARCH = "log_search"
    ALERT = "alert"


@dataclass(frozen=True)
class LogEvent:
    """One event with the NEN 7513 fields; ``persons`` are log-domain pseudonyms."""

    event_type: EventType
    outcome: str
    org_id: str | None = None
    user_id: str | None = None
    acting_for: str | None = None
    role: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    basis_ref: str | None = None
    rule: tuple[str, ...] | None = None
    persons: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    survives_rollback: bool = False

    @classmethod
    def by(
        cls, principal: Principal, event_type: EventType, outcome: str, **fields: Any
    ) -> LogEvent:
        """An event performed by an authenticated caller."""
        parties = tuple(dict.fromkeys((principal.org_id, *fields.pop("parties", ()))))
        roles = ",".join(sorted(principal.roles))
        return cls(
            event_type=event_type,
            outcome=outcome,
            org_id=principal.org_id,
            user_id=principal.user,
            acting_for=principal.acting_for,
            role=roles,
            parties=parties,
            **fields,
        )

    @classmethod
    def system(cls, event_type: EventType, outcome: str, **fields: Any) -> LogEvent:
        """An event performed by the broker itself (purge, rotation, policy reload)."""
        return cls(
            event_type=event_type,
            outcome=outcome,
            org_id=None,
            user_id="broker",
            role="system",
            **fields,
        )
