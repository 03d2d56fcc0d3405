"""Reads and writes of organisations, desks and keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from broker.organisations.models import Desk, Organisation, OrganisationKey


class OrganisationRepository:
    """Data access for the organisation tables."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, org_id: str) -> Organisation | None:
        """One organisation by id."""
        return self._session.get(Organisation, org_id)

    def list_all(self) -> Sequence[Organisation]:
        """Every organisation, ordered by id."""
        return self._session.exec(select(Organisation).order_by(col(Organisation.id))).all()

    def desks(self, org_id: str) -> Sequence[Desk]:
        """The desks of one organisation."""
        return self._session.exec(
            select(Desk).where(Desk.org_id == org_id).order_by(col(Desk.id))
        ).all()

    def desk(self, org_id: str, desk_id: str) -> Desk | None:
        """One desk."""
        return self._session.get(Desk, (org_id, desk_id))

    def all_desks(self) -> Sequence[Desk]:
        """Every desk."""
        return self._session.exec(select(Desk)).all()

    def active_keys(self, org_id: str | None = None) -> Sequence[OrganisationKey]:
        """Keys that are not revoked, for one or all organisations."""
        query = select(OrganisationKey).where(col(OrganisationKey.revoked_at).is_(None))
        if org_id is not None:
            query = query.where(OrganisationKey.org_id == org_id)
        return self._session.exec(query).all()

    def key(self, org_id: str, kid: str) -> OrganisationKey | None:
        """One key by organisation and key id."""
        return self._session.get(OrganisationKey, (org_id, kid))

    def add(self, row: Organisation | Desk | OrganisationKey) -> None:
        """Stage a new or changed row."""
        self._session.add(row)

    def flush(self) -> None:
        """Write staged rows so constraints apply now."""
        self._session.flush()
