"""A process-wide, short-lived copy of the chain: organisations, desks and active keys.

Every request verifies a token (the issuer's type and public keys) and most describe other
organisations and their desks. Those rows change rarely, so each process keeps one
read-only snapshot of all of them, loaded in three statements and trusted for
``BROKER_ORGANISATION_CACHE_SECONDS`` (a few seconds). Freshness is a security property:

- a change committed through an ORM session of this process (``sync_chain``,
  ``revoke_key``, any insert, update or delete of an organisation, desk or key) drops the
  snapshot of that engine as soon as the transaction has committed, so a revoked key stops
  working here at once;
- other processes notice within the TTL, because their snapshot expires;
- an unknown organisation is simply absent from the snapshot: no query, and the answer is
  never older than the TTL.

A load that overlaps an invalidation is used for the request that made it but is not kept,
so a snapshot read before a commit can never outlive the invalidation that followed it.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import chain
from types import MappingProxyType
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState, UOWTransaction
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from broker.auth.tokens import IssuerKeys
from broker.organisations.models import Desk, Organisation, OrganisationKey
from broker.types import OrgType

DIRECTORY_TABLES = frozenset({"organisation", "desk", "organisation_key"})
_CHANGED = "broker.organisations.changed"  # Session.info flag: uncommitted chain changes


@dataclass(frozen=True)
class OrganisationEntry:
    """What the broker shows of an organisation."""

    id: str
    name: str
    type: str
    webhook: bool = False  # a webhook URL is configured: notifications are pushed too


@dataclass(frozen=True)
class DeskEntry:
    """A contact desk of an organisation."""

    org_id: str
    id: str
    name: str
    phone: str
    hours: str


@dataclass(frozen=True)
class DirectorySnapshot:
    """Every organisation, desk and active key as of one moment; never mutated."""

    organisations: Mapping[str, OrganisationEntry]
    desks: Mapping[str, tuple[DeskEntry, ...]]
    keys: Mapping[str, Mapping[str, Mapping[str, Any]]]

    def organisation(self, org_id: str) -> OrganisationEntry | None:
        """One organisation, or None when it is unknown."""
        return self.organisations.get(org_id)

    def desks_of(self, org_id: str) -> tuple[DeskEntry, ...]:
        """The desks of one organisation, ordered by id as the database orders them."""
        return self.desks.get(org_id, ())

    def desk(self, org_id: str, desk_id: str) -> DeskEntry | None:
        """One desk, or None."""
        return next((desk for desk in self.desks_of(org_id) if desk.id == desk_id), None)

    def issuer_keys(self, org_id: str) -> IssuerKeys | None:
        """The organisation's type and active JWKs, or None when it is unknown."""
        org = self.organisations.get(org_id)
        if org is None:
            return None
        return IssuerKeys(org_type=OrgType(org.type), jwks=self.keys.get(org_id, {}))


def load_snapshot(connection: Connection) -> DirectorySnapshot:
    """Read every organisation, desk and active key (three statements)."""
    orgs = {
        row.id: OrganisationEntry(
            id=row.id, name=row.name, type=row.type, webhook=bool(row.webhook_url)
        )
        for row in connection.execute(
            select(
                col(Organisation.id),
                col(Organisation.name),
                col(Organisation.type),
                col(Organisation.webhook_url),
            )
        )
    }
    desks: dict[str, list[DeskEntry]] = {}
    desk_rows = connection.execute(
        select(
            col(Desk.org_id), col(Desk.id), col(Desk.name), col(Desk.phone), col(Desk.hours)
        ).order_by(col(Desk.org_id), col(Desk.id))
    )
    for desk in desk_rows:
        desks.setdefault(desk.org_id, []).append(
            DeskEntry(
                org_id=desk.org_id, id=desk.id, name=desk.name, phone=desk.phone, hours=desk.hours
            )
        )
    keys: dict[str, dict[str, Mapping[str, Any]]] = {}
    key_rows = connection.execute(
        select(col(OrganisationKey.org_id), col(OrganisationKey.kid), col(OrganisationKey.jwk))
        .where(col(OrganisationKey.revoked_at).is_(None))
        .order_by(col(OrganisationKey.org_id), col(OrganisationKey.kid))
    )
    for key in key_rows:
        keys.setdefault(key.org_id, {})[key.kid] = MappingProxyType(json.loads(key.jwk))
    return DirectorySnapshot(
        organisations=MappingProxyType(orgs),
        desks=MappingProxyType({org_id: tuple(rows) for org_id, rows in desks.items()}),
        keys=MappingProxyType({org_id: MappingProxyType(jwks) for org_id, jwks in keys.items()}),
    )


class OrganisationCache:
    """The snapshot of one engine's chain, shared by every thread of the process.

    ``now`` is a monotonic clock in seconds (injected in tests). A TTL of 0 turns caching
    off: every lookup reads the database.
    """

    _MAX_ATTEMPTS = 3

    def __init__(
        self,
        engine: Engine,
        *,
        ttl_seconds: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._now = now
        self._lock = threading.Lock()  # guards _current and _generation
        self._load_lock = threading.Lock()  # one load at a time; the others wait for it
        self._current: tuple[DirectorySnapshot, float] | None = None
        self._generation = 0

    @property
    def engine(self) -> Engine:
        """The database this cache mirrors."""
        return self._engine

    def issuer_keys(self, org_id: str) -> IssuerKeys | None:
        """Type and active keys of ``org_id`` for the token verifier (a ``KeySource``)."""
        return self.snapshot().issuer_keys(org_id)

    def snapshot(self, session: Session | None = None) -> DirectorySnapshot:
        """The current snapshot, loaded when missing or older than the TTL.

        A load reads through ``session``'s connection when given (no second pool
        connection inside a request), else through a short session of its own.
        """
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        with self._load_lock:
            fresh = self._fresh()
            if fresh is not None:
                return fresh
            for _ in range(self._MAX_ATTEMPTS):
                with self._lock:
                    generation = self._generation
                started = self._now()
                loaded = self._load(session)
                with self._lock:
                    if generation == self._generation:
                        self._current = (loaded, started + self._ttl)
                        return loaded
            # Invalidated during every attempt: answer with the newest read, keep nothing.
            return loaded

    def fresh_snapshot(self) -> DirectorySnapshot | None:
        """The snapshot if it is within its TTL, else None: never reads the database."""
        return self._fresh()

    def invalidate(self) -> None:
        """Forget the snapshot; loads still running when this is called are not kept."""
        with self._lock:
            self._generation += 1
            self._current = None

    def _fresh(self) -> DirectorySnapshot | None:
        current = self._current
        if current is not None and self._now() < current[1]:
            return current[0]
        return None

    def _load(self, session: Session | None) -> DirectorySnapshot:
        if session is not None:
            return load_snapshot(session.connection())
        with self._engine.connect() as connection:
            return load_snapshot(connection)


# --- one cache per engine, found from a session --------------------------------------

_caches: weakref.WeakKeyDictionary[Engine, OrganisationCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def register_cache(cache: OrganisationCache) -> None:
    """Make ``cache`` the one that sessions on its engine use and invalidate."""
    with _caches_lock:
        _caches[cache.engine] = cache


def unregister_cache(cache: OrganisationCache) -> None:
    """Stop using ``cache`` (the container is closing)."""
    with _caches_lock:
        if _caches.get(cache.engine) is cache:
            del _caches[cache.engine]


def cache_for(bind: object) -> OrganisationCache | None:
    """The cache of the engine behind a session's bind, or None when there is none."""
    engine = bind.engine if isinstance(bind, Engine | Connection) else None
    if engine is None:
        return None
    with _caches_lock:
        return _caches.get(engine)


def has_uncommitted_changes(session: Session) -> bool:
    """True when this transaction wrote organisations, desks or keys not yet committed."""
    return bool(session.info.get(_CHANGED))


# --- invalidation on commit ----------------------------------------------------------
# Listeners on the ORM Session class see every session of the process (sqlmodel's Session
# is a subclass). Changes are noted at flush or ORM bulk statement and acted on only after
# the commit: invalidating earlier would let a concurrent load read the old rows again. The
# note is not cleared by a rollback (a savepoint rollback must not lose the outer
# transaction's change); at worst a later commit of the same session invalidates once too
# often. Raw SQL text and other processes are covered by the TTL alone.


def _is_directory_row(obj: object) -> bool:
    return isinstance(obj, Organisation | Desk | OrganisationKey)


@event.listens_for(OrmSession, "after_flush")
def _note_flushed_changes(session: OrmSession, _context: UOWTransaction) -> None:
    if any(_is_directory_row(obj) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(OrmSession, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in DIRECTORY_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(OrmSession, "after_commit")
def _invalidate_after_commit(session: OrmSession) -> None:
    if session.info.pop(_CHANGED, False):
        cache = cache_for(session.bind)
        if cache is not None:
            cache.invalidate()
