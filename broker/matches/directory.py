"""How an organisation is shown to another: by name and desk, or hidden behind a fallback."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from broker.organisations.repository import OrganisationRepository


class Directory:
    """Organisation and desk descriptions, cached for one transaction."""

    def __init__(self, session: Session) -> None:
        self._repo = OrganisationRepository(session)
        self._orgs: dict[str, dict[str, Any]] = {}
        self._desks: dict[tuple[str, str | None], dict[str, Any] | None] = {}

    def describe(self, org_id: str) -> dict[str, Any]:
        """Id, name and type of an organisation."""
        if org_id not in self._orgs:
            org = self._repo.get(org_id)
            self._orgs[org_id] = (
                {"id": org.id, "name": org.name, "type": org.type}
                if org is not None
                else {"id": org_id, "name": org_id, "type": "unknown"}
            )
        return self._orgs[org_id]

    def contact(self, org_id: str, desk_id: str | None) -> dict[str, Any] | None:
        """A desk to call: the named one, else the organisation's first desk."""
        key = (org_id, desk_id)
        if key not in self._desks:
            desk = self._repo.desk(org_id, desk_id) if desk_id else None
            if desk is None:
                desks = self._repo.desks(org_id)
                desk = desks[0] if desks else None
            self._desks[key] = (
                None
                if desk is None
                else {
                    "organisation": org_id,
                    "desk": desk.id,
                    "name": desk.name,
                    "phone": desk.phone,
                    "hours": desk.hours,
                }
            )
        return self._desks[key]
