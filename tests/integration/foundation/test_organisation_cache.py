"""The process-wide organisation cache: one load per TTL, and changes that apply at once.

Each test builds caches on engines of its own, so an engine stands for a broker process:
a change committed through an engine invalidates that engine's cache immediately, while a
cache on another engine learns of it only when its TTL (on an injected clock) runs out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import broker.organisations.cache as cache_module
from broker.auth.jwk import ed25519_public_jwk
from broker.auth.replay import InProcessReplayGuard
from broker.auth.tokens import TokenVerifier, sign_token
from broker.clock import SystemClock
from broker.container import Container
from broker.db import build_engine, unit_of_work
from broker.errors import NotAuthenticated
from broker.matches.directory import Directory
from broker.organisations.cache import (
    DirectorySnapshot,
    OrganisationCache,
    register_cache,
    unregister_cache,
)
from broker.organisations.chain import DeskSpec, OrganisationSpec
from broker.organisations.models import Desk, Organisation, OrganisationKey
from broker.organisations.service import revoke_key, sync_chain
from broker.types import OrgDomain, OrgType
from tests.conftest import BrokerEnv

ORG = "cache-test"
TTL = 5.0


class Ticks:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@contextmanager
def process(broker_env: BrokerEnv, ticks: Ticks, ttl: float = TTL) -> Iterator[OrganisationCache]:
    """An engine with its registered cache: what one broker process has."""
    engine = build_engine(broker_env.settings)
    cache = OrganisationCache(engine, ttl_seconds=ttl, now=ticks)
    register_cache(cache)
    try:
        yield cache
    finally:
        unregister_cache(cache)
        engine.dispose()


@pytest.fixture
def here(broker_env: BrokerEnv, ticks: Ticks) -> Iterator[OrganisationCache]:
    """The process under test."""
    with process(broker_env, ticks) as cache:
        yield cache


@pytest.fixture
def elsewhere(broker_env: BrokerEnv) -> Iterator[tuple[OrganisationCache, Ticks]]:
    """Another broker process on the same database, with a clock of its own."""
    clock = Ticks()
    with process(broker_env, clock) as cache:
        yield cache, clock


def spec(phone: str = "+31 10 555 0999", name: str = "Cache test") -> OrganisationSpec:
    return OrganisationSpec(
        id=ORG,
        name=name,
        type=OrgType.WIJKTEAM,
        domain=OrgDomain.CARE,
        desks=(DeskSpec(id="desk", name="Testdesk", phone=phone, hours="ma-vr"),),
    )


class Member:
    """An organisation created for one test, with a signing key of its own."""

    def __init__(self, audience: str) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.jwk = ed25519_public_jwk(self.key.public_key())
        self.kid = str(self.jwk["kid"])
        self.audience = audience
        self.spec = replace(spec(), jwks=(self.jwk,))

    def token(self, *roles: str) -> str:
        return sign_token(
            self.key,
            kid=self.kid,
            org_id=ORG,
            user="cache-tester",
            roles=roles or ("admin",),
            audience=self.audience,
            now=SystemClock().now(),
        )


def delete_org(engine: Engine, org_id: str) -> None:
    with unit_of_work(engine) as session:
        for model in (OrganisationKey, Desk):
            for row in session.exec(select(model).where(col(model.org_id) == org_id)).all():
                session.delete(row)
        session.flush()
        org = session.get(Organisation, org_id)
        if org is not None:
            session.delete(org)


@pytest.fixture
def org(broker_env: BrokerEnv, container: Container) -> Iterator[Member]:
    """Created through the shared container's engine, removed afterwards."""
    created = Member(broker_env.settings.token_audience)
    delete_org(container.engine, ORG)
    with unit_of_work(container.engine) as session:
        sync_chain(session, [created.spec], clock=SystemClock(), dev_key_dir=None)
    yield created
    delete_org(container.engine, ORG)


def verifier(cache: OrganisationCache, org: Member) -> TokenVerifier:
    clock = SystemClock()
    return TokenVerifier(
        cache,
        audience=org.audience,
        max_lifetime=timedelta(minutes=15),
        replay=InProcessReplayGuard(clock),
        clock=clock,
    )


def contact_phone(cache: OrganisationCache) -> str | None:
    with Session(cache.engine) as session:
        contact = Directory(session).contact(ORG, None)
    return None if contact is None else str(contact["phone"])


# --- one load per TTL ------------------------------------------------------------------


def test_keys_organisations_and_desks_come_from_one_load_per_ttl(
    here: OrganisationCache, ticks: Ticks, org: Member
) -> None:
    with statements(here.engine) as seen:
        keys = here.issuer_keys(ORG)
        assert keys is not None and keys.org_type is OrgType.WIJKTEAM
        assert set(keys.jwks) == {org.kid}
        for _ in range(3):
            here.issuer_keys(ORG)
            with Session(here.engine) as session:
                directory = Directory(session)
                assert directory.describe(ORG) == {
                    "id": ORG,
                    "name": "Cache test",
                    "type": "wijkteam",
                }
                assert directory.contact(ORG, "desk") == {
                    "organisation": ORG,
                    "desk": "desk",
                    "name": "Testdesk",
                    "phone": "+31 10 555 0999",
                    "hours": "ma-vr",
                }
                assert directory.contact(ORG, "no-such-desk") == directory.contact(ORG, None)
        assert len(seen) == 3  # organisations, desks, active keys: once

        ticks.advance(TTL - 0.01)
        here.issuer_keys(ORG)
        assert len(seen) == 3
        ticks.advance(0.01)
        here.issuer_keys(ORG)
        assert len(seen) == 6  # expired: loaded again


def test_unknown_organisation_costs_no_query_and_is_forgotten_with_the_ttl(
    here: OrganisationCache, ticks: Ticks, broker_env: BrokerEnv, container: Container
) -> None:
    delete_org(container.engine, ORG)
    here.snapshot()
    try:
        with statements(here.engine) as seen:
            for _ in range(100):
                assert here.issuer_keys(ORG) is None
            with Session(here.engine) as session:
                directory = Directory(session)
                assert directory.describe(ORG) == {"id": ORG, "name": ORG, "type": "unknown"}
                assert directory.contact(ORG, None) is None
        assert seen == []

        # Another process adds the organisation: visible here once the TTL has run out.
        with unit_of_work(container.engine) as session:
            sync_chain(session, [spec()], clock=SystemClock(), dev_key_dir=None)
        assert here.issuer_keys(ORG) is None
        ticks.advance(TTL)
        assert here.issuer_keys(ORG) is not None
    finally:
        delete_org(container.engine, ORG)


def test_zero_ttl_reads_the_database_every_time(
    broker_env: BrokerEnv, ticks: Ticks, org: Member
) -> None:
    with process(broker_env, ticks, ttl=0) as cache, statements(cache.engine) as seen:
        cache.issuer_keys(ORG)
        cache.issuer_keys(ORG)
        assert len(seen) == 6


# --- revocation ------------------------------------------------------------------------


def test_revoked_key_fails_at_once_here_and_within_the_ttl_elsewhere(
    here: OrganisationCache,
    elsewhere: tuple[OrganisationCache, Ticks],
    org: Member,
) -> None:
    other, other_clock = elsewhere
    local, remote = verifier(here, org), verifier(other, org)
    assert local.verify(org.token()).org_id == ORG
    assert remote.verify(org.token()).org_id == ORG

    with unit_of_work(here.engine) as session:
        assert revoke_key(session, ORG, org.kid, clock=SystemClock())
        assert not revoke_key(session, ORG, org.kid, clock=SystemClock())  # already revoked

    # This process: at once, although its clock has not moved.
    with pytest.raises(NotAuthenticated):
        local.verify(org.token())
    # Another process: until its snapshot expires, then never again.
    assert remote.verify(org.token()).org_id == ORG
    other_clock.advance(TTL)
    with pytest.raises(NotAuthenticated):
        remote.verify(org.token())


def test_a_bulk_update_of_keys_invalidates_too(here: OrganisationCache, org: Member) -> None:
    check = verifier(here, org)
    assert check.verify(org.token()).org_id == ORG
    with unit_of_work(here.engine) as session:
        session.execute(
            update(OrganisationKey)
            .where(col(OrganisationKey.org_id) == ORG)
            .values(revoked_at=SystemClock().now())
        )
    with pytest.raises(NotAuthenticated):
        check.verify(org.token())


def test_a_rolled_back_revocation_changes_nothing(here: OrganisationCache, org: Member) -> None:
    check = verifier(here, org)
    assert check.verify(org.token()).org_id == ORG
    with pytest.raises(RuntimeError), unit_of_work(here.engine) as session:
        revoke_key(session, ORG, org.kid, clock=SystemClock())
        raise RuntimeError("abandon")
    assert check.verify(org.token()).org_id == ORG


def test_revocation_through_the_broker_process_refuses_the_next_request(
    client: TestClient, container: Container, org: Member
) -> None:
    def status() -> int:
        headers = {"Authorization": f"Bearer {org.token('admin')}"}
        return client.get(f"/v1/organisations/{ORG}", headers=headers).status_code

    assert status() == 200
    with unit_of_work(container.engine) as session:
        assert revoke_key(session, ORG, org.kid, clock=container.clock)
    assert status() == 401


# --- desks and organisations -----------------------------------------------------------


def test_a_desk_changed_by_the_chain_sync_shows_at_once_here_and_later_elsewhere(
    here: OrganisationCache,
    elsewhere: tuple[OrganisationCache, Ticks],
    org: Member,
) -> None:
    other, other_clock = elsewhere
    assert contact_phone(here) == contact_phone(other) == "+31 10 555 0999"

    changed = replace(spec(phone="+31 10 555 0888", name="Renamed"), jwks=(org.jwk,))
    with unit_of_work(here.engine) as session:
        sync_chain(session, [changed], clock=SystemClock(), dev_key_dir=None)

    assert contact_phone(here) == "+31 10 555 0888"
    with Session(here.engine) as session:
        assert Directory(session).describe(ORG)["name"] == "Renamed"
    assert contact_phone(other) == "+31 10 555 0999"
    other_clock.advance(TTL)
    assert contact_phone(other) == "+31 10 555 0888"


def test_a_transaction_sees_its_own_uncommitted_changes(
    here: OrganisationCache, org: Member
) -> None:
    assert contact_phone(here) == "+31 10 555 0999"
    with pytest.raises(RuntimeError), unit_of_work(here.engine) as session:
        desk = session.get(Desk, (ORG, "desk"))
        assert desk is not None
        desk.phone = "+31 10 555 0777"
        session.add(desk)
        session.flush()
        assert Directory(session).contact(ORG, None)["phone"] == "+31 10 555 0777"  # type: ignore[index]
        raise RuntimeError("abandon")
    assert contact_phone(here) == "+31 10 555 0999"


# --- concurrency -----------------------------------------------------------------------


def counting_loads(
    monkeypatch: pytest.MonkeyPatch, during: Callable[[int], None] = lambda _: None
) -> list[int]:
    """Count snapshot loads; ``during(n)`` runs inside the n-th load, after the read."""
    calls: list[int] = []
    real = cache_module.load_snapshot

    def load(connection: Any) -> DirectorySnapshot:
        calls.append(len(calls) + 1)
        snapshot = real(connection)
        during(len(calls))
        return snapshot

    monkeypatch.setattr(cache_module, "load_snapshot", load)
    return calls


def test_a_load_overlapping_an_invalidation_is_not_kept(
    here: OrganisationCache, org: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A commit lands while the first load reads: its result may be stale and must not stay.
    loads = counting_loads(monkeypatch, during=lambda n: here.invalidate() if n == 1 else None)
    here.snapshot()
    assert loads == [1, 2]
    here.snapshot()
    assert loads == [1, 2]


def test_concurrent_misses_share_one_load(
    here: OrganisationCache, org: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = counting_loads(monkeypatch, during=lambda _: time.sleep(0.2))
    start = threading.Barrier(8)
    results: list[bool] = []

    def lookup() -> None:
        start.wait()
        results.append(here.issuer_keys(ORG) is not None)

    threads = [threading.Thread(target=lookup) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 8
    assert loads == [1]
