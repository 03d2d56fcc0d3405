"""The fixed words of purpose binding: organisation types, roles, actions, wildcards."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from broker.types import OrgType, Role

__all__ = ["ANY_CATEGORY", "NO_PURPOSE", "Action", "OrgType", "Role"]

# In a request: the action touches no single data category (a query, a review). In a rule:
# any category. Kept as one literal so the Casbin files stay readable without code.
ANY_CATEGORY: Final = "*"

# Administration touches no family data, so it is bound to no purpose; the rules spell that
# as "*" and match it literally (there is no purpose wildcard).
NO_PURPOSE: Final = "*"


class Action(StrEnum):
    """What a caller wants to do; each maps to one or a few endpoints."""

    QUERY = "query"
    REGISTER = "register"
    REQUEST_RELEASE = "request_release"
    APPROVE_RELEASE = "approve_release"
    OVERRIDE = "override"
    RECORD_CONSENT = "record_consent"
    REVIEW = "review"
    ADMINISTER = "administer"
