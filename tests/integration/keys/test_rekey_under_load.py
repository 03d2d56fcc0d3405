"""The 100,000-signal scenario (bench/bench_rekey.py) at a size the suite can afford.

Re-keying runs in small batches while another thread keeps asking for known persons; every
single lookup must find them, whether their rows have moved to the new version or not.
"""

from __future__ import annotations

import threading

from sqlmodel import Session, select

from broker.container import Container
from broker.db import unit_of_work
from broker.matches.service import find_involvements
from broker.rotation.service import Progress, rekey_stored, retire_unused, rotate_keys
from broker.signals.models import SignalPerson
from keys import MatchingPseudonym
from tests.integration.keys.fill import fill_signals

SIGNALS = 3_000
BATCH = 150


class Asker(threading.Thread):
    """Asks for the probes until stopped; records misses and errors."""

    def __init__(self, container: Container, probes: list[MatchingPseudonym]) -> None:
        super().__init__(name="asker")
        self.container, self.probes = container, probes
        self.halt = threading.Event()
        self.lookups = 0
        self.misses: list[int] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                with unit_of_work(self.container.engine) as session:
                    found = find_involvements(
                        session, self.container, self.probes, now=self.container.clock.now()
                    )
            except Exception as exc:
                self.errors.append(exc)
                return
            direct = {inv.person for inv in found if not inv.via_family}
            if len(direct) != len(self.probes):
                self.misses.append(len(self.probes) - len(direct))
            self.lookups += 1


def test_lookups_never_miss_while_rekeying(clean: Container) -> None:
    firsts = fill_signals(clean, SIGNALS)
    probes = firsts[:: SIGNALS // 12]  # spread over the table: moved early, late and between
    old, new = clean.keystore.active_version, rotate_keys(clean)
    asker = Asker(clean, probes)
    lookups_at_batch: list[int] = []

    def progress(step: Progress) -> None:
        lookups_at_batch.append(asker.lookups)

    asker.start()
    try:
        rows, batches = rekey_stored(clean, batch_size=BATCH, progress=progress)
    finally:
        asker.halt.set()
        asker.join(timeout=30)
    assert asker.errors == [] and asker.misses == []
    # Lookups really ran during re-keying, not only before or after it.
    assert len(set(lookups_at_batch)) > 1, lookups_at_batch
    # Every row moved at least once (a row touched by two passes under load counts twice);
    # that each one ended on the new version is checked below.
    assert rows >= SIGNALS * 3 and batches == len(lookups_at_batch)
    assert retire_unused(clean) == ((old,), {})
    with Session(clean.engine) as session:
        assert set(session.exec(select(SignalPerson.key_version)).all()) == {new}
    with unit_of_work(clean.engine) as session:
        found = find_involvements(session, clean, probes, now=clean.clock.now())
    assert {inv.person for inv in found} == set(range(len(probes)))
