"""The webhook-signing secret, shown to the organisation's own administrator."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from broker.dependencies import AdminDep, ContainerDep, SessionDep
from broker.errors import NotFound
from broker.matches.delivery import display_secret
from broker.organisations.models import Organisation

router = APIRouter(prefix="/v1/organisations", tags=["webhooks"])


class WebhookSecretPublic(BaseModel):
    """How to verify the broker's webhooks (Standard Webhooks, signature ``v1``)."""

    organisation: str
    secret: str
    webhook_url: str | None


@router.get("/{org_id}/webhook-secret", response_model=WebhookSecretPublic)
def get_webhook_secret(
    org_id: str,
    principal: AdminDep,
    session: SessionDep,
    container: ContainerDep,
) -> WebhookSecretPublic:
    """The organisation's signing secret; only its own administrator may read it."""
    organisation = session.get(Organisation, org_id) if org_id == principal.org_id else None
    if organisation is None:
        raise NotFound("No such organisation.")
    return WebhookSecretPublic(
        organisation=organisation.id,
        secret=display_secret(container.keystore.webhook_secret(organisation.id)),
        webhook_url=organisation.webhook_url,
    )
