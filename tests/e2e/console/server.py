"""A real broker process for the browser tests: ``broker init``, ``broker serve``, seeding."""

from __future__ import annotations

import shutil
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
from tests.e2e.processes import embedded_broker
from tests.identities import CHILD_1, FATHER, MOTHER

AUDIENCE = "dv-broker"


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


@contextmanager
def running_broker(data_dir: Path) -> Iterator[RunningBroker]:
    """Initialise a fresh data directory and serve it until the block ends."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    with embedded_broker(data_dir, log_name="serve.out") as url:
        yield RunningBroker(url=url, data_dir=data_dir)


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
