"""Tampered bearer tokens at the HTTP level: every flaw is one opaque 401 problem."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt
import pytest
import redis
import redis.asyncio as redis_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from broker.auth.jwk import ed25519_public_jwk
from broker.auth.replay import AsyncRedisReplayGuard, RedisReplayGuard
from broker.auth.tokens import sign_token
from broker.clock import SystemClock
from broker.container import Container
from broker.errors import NotAuthenticated
from broker.organisations.devkeys import load_development_key
from tests.integration.attacks.leaks import assert_problem, fresh_user

ORG = "vt-rr"
TARGET = "/v1/signals"


def signed(broker_env, *, key=None, kid=None, audience=None, now=None, lifetime=300) -> str:
    real = load_development_key(broker_env.settings.dev_key_dir, ORG)
    return sign_token(
        key or real,
        kid=kid or ed25519_public_jwk(real.public_key())["kid"],
        org_id=ORG,
        user=fresh_user(),
        roles=("professional",),
        audience=audience or broker_env.settings.token_audience,
        now=now or SystemClock().now(),
        lifetime=timedelta(seconds=lifetime),
    )


def unsigned(broker_env) -> str:
    claims = jwt.decode(signed(broker_env), options={"verify_signature": False})
    header = jwt.get_unverified_header(signed(broker_env))
    return jwt.encode(claims, key=None, algorithm="none", headers={"kid": header["kid"]})


def other_key(broker_env) -> str:
    return signed(broker_env, key=Ed25519PrivateKey.generate())


def other_key_own_kid(broker_env) -> str:
    key = Ed25519PrivateKey.generate()
    return signed(broker_env, key=key, kid=ed25519_public_jwk(key.public_key())["kid"])


def expired(broker_env) -> str:
    return signed(broker_env, now=SystemClock().now() - timedelta(hours=1))


def wrong_audience(broker_env) -> str:
    return signed(broker_env, audience="some-other-service")


def lifetime_too_long(broker_env) -> str:
    return signed(broker_env, lifetime=30 * 24 * 3600)


@pytest.mark.parametrize(
    "make",
    [unsigned, other_key, other_key_own_kid, expired, wrong_audience, lifetime_too_long],
    ids=lambda f: f.__name__,
)
def test_tampered_token_is_401_problem(client: TestClient, broker_env, make) -> None:
    response = client.get(TARGET, headers={"Authorization": f"Bearer {make(broker_env)}"})
    assert_problem(response, 401)
    assert response.headers.get("www-authenticate", "").startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer a.b.c.d"],
)
def test_malformed_authorization_is_401_problem(client: TestClient, header: str) -> None:
    assert_problem(client.get(TARGET, headers={"Authorization": header}), 401)


def test_replayed_jti_is_401_problem(client: TestClient, broker_env) -> None:
    token = signed(broker_env)
    first = client.get(TARGET, headers={"Authorization": f"Bearer {token}"})
    assert first.status_code == 200, first.text
    assert_problem(client.get(TARGET, headers={"Authorization": f"Bearer {token}"}), 401)


def test_valid_token_still_works(client: TestClient, broker_env) -> None:
    # The control: the tampered variants above fail for their flaw, not for the setup.
    response = client.get(TARGET, headers={"Authorization": f"Bearer {signed(broker_env)}"})
    assert response.status_code == 200, response.text


def test_a_token_id_is_refused_on_the_other_path_too(
    client: TestClient, broker_env, clean: Container
) -> None:
    # The API records token ids from the event loop; the console and other synchronous
    # callers through the container's guard. Either one refuses what the other has seen.
    first = signed(broker_env)
    assert client.get(TARGET, headers={"Authorization": f"Bearer {first}"}).status_code == 200
    with pytest.raises(NotAuthenticated):
        clean.verifier.verify(first)
    second = signed(broker_env)
    clean.verifier.verify(second)
    assert_problem(client.get(TARGET, headers={"Authorization": f"Bearer {second}"}), 401)


def test_a_stale_organisation_snapshot_is_reloaded_off_the_event_loop(
    client: TestClient, broker_env, clean: Container
) -> None:
    clean.organisations.invalidate()
    assert clean.organisations.fresh_snapshot() is None
    response = client.get(TARGET, headers={"Authorization": f"Bearer {signed(broker_env)}"})
    assert response.status_code == 200, response.text
    assert clean.organisations.fresh_snapshot() is not None


def test_replay_memory_falls_back_to_the_process_when_redis_is_down(clean: Container) -> None:
    sync_guard = RedisReplayGuard(
        redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2), clean.clock
    )
    down = redis_asyncio.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)
    guard = AsyncRedisReplayGuard(down, sync_guard)
    expires = clean.clock.now() + timedelta(minutes=5)

    async def twice() -> tuple[bool, bool]:
        try:
            return (
                await guard.first_use("org:jti-1", expires_at=expires),
                await guard.first_use("org:jti-1", expires_at=expires),
            )
        finally:
            await guard.aclose()

    assert asyncio.run(twice()) == (True, False)
    assert sync_guard.first_use("org:jti-1", expires_at=expires) is False
