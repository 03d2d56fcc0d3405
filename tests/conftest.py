"""Shared fixtures: one initialised broker per test session, a clean database per test.

``BROKER_TEST_BACKEND`` selects the tier's database: ``sqlite`` (default, the embedded
mode) or ``postgres`` (the real PostgreSQL and Redis on this machine). When PostgreSQL is
selected and unreachable the suite fails; it never silently skips.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from broker.app import create_app
from broker.auth.jwk import ed25519_public_jwk
from broker.auth.tokens import sign_token
from broker.bootstrap import initialise
from broker.clock import SystemClock
from broker.container import Container, build_container
from broker.organisations.devkeys import load_development_key
from broker.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
BACKEND = os.environ.get("BROKER_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "BROKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BROKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
KEEP_TABLES = {"organisation", "desk", "organisation_key", "alembic_version"}


@dataclass
class BrokerEnv:
    """The session's initialised broker: settings and where it writes."""

    settings: Settings
    data_dir: Path
    backend: str


def _postgres_database() -> str:
    name = f"broker_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.exit(f"PostgreSQL at {PG_ADMIN_URL} is required for this tier: {exc}", returncode=3)
    finally:
        admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis at {REDIS_URL} is required for this tier: {exc}", returncode=3)


@pytest.fixture(scope="session")
def broker_env() -> Iterator[BrokerEnv]:
    """Initialise a broker once: migrations, keystore, the example chain."""
    data_dir = ARTIFACTS / f"{BACKEND}-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    values: dict[str, object] = {"env": "test", "data_dir": data_dir}
    if BACKEND == "postgres":
        _require_redis()
        values["database_url"] = _postgres_database()
        values["redis_url"] = REDIS_URL
    settings = Settings(**values)  # type: ignore[arg-type]
    initialise(settings)
    if BACKEND == "postgres":
        # The privacy scan (tests/privacy) reads, then drops, this database after the suite.
        (data_dir / "DATABASE_URL").write_text(str(values["database_url"]))
    yield BrokerEnv(settings=settings, data_dir=data_dir, backend=BACKEND)


@pytest.fixture(scope="session")
def container(broker_env: BrokerEnv) -> Iterator[Container]:
    """Wiring shared by the session's apps."""
    wiring = build_container(broker_env.settings)
    yield wiring
    wiring.close()


def reset_domain_tables(engine: Engine) -> None:
    """Empty every table except the chain's organisations, desks and keys."""
    from broker.models import metadata

    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in KEEP_TABLES:
                conn.execute(table.delete())
        # The log head row exists from the migration on; an empty log has size 0.
        conn.execute(text("INSERT INTO log_head (id, size) VALUES (1, 0)"))


@pytest.fixture
def clean(container: Container) -> Container:
    """A container whose domain tables (and Redis keys) are empty."""
    reset_domain_tables(container.engine)
    container.limiter.reset()
    container.match_memo.clear()
    container.alert_memo.clear()
    if container.redis is not None:
        container.redis.flushdb()
    return container


@pytest.fixture
def cli(broker_env: BrokerEnv, clean: Container, monkeypatch: pytest.MonkeyPatch) -> Container:
    """Point ``broker`` at the session's broker through the environment, as an operator would."""
    settings = broker_env.settings
    monkeypatch.setenv("BROKER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BROKER_ENV", settings.env.value)
    for name, value in (
        ("BROKER_DATABASE_URL", settings.database_url),
        ("BROKER_REDIS_URL", settings.redis_url),
    ):
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    return clean


@pytest.fixture
def client(broker_env: BrokerEnv, clean: Container) -> Iterator[TestClient]:
    """An HTTP client against a fresh app on the session's broker."""
    app = create_app(broker_env.settings, container=clean, run_tasks=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def token(broker_env: BrokerEnv) -> TokenFactory:
    """Sign a fresh development token: ``token("vt-rr", "professional", user="a.jansen")``."""
    clock = SystemClock()

    def make(
        org: str,
        *roles: str,
        user: str = "user-1",
        lifetime: int = 300,
        acting_for: str | None = None,
    ) -> str:
        key = load_development_key(broker_env.settings.dev_key_dir, org)
        return sign_token(
            key,
            kid=ed25519_public_jwk(key.public_key())["kid"],
            org_id=org,
            user=user,
            roles=roles or ("professional",),
            audience=broker_env.settings.token_audience,
            now=clock.now(),
            lifetime=timedelta(seconds=lifetime),
            acting_for=acting_for,
        )

    return make


@pytest.fixture(scope="session")
def auth(token: TokenFactory) -> Callable[..., dict[str, str]]:
    """Authorization headers with a fresh token."""

    def headers(org: str, *roles: str, user: str = "user-1") -> dict[str, str]:
        return {"Authorization": f"Bearer {token(org, *roles, user=user)}"}

    return headers
