"""``broker init``: schema, organisations and keys, idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from broker.clock import Clock, SystemClock
from broker.container import keystore_custody
from broker.db import build_engine, unit_of_work
from broker.migrate import upgrade
from broker.organisations.chain import load_chain
from broker.organisations.service import sync_chain
from broker.settings import Settings
from keys import Keystore


@dataclass(frozen=True)
class InitReport:
    """What ``broker init`` did."""

    organisations: int
    new_organisations: tuple[str, ...]
    database: str


def initialise(settings: Settings, *, clock: Clock | None = None) -> InitReport:
    """Migrate the schema and load the chain; safe to run again."""
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    specs = load_chain(settings.resolved_chain_file)
    custody = keystore_custody(settings)
    if not settings.keystore_path.exists():
        Keystore.create(custody, clock=clock)
    Keystore.open(custody, clock=clock)  # fails loudly on a wrong passphrase
    engine = build_engine(settings)
    try:
        upgrade(engine)
        dev_dir = None if settings.is_production else settings.dev_key_dir
        with unit_of_work(engine) as session:
            new = sync_chain(session, specs, clock=clock, dev_key_dir=dev_dir)
    finally:
        engine.dispose()
    return InitReport(
        organisations=len(specs),
        new_organisations=tuple(new),
        database=engine.url.render_as_string(hide_password=True),
    )
