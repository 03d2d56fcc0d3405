"""Backing services failing under a running broker, each with PRIVATE instances.

Nothing here touches the shared PostgreSQL or Redis: the Redis test starts its own
``redis-server``; the PostgreSQL test its own cluster under a temporary directory.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from broker.auth.jwk import ed25519_public_jwk
from broker.auth.tokens import sign_token
from broker.clock import SystemClock
from broker.organisations.devkeys import load_development_key
from broker.settings import Settings
from tests.e2e.processes import free_port, start_broker, stop
from tests.identities import BSNS, FATHER, MOTHER

pytestmark = pytest.mark.e2e

PROBLEM_JSON = "application/problem+json"
OVERRIDE = {
    "danger": "Mother and child at risk of serious violence from the father tonight.",
    "why_now": "Father released this afternoon and threatened to come to the house.",
    "tried": "Mother cannot be reached safely; asking consent would alert the father.",
    "needed": "Whether a firearm is known and the current police risk level.",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def police_signal(bsn: str = MOTHER) -> dict:
    return {
        "category": "police_dv_incident",
        "persons": [
            {"person": {"bsn": bsn}, "role": "victim"},
            {"person": {"bsn": FATHER}, "role": "suspect"},
        ],
        "payload": {"firearm_known": True, "risk_level": "acute"},
    }


def hit_query(bsn: str = MOTHER) -> dict:
    return {"purpose": "safety_assessment", "persons": [{"bsn": bsn}]}


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
    assert not any(bsn in response.text for bsn in BSNS)


def wait_until(predicate: Callable[[], bool], *, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except httpx.HTTPError:
            pass
        time.sleep(step)
    return False


# --- Redis ------------------------------------------------------------------------------


def start_redis(port: int) -> subprocess.Popen[bytes]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    if not wait_until(lambda: bool(client.ping()), timeout=10, step=0.05):
        proc.kill()
        raise RuntimeError("private redis-server did not start")
    return proc


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


@pytest.fixture
def private_redis() -> Iterator[dict[str, object]]:
    port = free_port()
    state: dict[str, object] = {"port": port, "proc": start_redis(port)}
    yield state
    kill(state["proc"])  # type: ignore[arg-type]


def test_redis_outage_keeps_hits_and_limits_but_overrides_fail_closed(
    broker_env, clean, token, private_redis
) -> None:
    port = private_redis["port"]
    broker_port = free_port()
    url = f"http://127.0.0.1:{broker_port}"
    broker = start_broker(
        broker_env.settings,
        broker_port,
        extra_env={
            "BROKER_REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "BROKER_QUERY_LIMIT_PER_USER_MINUTE": "3",
        },
    )

    def override() -> httpx.Response:
        return httpx.post(
            f"{url}/v1/disclosures",
            headers=bearer(token("wijkteam-feijenoord", "professional", user=uuid.uuid4().hex)),
            json={
                "purpose": "acute_safety",
                "persons": [{"bsn": MOTHER}],
                "legal_basis": {"type": "serious_danger", "override": OVERRIDE},
            },
            timeout=15,
        )

    try:
        created = httpx.post(
            f"{url}/v1/signals",
            json=police_signal(),
            headers=bearer(token("politie-rr", "professional", user="p1")),
            timeout=15,
        )
        assert created.status_code == 201, created.text
        before = httpx.post(
            f"{url}/v1/hits",
            json=hit_query(),
            headers=bearer(token("vt-rr", user="v1")),
            timeout=15,
        )
        assert before.status_code == 200 and before.json()["known"] is True, before.text

        kill(private_redis["proc"])  # type: ignore[arg-type]

        # Hits keep working on the per-process fallback, and the limit still holds there.
        statuses = [
            httpx.post(
                f"{url}/v1/hits",
                json=hit_query(),
                headers=bearer(token("vt-rr", user="limited")),
                timeout=15,
            )
            for _ in range(4)
        ]
        assert [r.status_code for r in statuses[:3]] == [200, 200, 200], statuses[0].text
        assert all(r.json()["known"] is True for r in statuses[:3])
        assert_problem(statuses[3], 429)

        # A serious-danger override needs shared replay protection: it fails closed.
        assert_problem(override(), 503)

        private_redis["proc"] = start_redis(port)
        assert wait_until(lambda: override().status_code == 200, timeout=15), override().text
        released = override()
        assert released.status_code == 200, released.text
        assert released.json()["status"] == "released"
    finally:
        stop(broker)


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(*argv: str) -> subprocess.CompletedProcess[bytes]:
    if os.geteuid() == 0:
        argv = ("runuser", "-u", "postgres", "--", *argv)
    return subprocess.run(argv, capture_output=True, timeout=60, check=False)


class PrivateCluster:
    """A throw-away PostgreSQL cluster on its own port, owned by the postgres OS user."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="dv-broker-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        done = _as_postgres(
            str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.decode()[-500:]}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = _as_postgres(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.log),
            "-w",
            "start",
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {self.log.read_text()[-800:]}")

    def stop(self) -> None:
        _as_postgres(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    bin_dir = _pg_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() != 0 and os.environ.get("USER") != "postgres":
        pytest.skip("a private cluster needs root (to run as postgres) or the postgres user")
    cluster = PrivateCluster(bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def test_postgres_restart_gives_503_then_recovers_without_restarting_the_broker(
    private_cluster: PrivateCluster, tmp_path: Path
) -> None:
    database_url = private_cluster.create_database("broker_fault")
    settings = Settings(env="test", data_dir=tmp_path / "data", database_url=database_url)  # type: ignore[call-arg]
    env = {
        **os.environ,
        "BROKER_DATA_DIR": str(settings.data_dir),
        "BROKER_DATABASE_URL": database_url,
        "BROKER_ENV": "test",
    }
    env.pop("BROKER_REDIS_URL", None)
    init = subprocess.run(
        [sys.executable, "-m", "broker", "init"], env=env, capture_output=True, timeout=120
    )
    assert init.returncode == 0, init.stderr.decode()[-1000:]

    def make_token(org: str, role: str = "professional") -> str:
        key = load_development_key(settings.dev_key_dir, org)
        return sign_token(
            key,
            kid=ed25519_public_jwk(key.public_key())["kid"],
            org_id=org,
            user=uuid.uuid4().hex[:12],
            roles=(role,),
            audience=settings.token_audience,
            now=SystemClock().now(),
            lifetime=timedelta(seconds=300),
        )

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    broker = start_broker(settings, port, log=tmp_path / "broker.log")

    def ask() -> httpx.Response:
        return httpx.post(
            f"{url}/v1/hits", json=hit_query(), headers=bearer(make_token("vt-rr")), timeout=15
        )

    try:
        created = httpx.post(
            f"{url}/v1/signals",
            json=police_signal(),
            headers=bearer(make_token("politie-rr")),
            timeout=15,
        )
        assert created.status_code == 201, created.text
        assert ask().json()["known"] is True
        assert httpx.get(f"{url}/ready", timeout=10).status_code == 200

        private_cluster.stop()
        down = ask()
        assert_problem(down, 503)
        listing = httpx.get(
            f"{url}/v1/signals", headers=bearer(make_token("politie-rr")), timeout=15
        )
        assert_problem(listing, 503)
        assert httpx.get(f"{url}/ready", timeout=10).status_code == 503

        private_cluster.start()
        assert wait_until(lambda: ask().status_code == 200, timeout=20), ask().text
        answer = ask()
        assert answer.status_code == 200 and answer.json()["known"] is True, answer.text
        assert httpx.get(f"{url}/ready", timeout=10).status_code == 200
        log_text = (tmp_path / "broker.log").read_text(errors="replace")
        assert "Traceback" not in log_text
    finally:
        stop(broker)
