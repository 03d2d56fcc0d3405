"""Operators' view of the policy in force, and a reload that reaches every process."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from broker.auth.principal import Principal
from broker.dependencies import ContainerDep, require_role
from broker.errors import Forbidden
from broker.types import OrgType, Role

router = APIRouter(prefix="/v1/policy", tags=["policy"])
AdminDep = Annotated[Principal, Depends(require_role(Role.ADMIN))]


class PolicyState(BaseModel):
    """The digest of the policy files this process enforces."""

    digest: str


@router.get("", response_model=PolicyState)
def policy_state(principal: AdminDep, container: ContainerDep) -> PolicyState:
    """Which policy version this process enforces."""
    return PolicyState(digest=container.policy.digest())


@router.post("/reload", response_model=PolicyState)
def reload_policy(principal: AdminDep, container: ContainerDep) -> PolicyState:
    """Reload the policy files here and tell every other broker process (broker admin only)."""
    if principal.org_type is not OrgType.BROKER:
        raise Forbidden("Only the broker's administrator reloads the policy.")
    container.policy.reload(notify_peers=True)
    return PolicyState(digest=container.policy.digest())
