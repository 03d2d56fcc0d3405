"""The application's wiring, built once per app in the lifespan (nothing at import)."""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from broker.auth.replay import InProcessReplayGuard, RedisReplayGuard, ReplayGuard
from broker.auth.tokens import TokenVerifier
from broker.clock import Clock, SystemClock
from broker.db import build_engine
from broker.disclosure_log.service import DisclosureLog
from broker.disclosure_log.signer import KeystoreSigner
from broker.errors import ServiceUnavailable
from broker.memo import Memo
from broker.ops.metrics import Metrics
from broker.organisations.cache import OrganisationCache, register_cache, unregister_cache
from broker.policy import Catalogue, PolicyEngine, PolicyWatcher, RedisWatcher
from broker.ratelimit import RateLimiter
from broker.settings import Settings
from keys import FieldCipher, FileCustody, Keystore, Pseudonymiser

if TYPE_CHECKING:
    from broker.matches.service import MatchMemoKey

logger = logging.getLogger("broker.container")


@dataclass
class Container:
    """Everything a request needs, created from settings."""

    settings: Settings
    clock: Clock
    engine: Engine
    redis: redis.Redis | None
    organisations: OrganisationCache
    verifier: TokenVerifier
    replay: ReplayGuard
    keystore: Keystore
    pseudonymiser: Pseudonymiser
    fields: FieldCipher
    log: DisclosureLog
    policy: PolicyEngine
    limiter: RateLimiter
    reciprocity_purposes: frozenset[str]
    metrics: Metrics = field(default_factory=Metrics)
    # Writes this process saw commit, which repeating would not change (broker.memo).
    match_memo: Memo[MatchMemoKey, str] = field(default_factory=lambda: Memo("matches"))
    alert_memo: Memo[str, bool] = field(default_factory=lambda: Memo("alerts"))

    @property
    def catalogue(self) -> Catalogue:
        """Purposes and categories, always of the same version as the policy rules."""
        return self.policy.catalogue

    def close(self) -> None:
        """Release pools and connections."""
        self.policy.close()
        unregister_cache(self.organisations)
        if self.redis is not None:
            self.redis.close()
        self.engine.dispose()


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    """Create the engine, the Redis client and the token verifier."""
    clock = clock or SystemClock()
    engine = build_engine(settings)
    client = (
        redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        if settings.redis_url
        else None
    )
    replay: ReplayGuard = (
        RedisReplayGuard(client, clock) if client is not None else InProcessReplayGuard(clock)
    )
    organisations = OrganisationCache(engine, ttl_seconds=settings.organisation_cache_seconds)
    register_cache(organisations)
    verifier = TokenVerifier(
        organisations,
        audience=settings.token_audience,
        max_lifetime=timedelta(seconds=settings.token_max_lifetime_seconds),
        replay=replay,
        clock=clock,
    )
    keystore = open_keystore(settings, clock=clock)
    log = DisclosureLog(
        engine=engine,
        clock=clock,
        signer=KeystoreSigner(keystore, settings.log_origin),
        origin=settings.log_origin,
    )
    container = Container(
        settings=settings,
        clock=clock,
        engine=engine,
        redis=client,
        organisations=organisations,
        verifier=verifier,
        replay=replay,
        keystore=keystore,
        pseudonymiser=Pseudonymiser(keystore),
        fields=FieldCipher(keystore),
        log=log,
        policy=PolicyEngine.from_dir(settings.policy_dir, watcher=policy_watcher(client)),
        limiter=RateLimiter(client),
        reciprocity_purposes=load_reciprocity(settings.policy_dir),
    )
    container.policy.add_reload_listener(lambda digest: log_policy_change(container, digest))
    return container


def log_policy_change(container: Container, digest: str) -> None:
    """Every process records the policy version it switched to."""
    from broker.db import unit_of_work
    from broker.disclosure_log.events import EventType, LogEvent

    try:
        with unit_of_work(container.engine) as session:
            container.log.append(
                session,
                [
                    LogEvent.system(
                        EventType.POLICY_CHANGE,
                        "reloaded",
                        details={"policy_digest": digest, "process": os.getpid()},
                    )
                ],
            )
    except SQLAlchemyError:
        logger.warning("policy change could not be logged: database unavailable")


def load_reciprocity(policy_dir: Path) -> frozenset[str]:
    """Purposes for which the SluiS reciprocity rule applies (``policies/hits.toml``)."""
    path = policy_dir / "hits.toml"
    if not path.exists():
        return frozenset()
    return frozenset(tomllib.loads(path.read_text(encoding="utf-8")).get("reciprocity", []))


def policy_watcher(client: redis.Redis | None) -> PolicyWatcher | None:
    """Redis pub/sub so a policy change reaches every process; None without Redis."""
    if client is None:
        return None
    try:
        return RedisWatcher(client)
    except ServiceUnavailable:
        logger.warning("redis unavailable: policy changes are picked up from the files only")
        return None


def keystore_custody(settings: Settings) -> FileCustody:
    """The passphrase-protected keystore file in the data directory."""
    return FileCustody(settings.keystore_path, settings.keystore_passphrase.get_secret_value())


def open_keystore(settings: Settings, *, clock: Clock) -> Keystore:
    """Unlock the keystore that ``broker init`` created."""
    return Keystore.open(keystore_custody(settings), clock=clock)
