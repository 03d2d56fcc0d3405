"""HTTP endpoints of lawful release, source approval and override review."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlmodel import col, select

from broker.auth.principal import Principal
from broker.dependencies import ContainerDep, SessionDep, require_role
from broker.disclosures.approvals import decide, pending_for
from broker.disclosures.models import Disclosure, DisclosureItem
from broker.disclosures.overrides import (
    counts_per_professional,
    describe,
    list_overrides,
    review_override,
)
from broker.disclosures.schemas import (
    ApprovalDecision,
    DisclosureRequest,
    DisclosureResult,
    OverrideReview,
)
from broker.disclosures.service import load_result, request_release
from broker.errors import NotFound
from broker.matches.directory import Directory
from broker.types import Role

router = APIRouter(prefix="/v1", tags=["release"])
MemberDep = Annotated[Principal, Depends(require_role(Role.PROFESSIONAL, Role.COORDINATOR))]
OfficerDep = Annotated[Principal, Depends(require_role(Role.PRIVACY_OFFICER))]


class ReleaseRequestView(BaseModel):
    """A pending release as the source organisation sees it."""

    item_id: str
    disclosure_id: str
    requester: dict[str, Any]
    purpose: str
    legal_basis: str
    category: str
    requested_at: str


@router.post("/disclosures", response_model=DisclosureResult)
def create_disclosure(
    body: DisclosureRequest, principal: MemberDep, session: SessionDep, container: ContainerDep
) -> DisclosureResult:
    """Ask for more than a hit on a legal basis; released, pending, or refused (403)."""
    return request_release(session, container, principal, body)


@router.get("/disclosures/{disclosure_id}", response_model=DisclosureResult)
def get_disclosure(
    disclosure_id: str, principal: MemberDep, session: SessionDep, container: ContainerDep
) -> DisclosureResult:
    """A release the caller's organisation requested, with decisions taken since."""
    disclosure = session.get(Disclosure, disclosure_id)
    if disclosure is None or disclosure.requester_org != principal.org_id:
        raise NotFound("No such disclosure.")
    items = session.exec(
        select(DisclosureItem)
        .where(DisclosureItem.disclosure_id == disclosure.id)
        .order_by(col(DisclosureItem.id))
    ).all()
    return load_result(session, container, disclosure, list(items))


@router.get("/release-requests", response_model=list[ReleaseRequestView])
def release_requests(principal: MemberDep, session: SessionDep) -> list[ReleaseRequestView]:
    """Pending releases awaiting the caller's organisation's decision."""
    directory = Directory(session)
    return [
        ReleaseRequestView(
            item_id=item.id,
            disclosure_id=d.id,
            requester=directory.describe(d.requester_org),
            purpose=d.purpose,
            legal_basis=d.legal_basis,
            category=item.category,
            requested_at=d.created_at.isoformat(),
        )
        for item, d in pending_for(session, principal)
    ]


@router.post("/release-requests/{item_id}/decision")
def decide_release(
    item_id: str,
    body: ApprovalDecision,
    principal: MemberDep,
    session: SessionDep,
    container: ContainerDep,
) -> dict[str, str]:
    """Approve or refuse a pending release, with a reason."""
    item = decide(session, container, principal, item_id, body)
    return {"item_id": item.id, "status": str(item.status)}


@router.get("/overrides")
def overrides(
    principal: OfficerDep,
    session: SessionDep,
    container: ContainerDep,
    status: Literal["pending", "justified", "unjustified"] | None = None,
) -> list[dict[str, Any]]:
    """The override review queue (privacy officers of the requester or source organisation)."""
    now = container.clock.now()
    return [
        describe(container, o, now=now) for o in list_overrides(session, principal, status=status)
    ]


@router.get("/overrides/counts")
def override_counts(principal: OfficerDep, session: SessionDep) -> list[dict[str, Any]]:
    """Overrides per professional of the officer's organisation."""
    return counts_per_professional(session, principal)


@router.post("/overrides/{override_id}/review")
def review(
    override_id: str,
    body: OverrideReview,
    principal: OfficerDep,
    session: SessionDep,
    container: ContainerDep,
) -> dict[str, Any]:
    """Record whether an override was justified, with a note."""
    override = review_override(session, container, principal, override_id, body)
    return describe(container, override, now=container.clock.now())
