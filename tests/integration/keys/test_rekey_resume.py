"""Re-keying that is interrupted, run twice at once, or overtaken by a slow writer.

Each batch is its own transaction, so a crash loses at most the batches in flight; the next
run finds what is still under the old version and finishes. Whatever happens, every person
row stays whole (token, ciphertext and version of one version) and every person is found.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

import broker.rotation.rekey as rekey_module
import broker.rotation.service as service_module
from broker.container import Container, build_container
from broker.db import unit_of_work
from broker.matches.service import find_involvements, person_aad
from broker.rotation.bulk import PersonUpdates
from broker.rotation.rekey import Cursor, plan_persons, plan_signals
from broker.rotation.service import (
    Progress,
    rekey_all,
    rekey_stored,
    reload_keys,
    retire_unused,
    rotate_keys,
)
from broker.signals.models import Signal, SignalPerson
from broker.signals.service import signal_aad
from keys import MatchingPseudonym
from tests.integration.keys.fill import fill_signals

SIGNALS = 400
BATCH = 50


class Crash(Exception):
    """Stands for the process dying in the middle of a batch."""


def assert_whole(container: Container) -> dict[int, int]:
    """Every person row decrypts and carries the token of its own version; persons per version.

    A row with the token of one version and the ciphertext or version number of another
    would be lost to lookups, or unreadable after retirement.
    """
    fields, pseudonymiser = container.fields, container.pseudonymiser
    versions: dict[int, int] = {}
    with Session(container.engine) as session:
        for person in session.exec(select(SignalPerson)).all():
            y = MatchingPseudonym(fields.decrypt(person.y_enc, aad=person_aad(person)))
            assert fields.key_version(person.y_enc) == person.key_version
            assert person.index_token == pseudonymiser.index_token(y, version=person.key_version)
            versions[person.key_version] = versions.get(person.key_version, 0) + 1
        for signal in session.exec(select(Signal)).all():
            fields.decrypt(signal.payload_enc, aad=signal_aad(signal.id, "payload"))
            if signal.contact_enc is not None:
                fields.decrypt(signal.contact_enc, aad=signal_aad(signal.id, "contact"))
    return versions


def found(container: Container, probes: list[MatchingPseudonym]) -> int:
    with unit_of_work(container.engine) as session:
        hits = find_involvements(session, container, probes, now=container.clock.now())
    return len({hit.person for hit in hits if not hit.via_family})


def test_a_run_that_crashes_mid_batch_is_finished_by_the_next(
    clean: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    probes = fill_signals(clean, SIGNALS)[::40]
    old, new = clean.keystore.active_version, rotate_keys(clean)
    real = rekey_module.update_persons
    calls = 0

    def crash_on_the_third(session: Session, rows: PersonUpdates, *, version: int) -> int:
        # The UPDATE has run inside the batch's transaction when the process "dies".
        nonlocal calls
        written = real(session, rows, version=version)
        calls += 1
        if calls == 3 and written:
            raise Crash
        return written

    monkeypatch.setattr(rekey_module, "update_persons", crash_on_the_third)
    with pytest.raises(Crash):
        rekey_all(clean, batch_size=BATCH, settle=timedelta(0))
    monkeypatch.undo()

    halfway = assert_whole(clean)
    assert set(halfway) == {old, new} and halfway[old] >= BATCH  # the crashed batch rolled back
    assert clean.keystore.live_versions == (new, old)  # nothing retired
    assert found(clean, probes) == len(probes)

    report = rekey_all(clean, batch_size=BATCH, settle=timedelta(0))
    assert report.retired == (old,) and report.kept == {}
    assert report.rows >= halfway[old]  # only what was left, plus the signals
    assert assert_whole(clean) == {new: SIGNALS * 2}
    assert found(clean, probes) == len(probes)


def test_two_processes_rekeying_at_once_both_finish_without_conflict(
    clean: Container, broker_env
) -> None:
    probes = fill_signals(clean, SIGNALS)[::40]
    old, new = clean.keystore.active_version, rotate_keys(clean)
    other = build_container(broker_env.settings)  # a second broker process
    try:
        reload_keys(other)
        assert other.keystore.live_versions == (new, old)
        errors: list[BaseException] = []

        def run(container: Container) -> None:
            try:
                rekey_stored(container, batch_size=BATCH)
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(c,)) for c in (clean, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert assert_whole(clean) == {new: SIGNALS * 2}
        assert found(clean, probes) == len(probes)
        assert retire_unused(clean) == ((old,), {})
    finally:
        other.close()


def test_a_row_written_under_the_old_version_during_a_pass_is_caught(
    clean: Container, broker_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_signals(clean, SIGNALS)
    checks: list[bool] = []

    def stale_left(session: Session, container: Container) -> bool:
        checks.append(rekey_module.stale_left(session, container))
        return checks[-1]

    monkeypatch.setattr(service_module, "stale_left", stale_left)
    slow = build_container(broker_env.settings)  # a process that has not reloaded yet
    try:
        old, new = clean.keystore.active_version, rotate_keys(clean)
        assert slow.keystore.active_version == old
        straggler = MatchingPseudonym(os.urandom(32))

        def slow_writer(step: Progress) -> None:
            # Behind the cursor, or past the end of the table when the pass began.
            if step.batch != 2:
                return
            with unit_of_work(slow.engine) as session:
                signal_id = session.exec(select(Signal.id).limit(1)).one()
                row = SignalPerson(
                    signal_id=signal_id,
                    position=99,
                    role="suspect",
                    index_token=slow.pseudonymiser.index_token(straggler),
                    key_version=slow.keystore.active_version,
                    y_enc=b"",
                )
                row.y_enc = slow.fields.encrypt(straggler, aad=person_aad(row))
                session.add(row)

        rekey_stored(clean, batch_size=BATCH, progress=slow_writer)
        assert checks[-1] is False
        if broker_env.backend == "postgres":
            # The row landed past the end the pass started with: a second pass moved it.
            assert checks == [True, False]
        assert assert_whole(clean) == {new: SIGNALS * 2 + 1}
        assert found(clean, [straggler]) == 1
        assert retire_unused(clean) == ((old,), {})
    finally:
        slow.close()


@pytest.mark.parametrize("batch_size", [7, 64])
def test_a_pass_reads_every_stale_row_exactly_once(clean: Container, batch_size: int) -> None:
    # Small batches end mid-page, past line 9 ("(p,10)" sorts before "(p,2)" as text) and
    # across pages: the next batch must start right after the last row read, never repeat
    # one (two writers would then update the same row) nor skip one.
    fill_signals(clean, 300)
    rotate_keys(clean)
    for plan, expected in ((plan_persons, 600), (plan_signals, 300)):
        seen: list[object] = []
        cursor: Cursor | None = Cursor()
        with Session(clean.engine) as session:  # reads only: every row stays stale
            while cursor is not None:
                batch = plan(session, clean, batch_size=batch_size, cursor=cursor)
                assert batch.rows <= batch_size
                seen += zip(batch.persons.signal_ids, batch.persons.positions, strict=True)
                seen += batch.signals.ids
                cursor = batch.next
        assert len(seen) == expected and len(set(seen)) == expected
    assert rekey_all(clean, batch_size=100, settle=timedelta(0)).rows == 900
