"""Key rotation: a new version, stored pseudonyms and fields re-keyed in batches, then retirement.

The broker keeps answering throughout. Each batch is its own short transaction; writers
always use the active version; lookups ask with one token per live version
(``Pseudonymiser.lookup_tokens``), so a person is found whether or not their row has moved.
A version is retired only when nothing at all is stored under it any more.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session

from broker.container import Container
from broker.db import unit_of_work
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.rotation.bulk import tune_batch
from broker.rotation.inventory import take_inventory
from broker.rotation.rekey import (
    Batch,
    Cursor,
    Plan,
    plan_persons,
    plan_signals,
    stale_left,
    write_batch,
)
from broker.transaction import transaction
from keys import Keystore

logger = logging.getLogger("broker.rotation")

# How often every broker process looks for a rotation done elsewhere (see broker.tasks).
RELOAD_SECONDS = 5.0
# Rows move to a new version only once every process can read it: one reload interval, the
# task loop's tick and a slow request still writing under the old version, with margin.
SETTLE = timedelta(seconds=15)

# Connections writing re-keyed batches side by side on PostgreSQL, besides the one reading
# (see _rekey_pass); SQLite has one writer at a time, so there it is always one.
WRITERS = 2

_seen_files: weakref.WeakKeyDictionary[Keystore, tuple[int, int, int]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Progress:
    """One finished batch: its number, the rows it changed and the running total."""

    batch: int
    rows: int
    total: int


@dataclass(frozen=True)
class RekeyReport:
    """What ``rekey_all`` did: rows changed, batches, versions retired and versions kept."""

    rows: int
    batches: int
    retired: tuple[int, ...] = ()
    kept: dict[int, int] = field(default_factory=dict)


def rotate_keys(container: Container) -> int:
    """Make a new active key version (the previous one keeps reading) and log it."""
    keystore = container.keystore
    with transaction(container.engine, container.log) as session:
        previous = keystore.active_version
        version = keystore.rotate()
        record(
            session,
            LogEvent.system(
                EventType.KEY_ROTATION,
                "rotated",
                details={"version": version, "previous": previous},
            ),
        )
    return version


def rekey_all(
    container: Container,
    *,
    batch_size: int,
    progress: Callable[[Progress], None] | None = None,
    settle: timedelta = SETTLE,
    wait: Callable[[float], None] = time.sleep,
) -> RekeyReport:
    """Re-key everything to the active version, a transaction per batch, then retire.

    First waits until the active version is ``settle`` old, so every broker process has
    loaded it before rows move to it. Retires each older version with nothing left under it.
    """
    if batch_size < 1:
        raise ValueError("the batch size must be at least 1")
    reload_keys(container)
    _wait_until_settled(container, settle, wait)
    rows, batches = rekey_stored(container, batch_size=batch_size, progress=progress)
    retired, kept = retire_unused(container)
    return RekeyReport(rows=rows, batches=batches, retired=retired, kept=kept)


def rekey_stored(
    container: Container, *, batch_size: int, progress: Callable[[Progress], None] | None = None
) -> tuple[int, int]:
    """Move every person and signal field to the active version; return rows and batches."""
    stale = container.keystore.live_versions[1:]
    total = batches = 0

    def done(rows: int) -> None:
        nonlocal total, batches
        if not rows:
            return
        total, batches = total + rows, batches + 1
        if progress is not None:
            progress(Progress(batch=batches, rows=rows, total=total))

    # Passes until nothing is left: rows a slow writer added behind the cursor under the old
    # version, or rows skipped because they changed between read and write, are caught by
    # the next pass. Checking is one scan per table, cheaper than a pass that only reads.
    while True:
        for plan in (plan_persons, plan_signals):
            _rekey_pass(container, plan, batch_size=batch_size, done=done)
        with Session(container.engine) as session:
            if not stale_left(session, container):
                break
    if stale:
        details = {"version": container.keystore.active_version, "rows": total}
        with transaction(container.engine, container.log) as session:
            record(session, LogEvent.system(EventType.KEY_ROTATION, "rekeyed", details=details))
    return total, batches


def _rekey_pass(
    container: Container, plan: Plan, *, batch_size: int, done: Callable[[int], None]
) -> None:
    """One pass over a table: plans (reads and re-keys) batches while earlier ones are written.

    Writing is most of the work at 1,000,000 signals: every person update inserts into two
    B-tree indexes (primary key, blind-index token) at random places, in indexes far larger
    than shared buffers. So on PostgreSQL ``WRITERS`` connections write batches side by side
    while this thread plans the next one; on two cores that keeps both busy. Batches of one
    pass never share a row (see ``Cursor``), so the writers never wait for each other's row
    locks; another process re-keying at the same time locks rows in the same (physical)
    order, so the two cannot deadlock, and each skips what the other already moved.
    """
    writers = WRITERS if container.engine.dialect.name == "postgresql" else 1
    in_flight: deque[Future[int]] = deque()
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="rekey-writer") as pool:
        cursor: Cursor | None = Cursor()
        while cursor is not None:
            with Session(container.engine) as session:
                tune_batch(session)
                batch = plan(session, container, batch_size=batch_size, cursor=cursor)
            # At most one planned batch waits for a writer: memory stays a few batches.
            while len(in_flight) > writers:
                done(in_flight.popleft().result())
            if batch.rows:
                in_flight.append(pool.submit(_write, container, batch))
            cursor = batch.next
        while in_flight:
            done(in_flight.popleft().result())


def _write(container: Container, batch: Batch) -> int:
    with unit_of_work(container.engine) as session:
        tune_batch(session)
        return write_batch(session, batch)


def _wait_until_settled(
    container: Container, settle: timedelta, wait: Callable[[float], None]
) -> None:
    keystore = container.keystore
    created = next(
        v.created_at for v in keystore.all_versions if v.version == keystore.active_version
    )
    remaining = (created + settle - container.clock.now()).total_seconds()
    if remaining > 0:
        wait(remaining)


def retire_unused(container: Container) -> tuple[tuple[int, ...], dict[int, int]]:
    """Retire every older version with nothing stored under it; return retired and kept.

    Only safe once every broker process has loaded the active version (``rekey_all`` waits).
    """
    keystore = container.keystore
    retired: list[int] = []
    kept: dict[int, int] = {}
    with transaction(container.engine, container.log) as session:
        inventory = take_inventory(session)
        for version in keystore.live_versions[1:]:
            left = inventory.left(version)
            if left:
                kept[version] = left
                outcome, details = "kept", {"version": version, "left": left}
            else:
                # Persisted before the commit: a failed retire rolls its log entry back.
                keystore.retire(version)
                retired.append(version)
                outcome, details = "retired", {"version": version}
            record(session, LogEvent.system(EventType.KEY_ROTATION, outcome, details=details))
    return tuple(retired), kept


def reload_keys(container: Container) -> bool:
    """Pick up a rotation or retirement done by another process; True when reloaded.

    Cheap enough to run every few seconds: one stat of the keystore file, and the costly
    unlock (scrypt, about 0.1 s) only when the file was replaced.
    """
    keystore = container.keystore
    stat = container.settings.keystore_path.stat()
    signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if _seen_files.get(keystore) == signature:
        return False
    before = keystore.live_versions
    keystore.reload()
    _seen_files[keystore] = signature
    if keystore.live_versions != before:
        logger.info(
            "key versions reloaded",
            extra={"active": keystore.active_version, "live": list(keystore.live_versions)},
        )
    return True
