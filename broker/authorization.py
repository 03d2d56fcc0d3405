"""Purpose binding at the edge of every use case: one call, one logged decision."""

from __future__ import annotations

from sqlmodel import Session

from broker.auth.principal import Principal
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.errors import PolicyDenied
from broker.policy import ANY_CATEGORY, AccessRequest, Action, Catalogue, Decision, PolicyEngine


def authorize(
    session: Session,
    principal: Principal,
    *,
    policy: PolicyEngine,
    catalogue: Catalogue,
    action: Action,
    purpose: str,
    category: str = ANY_CATEGORY,
) -> Decision:
    """Allow when any of the caller's roles may do ``action`` for ``purpose``; else refuse.

    An unknown purpose is a 422 (raised by the catalogue). A refusal is written to the
    disclosure log even though the request's own changes are rolled back.
    """
    catalogue.purpose(purpose)
    for role in sorted(principal.roles):
        decision = policy.decide(
            AccessRequest(
                principal.org_type, role=role, purpose=purpose, action=action, category=category
            )
        )
        if decision.allowed:
            return decision
    record(
        session,
        LogEvent.by(
            principal,
            EventType.REFUSAL,
            "policy_denied",
            purpose=purpose,
            details={"action": action.value, "category": category},
            survives_rollback=True,
        ),
    )
    raise PolicyDenied(
        f"Purpose binding does not allow {action.value} for purpose {purpose!r} "
        f"by your organisation type and role.",
        action=action.value,
        purpose=purpose,
    )
