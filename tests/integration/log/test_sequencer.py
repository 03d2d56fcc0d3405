"""The sequencer: events queue with their transaction and one integrator folds them in."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlmodel import Session

from broker.container import Container
from broker.disclosure_log import sequencer
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.repository import LogRepository
from broker.disclosure_log.sequencer import integrate_pending, pending
from broker.disclosure_log.service import record
from broker.transaction import transaction
from tests.integration.log.helpers import append_events
from tests.integration.log.test_tamper_evidence import checkpoint, verify


def size_and_queue(container: Container) -> tuple[int, int]:
    with Session(container.engine) as session:
        return LogRepository(session).size(), pending(session)


def refusal() -> LogEvent:
    return LogEvent(
        event_type=EventType.REFUSAL,
        outcome="refused",
        org_id="vt-rr",
        user_id="user-1",
        role="professional",
        parties=("vt-rr",),
        survives_rollback=True,
    )


def test_events_reach_the_tree_when_the_transaction_commits(clean: Container) -> None:
    with transaction(clean.engine, clean.log) as session:
        append_before = size_and_queue(clean)
        record(session, refusal())
    assert append_before == (0, 0)
    # Without a background integrator (a CLI, this test) the commit integrates inline.
    assert size_and_queue(clean) == (1, 0)
    assert verify(clean).ok


def test_a_rolled_back_transaction_leaves_only_its_refusals(clean: Container) -> None:
    with pytest.raises(RuntimeError), transaction(clean.engine, clean.log) as session:
        record(session, refusal())
        record(
            session,
            LogEvent(event_type=EventType.QUERY, outcome="hit", org_id="vt-rr", user_id="u"),
        )
        raise RuntimeError("use case failed")
    assert size_and_queue(clean) == (1, 0)
    with Session(clean.engine) as session:
        entry = LogRepository(session).entry(0)
        assert entry is not None and entry.event_type == "refusal"


def test_background_integrator_and_readers_see_every_committed_event(
    clean: Container,
) -> None:
    integrator = clean.log.integrator
    integrator.start()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda n: append_events(clean, 1 + n % 4), range(40)))
        expected = sum(1 + n % 4 for n in range(40))
        # A reader drains first: the checkpoint covers every committed event.
        assert checkpoint(clean).size == expected
    finally:
        integrator.stop()
    assert size_and_queue(clean) == (expected, 0)
    report = verify(clean)
    assert report.ok, report.problems


def test_the_background_integrator_needs_no_reader(clean: Container) -> None:
    integrator = clean.log.integrator
    integrator.start()
    try:
        append_events(clean, 3)
        deadline = time.monotonic() + 10
        while size_and_queue(clean) != (3, 0) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert size_and_queue(clean) == (3, 0)
    finally:
        integrator.stop()


def test_competing_integrators_never_integrate_an_event_twice(clean: Container) -> None:
    # Queue events without integrating them, then let many integrators race for them.
    with Session(clean.engine) as session, session.begin():
        for n in range(300):
            clean.log.append(session, [refusal()] if n % 2 else [refusal(), refusal()])
        session.info.clear()  # no inline integration on commit: the racers do it
    queued = size_and_queue(clean)
    assert queued[0] == 0 and queued[1] == 450

    barrier = threading.Barrier(6)

    def race(wait: bool) -> int:
        barrier.wait()
        return integrate_pending(clean.engine, wait=wait, batch=37)

    with ThreadPoolExecutor(max_workers=6) as pool:
        moved = list(pool.map(race, [True, False, True, False, True, False]))
    assert sum(moved) == 450
    assert size_and_queue(clean) == (450, 0)
    report = verify(clean)
    assert report.ok, report.problems


def test_a_failed_integration_keeps_the_events_queued(
    clean: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    append_events(clean, 2)
    original = sequencer.NodeStore.put

    def broken(self: object, nodes: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(sequencer.NodeStore, "put", broken)
    with Session(clean.engine) as session, session.begin():
        clean.log.append(session, [refusal(), refusal()])
        session.info.clear()
    with pytest.raises(RuntimeError):
        integrate_pending(clean.engine)
    assert size_and_queue(clean) == (2, 2)
    monkeypatch.setattr(sequencer.NodeStore, "put", original)
    assert integrate_pending(clean.engine) == 2
    assert size_and_queue(clean) == (4, 0)
    assert verify(clean).ok


def test_queued_bodies_are_what_the_tree_commits_to(clean: Container) -> None:
    with Session(clean.engine) as session, session.begin():
        clean.log.append(session, [refusal()])
        session.info.clear()
    with clean.engine.connect() as conn:
        queued = conn.execute(text("SELECT body FROM log_queue")).scalar_one()
    assert '"index"' not in queued and '"event":"refusal"' in queued
    integrate_pending(clean.engine)
    with Session(clean.engine) as session:
        entry = LogRepository(session).entry(0)
        assert entry is not None and entry.body is not None
        assert entry.body.startswith('{"acting_for":null,') and '"index":0' in entry.body


def test_processes_with_their_own_integrators_leave_one_chain(clean: Container, broker_env) -> None:
    settings = broker_env.settings
    script = textwrap.dedent(f"""
        from broker.settings import Settings
        from broker.container import build_container
        from tests.integration.log.helpers import append_events
        settings = Settings(env="test", data_dir={str(settings.data_dir)!r},
                            database_url={settings.database_url!r},
                            redis_url={settings.redis_url!r})
        container = build_container(settings)
        container.log.integrator.start()
        for n in range(30):
            append_events(container, 1 + n % 3)
        container.log.integrator.stop()
        container.close()
    """)
    workers = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    assert all(w.wait(timeout=180) == 0 for w in workers)
    expected = 3 * sum(1 + n % 3 for n in range(30))
    assert size_and_queue(clean) == (expected, 0)
    assert checkpoint(clean).size == expected
    report = verify(clean)
    assert report.ok, report.problems


def test_a_reader_is_not_starved_by_a_queue_that_keeps_refilling(
    clean: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def queue_left(count: int) -> None:
        with Session(clean.engine) as session, session.begin():
            clean.log.append(session, [refusal() for _ in range(count)])
            session.info.clear()  # committed, left for the integrator

    queue_left(5)
    original = sequencer._deployment_lock

    def busy(session: Session, *, wait: bool) -> bool:
        taken = original(session, wait=wait)
        queue_left(2)  # another request commits just before each batch is read
        return taken

    monkeypatch.setattr(sequencer, "_deployment_lock", busy)
    # Batches of 2: without a bound this would chase the new events for ever.
    assert integrate_pending(clean.engine, batch=2) == 5
    size, queued = size_and_queue(clean)
    assert size == 5 and queued == 6
    monkeypatch.setattr(sequencer, "_deployment_lock", original)
    assert integrate_pending(clean.engine) == 6
    assert verify(clean).ok
