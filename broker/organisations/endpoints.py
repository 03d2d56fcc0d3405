"""HTTP endpoints for organisations (administrators)."""

from __future__ import annotations

from fastapi import APIRouter

from broker.dependencies import AdminDep, SessionDep
from broker.errors import NotFound
from broker.organisations.schemas import OrganisationList, OrganisationPublic
from broker.organisations.service import visible_organisations

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])


@router.get("", response_model=OrganisationList)
def list_organisations(principal: AdminDep, session: SessionDep) -> OrganisationList:
    """Organisations the administrator may see: all for the broker's admin, else its own."""
    return OrganisationList(items=visible_organisations(session, principal))


@router.get("/{org_id}", response_model=OrganisationPublic)
def get_organisation(org_id: str, principal: AdminDep, session: SessionDep) -> OrganisationPublic:
    """One organisation, when visible to the administrator."""
    for org in visible_organisations(session, principal):
        if org.id == org_id:
            return org
    raise NotFound("No such organisation.")
