"""The authenticated caller, as services see it (never the token itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from broker.types import OrgId, OrgType, Role, UserId


@dataclass(frozen=True)
class Principal:
    """Who is calling, for which organisation, with which roles."""

    org_id: OrgId
    org_type: OrgType
    user: UserId
    roles: frozenset[Role]
    token_id: str
    expires_at: datetime
    acting_for: UserId | None = None

    def has_role(self, role: Role) -> bool:
        """True when the token carries ``role``."""
        return role in self.roles

    @property
    def is_broker_dpo(self) -> bool:
        """The broker's own data protection officer, who may review every organisation."""
        return self.org_type is OrgType.BROKER and Role.PRIVACY_OFFICER in self.roles
