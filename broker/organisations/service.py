"""Organisation use cases: load the chain, manage keys, list for administrators."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from broker.auth.jwk import ed25519_public_jwk
from broker.auth.principal import Principal
from broker.auth.tokens import IssuerKeys, jwk_json
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


class DatabaseKeySource:
    """Issuer keys from the database, cached briefly because every request needs them."""

    def __init__(self, engine: Engine, *, ttl_seconds: float = 30.0) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, IssuerKeys | None]] = {}
        self._lock = threading.Lock()

    def issuer_keys(self, org_id: str) -> IssuerKeys | None:
        """Keys of ``org_id`` (cached for a short time)."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(org_id)
        if cached and cached[0] > now:
            return cached[1]
        keys = self._load(org_id)
        with self._lock:
            self._cache[org_id] = (now + self._ttl, keys)
        return keys

    def invalidate(self) -> None:
        """Forget cached keys (after a key change)."""
        with self._lock:
            self._cache.clear()

    def _load(self, org_id: str) -> IssuerKeys | None:
        with Session(self._engine) as session:
            repo = OrganisationRepository(session)
            org = repo.get(org_id)
            if org is None:
                return None
            jwks = {key.kid: json.loads(key.jwk) for key in repo.active_keys(org_id)}
            return IssuerKeys(org_type=OrgType(org.type), jwks=jwks)


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
