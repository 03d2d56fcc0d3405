"""How an organisation is shown to another: by name and desk, or hidden behind a fallback."""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session

from broker.organisations.cache import DirectorySnapshot, cache_for, has_uncommitted_changes
from broker.organisations.repository import OrganisationRepository


class _OrgRow(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...


class _DeskRow(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def hours(self) -> str: ...


class Directory:
    """Organisation and desk descriptions for one transaction.

    They come from the process-wide organisation cache of the session's engine (one
    snapshot for the whole transaction), or straight from the tables when the engine has no
    cache or this transaction itself changed organisations, desks or keys.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._repo = OrganisationRepository(session)
        self._snapshot: DirectorySnapshot | None = None
        self._orgs: dict[str, dict[str, Any]] = {}
        self._desks: dict[tuple[str, str | None], dict[str, Any] | None] = {}

    def describe(self, org_id: str) -> dict[str, Any]:
        """Id, name and type of an organisation."""
        if org_id not in self._orgs:
            org = self._organisation(org_id)
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
            desk = self._desk(org_id, desk_id) if desk_id else None
            if desk is None:
                desk = self._first_desk(org_id)
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

    def has_webhook(self, org_id: str) -> bool:
        """Whether notifications to ``org_id`` are pushed to a webhook (else: inbox only)."""
        snapshot = self._cached()
        if snapshot is None:
            org = self._repo.get(org_id)
            return org is not None and bool(org.webhook_url)
        entry = snapshot.organisation(org_id)
        return entry is not None and entry.webhook

    def _cached(self) -> DirectorySnapshot | None:
        if has_uncommitted_changes(self._session):
            return None
        if self._snapshot is None:
            cache = cache_for(self._session.bind)
            if cache is None:
                return None
            self._snapshot = cache.snapshot(self._session)
        return self._snapshot

    def _organisation(self, org_id: str) -> _OrgRow | None:
        snapshot = self._cached()
        if snapshot is None:
            return self._repo.get(org_id)
        return snapshot.organisation(org_id)

    def _desk(self, org_id: str, desk_id: str) -> _DeskRow | None:
        snapshot = self._cached()
        if snapshot is None:
            return self._repo.desk(org_id, desk_id)
        return snapshot.desk(org_id, desk_id)

    def _first_desk(self, org_id: str) -> _DeskRow | None:
        snapshot = self._cached()
        desks = self._repo.desks(org_id) if snapshot is None else snapshot.desks_of(org_id)
        return desks[0] if desks else None
