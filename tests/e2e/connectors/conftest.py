"""A real broker process for the connector tests: ``broker init``, then ``broker serve``."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors import BrokerClient
from connectors.cli import main
from connectors.credentials import development_key_path, load_private_key
from connectors.sample_data import copy_shifted
from tests.conftest import ARTIFACTS
from tests.e2e.processes import embedded_broker

ORGS = {
    "police": "politie-rr",
    "veilig_thuis": "vt-rr",
    "zvh": "zvhrr",
    "wijkteam": "wijkteam-feijenoord",
    "shelter": "blijf-groep",
}


@dataclass(frozen=True)
class LiveBroker:
    """A running broker: its URL and data directory (with the development keys)."""

    url: str
    data_dir: Path

    def client(self, org: str, *, role: str = "professional", blind: bool = True) -> BrokerClient:
        """An SDK client acting as ``org`` with its development key."""
        key = load_private_key(development_key_path(self.data_dir, org))
        return BrokerClient(self.url, org_id=org, private_key=key, roles=(role,), blind=blind)

    def total_signals(self, org: str) -> int:
        """How many signals ``org`` has registered."""
        with self.client(org) as client:
            return int(client.list_signals(limit=1)["total"])

    def cli_args(self) -> list[str]:
        """The arguments every ``broker-connect`` call against this broker needs."""
        return ["--url", self.url, "--data-dir", str(self.data_dir), "--no-progress"]


@pytest.fixture(scope="session")
def live_broker() -> Iterator[LiveBroker]:
    """Initialise a broker in a fresh data directory and serve it on a free port."""
    # Under test-artifacts/, so the privacy scan reads what this broker wrote.
    data_dir = ARTIFACTS / f"e2e-connectors-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    with embedded_broker(data_dir) as url:
        yield LiveBroker(url=url, data_dir=data_dir)


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample exports with their dates moved to today, so nothing has expired."""
    return copy_shifted(tmp_path_factory.mktemp("samples"), today=dt.date.today())


@dataclass(frozen=True)
class Imported:
    """One sample's first import: exit code, stdout, stderr, signals before and after."""

    code: int
    out: str
    err: str
    before: int
    after: int


@pytest.fixture(scope="session")
def imported(live_broker: LiveBroker, samples: dict[str, Path]) -> dict[str, Imported]:
    """Every sample imported once through the CLI (tests needing data depend on this)."""
    results = {}
    for kind, path in samples.items():
        before = live_broker.total_signals(ORGS[kind])
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main([kind, "--file", str(path), *live_broker.cli_args()])
        after = live_broker.total_signals(ORGS[kind])
        results[kind] = Imported(code, out.getvalue(), err.getvalue(), before, after)
    return results
