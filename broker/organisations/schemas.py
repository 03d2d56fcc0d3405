"""Public shapes of organisations."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from broker.organisations.models import Desk, Organisation, OrganisationKey


class DeskPublic(BaseModel):
    """A contact desk."""

    id: str
    name: str
    phone: str
    hours: str


class OrganisationPublic(BaseModel):
    """An organisation with its desks and the public keys that verify its tokens."""

    id: str
    name: str
    type: str
    domain: str
    desks: list[DeskPublic]
    jwks: dict[str, list[dict[str, Any]]]

    @classmethod
    def build(
        cls, org: Organisation, *, desks: list[Desk], keys: list[OrganisationKey]
    ) -> OrganisationPublic:
        """Assemble from rows."""
        return cls(
            id=org.id,
            name=org.name,
            type=org.type,
            domain=org.domain,
            desks=[DeskPublic(id=d.id, name=d.name, phone=d.phone, hours=d.hours) for d in desks],
            jwks={"keys": [json.loads(k.jwk) for k in keys]},
        )


class OrganisationList(BaseModel):
    """A list of organisations."""

    items: list[OrganisationPublic]
