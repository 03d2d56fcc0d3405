"""``broker purge``, and the same work as a periodic task."""

from __future__ import annotations

from datetime import datetime

from broker.container import Container, build_container
from broker.settings import Settings
from broker.signals.purge import BATCH, purge_expired
from broker.transaction import transaction


def purge_all(container: Container, *, now: datetime) -> tuple[int, int]:
    """Purge batch after batch, each committed with its log entry; return the totals."""
    signals = tombstones = 0
    while True:
        with transaction(container.engine, container.log) as session:
            batch_signals, batch_tombstones = purge_expired(session, container, now=now)
        signals += batch_signals
        tombstones += batch_tombstones
        if batch_signals < BATCH:
            return signals, tombstones


def purge_expired_signals(container: Container) -> tuple[int, int]:
    """The periodic task: purge at the container's time."""
    return purge_all(container, now=container.clock.now())


def run_purge(settings: Settings) -> int:
    """Remove expired and withdrawn signals and tombstones past their five years."""
    container = build_container(settings)
    try:
        signals, tombstones = purge_expired_signals(container)
        print(f"purged signals: {signals}, tombstones: {tombstones}")
        return 0
    finally:
        container.close()
