"""Organisation use cases: load the chain, manage keys, list for administrators."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session

from broker.auth.jwk import ed25519_public_jwk
from broker.auth.principal import Principal
from broker.auth.tokens import jwk_json
from broker.clock import Clock
from broker.organisations.chain import OrganisationSpec
from broker.organisations.devkeys import ensure_development_key
from broker.organisations.models import Desk, Organisation, OrganisationKey
from broker.organisations.repository import OrganisationRepository
from broker.organisations.schemas import OrganisationPublic
from broker.types import OrgType


def sync_chain(
    session: Session,
    specs: Sequence[OrganisationSpec],
    *,
    clock: Clock,
    dev_key_dir: Path | None,
) -> list[str]:
    """Create or update organisations, desks and keys from the chain; return changed ids."""
    repo = OrganisationRepository(session)
    changed: list[str] = []
    for spec in specs:
        org = repo.get(spec.id)
        if org is None:
            org = Organisation(
                id=spec.id,
                name=spec.name,
                type=spec.type,
                domain=spec.domain,
                webhook_url=spec.webhook_url,
                created_at=clock.now(),
            )
            changed.append(spec.id)
        else:
            org.name, org.type, org.domain = spec.name, spec.type, spec.domain
            org.webhook_url = spec.webhook_url
        repo.add(org)
        repo.flush()
        _sync_desks(repo, spec)
        _sync_keys(repo, spec, clock=clock, dev_key_dir=dev_key_dir)
    return changed


def _sync_desks(repo: OrganisationRepository, spec: OrganisationSpec) -> None:
    for desk_spec in spec.desks:
        desk = repo.desk(spec.id, desk_spec.id) or Desk(
            org_id=spec.id, id=desk_spec.id, name="", phone="", hours=""
        )
        desk.name, desk.phone, desk.hours = desk_spec.name, desk_spec.phone, desk_spec.hours
        repo.add(desk)


def _sync_keys(
    repo: OrganisationRepository, spec: OrganisationSpec, *, clock: Clock, dev_key_dir: Path | None
) -> None:
    jwks: list[dict[str, Any]] = list(spec.jwks)
    development = not jwks
    if development:
        if dev_key_dir is None:
            return
        private = ensure_development_key(dev_key_dir, spec.id)
        jwks = [ed25519_public_jwk(private.public_key())]
    for jwk in jwks:
        if repo.key(spec.id, jwk["kid"]) is None:
            repo.add(
                OrganisationKey(
                    org_id=spec.id,
                    kid=jwk["kid"],
                    jwk=jwk_json(jwk),
                    is_development=development,
                    created_at=clock.now(),
                )
            )


def has_development_keys(session: Session) -> bool:
    """True when any organisation still trusts a development key."""
    return any(key.is_development for key in OrganisationRepository(session).active_keys())


def revoke_key(session: Session, org_id: str, kid: str, *, clock: Clock) -> bool:
    """Stop trusting one of an organisation's keys; False when it was not active.

    Takes effect in this process as soon as the transaction commits (the organisation
    cache is invalidated on commit) and in the other processes within their cache TTL.
    """
    repo = OrganisationRepository(session)
    key = repo.key(org_id, kid)
    if key is None or key.revoked_at is not None:
        return False
    key.revoked_at = clock.now()
    repo.add(key)
    repo.flush()
    return True


def visible_organisations(session: Session, principal: Principal) -> list[OrganisationPublic]:
    """Organisations an administrator may see: every one for the broker, else its own."""
    repo = OrganisationRepository(session)
    orgs = (
        repo.list_all()
        if principal.org_type is OrgType.BROKER
        else [org for org in [repo.get(principal.org_id)] if org is not None]
    )
    return [
        OrganisationPublic.build(
            org, desks=list(repo.desks(org.id)), keys=list(repo.active_keys(org.id))
        )
        for org in orgs
    ]
