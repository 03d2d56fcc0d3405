"""A real broker process for the browser tests: ``broker init``, ``broker serve``, seeding."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from broker.auth.jwk import ed25519_public_jwk
from broker.auth.tokens import sign_token
from broker.clock import SystemClock
from broker.organisations.devkeys import load_development_key
from tests.identities import CHILD_1, FATHER, MOTHER

ROOT = Path(__file__).resolve().parents[3]
AUDIENCE = "dv-broker"
START_TIMEOUT = 40.0


@dataclass(frozen=True)
class RunningBroker:
    """A served broker: where it listens and where it keeps its data."""

    url: str
    data_dir: Path

    def token(self, org: str, *roles: str, user: str) -> str:
        """A fresh development token of ``org`` (each is accepted once)."""
        key = load_development_key(self.data_dir / "dev-keys", org)
        return sign_token(
            key,
            kid=ed25519_public_jwk(key.public_key())["kid"],
            org_id=org,
            user=user,
            roles=roles,
            audience=AUDIENCE,
            now=SystemClock().now(),
            lifetime=timedelta(minutes=5),
        )

    def api(self, org: str, role: str = "professional", *, user: str = "seed") -> httpx.Client:
        """An API client authenticated as ``org``."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token(org, role, user=user)}"},
            timeout=10,
        )


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_broker(data_dir: Path) -> Iterator[RunningBroker]:
    """Initialise a fresh data directory and serve it until the block ends."""
    shutil.rmtree(data_dir, ignore_errors=True)
    env = {
        **os.environ,
        "BROKER_DATA_DIR": str(data_dir),
        "BROKER_ENV": "test",
        "BROKER_LOG_LEVEL": "WARNING",
    }
    env.pop("BROKER_DATABASE_URL", None)
    env.pop("BROKER_REDIS_URL", None)
    subprocess.run(
        [sys.executable, "-m", "broker", "init"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = (data_dir / "serve.out").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "broker", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield RunningBroker(url=url, data_dir=data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"broker serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("broker serve did not come up in time")


def seed(broker: RunningBroker) -> None:
    """Police and Veilig Thuis know the family; the neighbourhood team does not know that."""
    signals = [
        (
            "politie-rr",
            {
                "category": "police_dv_incident",
                "desk": "wijkagent-feijenoord",
                "payload": {"firearm_known": True, "risk_level": "high", "children_present": True},
                "persons": [
                    {"person": {"bsn": MOTHER}, "role": "victim"},
                    {"person": {"bsn": FATHER}, "role": "suspect"},
                ],
            },
        ),
        (
            "vt-rr",
            {
                "category": "vt_report",
                "payload": {"risk_level": "medium"},
                "persons": [
                    {"person": {"bsn": MOTHER}, "role": "victim"},
                    {"person": {"bsn": CHILD_1}, "role": "child"},
                ],
            },
        ),
    ]
    for org, body in signals:
        with broker.api(org) as client:
            response = client.post("/v1/signals", json=body)
            response.raise_for_status()
