"""Benchmark the disclosure log on PostgreSQL: appends, ``broker log verify``, proof latency.

Run: .venv/bin/python bench/bench_log.py [--database-url URL] [--entries 1000000]
     [--seconds 20] [--threads 8] [--proof-leaves 10000000] [--only verify] [--workers N]

Only the verify figure, on a throwaway database (filling 1,000,000 entries is most of it):
     .venv/bin/python bench/bench_log.py --only verify
Again and again on a kept database (CREATE DATABASE bench_log_keep first), filling it only
the first time:
     .venv/bin/python bench/bench_log.py --only verify --reuse-log \
         --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_log_keep

Without ``--database-url`` the script creates a database ``bench_log_<random>`` on the local
PostgreSQL server and drops it afterwards. It measures:

(a) sustained appends through ``broker.transaction.transaction`` + ``record()`` from
    ``--threads`` threads (one event, then 50 events per transaction) while a checkpoint is
    signed every second, with the lock hold time and statements per transaction;
(b) ``verify_log`` over ``--entries`` real entries, filled with ``DisclosureLog.append`` in
    transactions of 5,000 events;
(c) ``DisclosureLog.inclusion`` latency (one entry read plus one node read) on that real log,
    and on a ``--proof-leaves`` tree whose ``log_node`` rows are bulk-loaded with COPY from
    ``TreeBuilder`` over synthetic leaf hashes; only the probed entries get ``log_entry`` rows.

``--only`` picks parts (repeatable): ``appends`` is (a), ``verify`` is (b), ``proofs`` is (c)
(its real-log row needs ``verify`` in the same run). ``--database-url`` must name a database
that ``broker init`` may migrate; it is not dropped, but the parts empty its log tables.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shlex
import statistics
import struct
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from broker.bootstrap import initialise
from broker.container import Container, build_container
from broker.db import unit_of_work
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.models import LogEntry
from broker.disclosure_log.service import entry_body, record
from broker.disclosure_log.verify import verify_log
from broker.ledger import TreeBuilder, canonical_json, leaf_hash, verify_inclusion
from broker.settings import Settings
from broker.transaction import transaction

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ORGS = ["politie-rr", "vt-rr", "zvhrr", "wijkteam-feijenoord", "wijkteam-charlois", "jbrr"]
PURPOSES = ["safety_assessment", "acute_safety", "case_handover", "monitoring"]
OUTCOMES = ["no_hit", "hit", "hit", "refused"]
FILL_BATCH = 5_000
PARTS = ("appends", "verify", "proofs")
Row = tuple[str, str]


def parse_args() -> argparse.Namespace:
    """Command-line options; every size can be scaled down for a quick run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: a fresh throwaway db")
    parser.add_argument("--server-url", default=SERVER_URL, help="where to create that db")
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size for verify")
    parser.add_argument("--seconds", type=float, default=20.0, help="per append scenario")
    parser.add_argument("--threads", type=int, default=8, help="concurrent appenders")
    parser.add_argument("--proof-leaves", type=int, default=10_000_000)
    parser.add_argument("--probes", type=int, default=2_000, help="proofs per latency row")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        default=None,
        help="run only this part (repeatable); default: all of them",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="verify_log worker processes (default: its own, one per CPU)",
    )
    parser.add_argument(
        "--reuse-log",
        action="store_true",
        help="verify: keep a log of exactly --entries entries already in --database-url "
        "instead of emptying and refilling it",
    )
    args = parser.parse_args()
    args.only = args.only or list(PARTS)
    if args.reuse_log and not args.database_url:
        parser.error("--reuse-log needs --database-url (a throwaway database starts empty)")
    return args


# --- setup --------------------------------------------------------------------------------


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """Create ``bench_log_<random>`` and drop it afterwards, whatever happens."""
    name = f"bench_log_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def broker_on(url: str, data_dir: Path, threads: int) -> Container:
    """Schema (``initialise`` runs ``broker.migrate.upgrade``), keystore and chain, then wiring."""
    settings = Settings(
        env="test",  # type: ignore[arg-type]
        data_dir=data_dir,
        database_url=url,
        database_pool_size=threads + 2,
    )
    initialise(settings)
    return build_container(settings)


def reset_log(engine: Engine) -> None:
    """Empty the log tables between scenarios."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE log_entry, log_party, log_person, log_node, log_checkpoint"))
        conn.execute(text("UPDATE log_head SET size = 0 WHERE id = 1"))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def make_event(rng: random.Random) -> LogEvent:
    """A query as a professional's request would log it: two parties, one or two persons."""
    org, source = rng.sample(ORGS, 2)
    persons = tuple(f"lp_{rng.getrandbits(128):032x}" for _ in range(rng.choice((1, 2))))
    return LogEvent(
        event_type=EventType.QUERY,
        outcome=rng.choice(OUTCOMES),
        org_id=org,
        user_id=f"user-{rng.randrange(500)}",
        role="professional",
        purpose=rng.choice(PURPOSES),
        persons=persons,
        parties=(org, source),
        details={"categories": ["safety"], "hits": rng.randrange(3)},
    )


# --- profiling hooks ----------------------------------------------------------------------


@dataclass
class Profile:
    """Statements sent and how long each transaction held the log head lock."""

    statements: int = 0
    transactions: int = 0
    lock_holds: list[float] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def install(self, engine: Engine) -> Callable[[], None]:
        """Listen on ``engine`` and every Session; return a function that stops listening."""

        def after_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            # The head lock is held from the moment the first UPDATE of log_head returns.
            local = self._local
            local.statements = getattr(local, "statements", 0) + 1
            if statement.lstrip().startswith("UPDATE log_head") and not getattr(
                local, "locked_at", None
            ):
                local.locked_at = time.perf_counter()

        def after_end(session: Any) -> None:
            local = self._local
            locked_at = getattr(local, "locked_at", None)
            local.locked_at = None
            statements, local.statements = getattr(local, "statements", 0), 0
            if locked_at is None:
                return  # not an append (the checkpointer, for one)
            with self._guard:
                self.statements += statements + 2  # BEGIN and COMMIT are round trips too
                self.transactions += 1
                self.lock_holds.append(time.perf_counter() - locked_at)

        event.listen(engine, "after_cursor_execute", after_execute)
        event.listen(Session, "after_commit", after_end)
        event.listen(Session, "after_rollback", after_end)

        def remove() -> None:
            event.remove(engine, "after_cursor_execute", after_execute)
            event.remove(Session, "after_commit", after_end)
            event.remove(Session, "after_rollback", after_end)

        return remove


def quantiles_ms(values: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    if len(values) < 2:
        return (values[0] * 1000, values[0] * 1000) if values else (0.0, 0.0)
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


# --- (a) appends --------------------------------------------------------------------------


def bench_appends(
    container: Container, *, threads: int, per_tx: int, seconds: float, seed: int
) -> list[Row]:
    """Threads append ``per_tx`` events per transaction while checkpoints are signed."""
    reset_log(container.engine)
    stop = threading.Event()
    counts = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    checkpoints = [0]
    errors: list[BaseException] = []

    def appender(number: int) -> None:
        rng = random.Random(seed + number)
        try:
            while not stop.is_set():
                started = time.perf_counter()
                with transaction(container.engine, container.log) as session:
                    for _ in range(per_tx):
                        record(session, make_event(rng))
                latencies[number].append(time.perf_counter() - started)
                counts[number] += per_tx
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    def checkpointer() -> None:
        try:
            while not stop.wait(1.0):
                with unit_of_work(container.engine) as session:
                    container.log.checkpoint(session)
                checkpoints[0] += 1
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    profile = Profile()
    remove = profile.install(container.engine)
    workers = [threading.Thread(target=appender, args=(n,)) for n in range(threads)]
    workers.append(threading.Thread(target=checkpointer))
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    remove()
    if errors:
        raise errors[0]
    events = sum(counts)
    tx_p50, tx_p99 = quantiles_ms([lat for per in latencies for lat in per])
    hold_p50, hold_p99 = quantiles_ms(profile.lock_holds)
    name = f"{threads} threads x {per_tx} event{'s' if per_tx > 1 else ''}/tx"
    statements = profile.statements / max(profile.transactions, 1)
    busy = sum(profile.lock_holds) / elapsed
    return [
        (f"append, {name}, checkpoint every 1 s", f"**{events / elapsed:,.0f} appends/s**"),
        (
            f"append, {name}: transactions, checkpoints",
            f"{profile.transactions / elapsed:,.0f} tx/s, {checkpoints[0]} checkpoints signed",
        ),
        (f"append, {name}: tx latency p50 / p99", f"{tx_p50:.2f} / {tx_p99:.2f} ms"),
        (
            f"append, {name}: head lock hold p50 / p99 (lock held {busy:.0%} of the time)",
            f"{hold_p50:.2f} / {hold_p99:.2f} ms",
        ),
        (f"append, {name}: round trips per tx (incl. BEGIN, COMMIT)", f"{statements:.1f}"),
    ]


# --- (b) verify ---------------------------------------------------------------------------


def fill(container: Container, count: int, seed: int) -> float:
    """Append ``count`` events with ``DisclosureLog.append`` in transactions of 5,000."""
    rng = random.Random(seed)
    started = time.perf_counter()
    for first in range(0, count, FILL_BATCH):
        events = [make_event(rng) for _ in range(min(FILL_BATCH, count - first))]
        with unit_of_work(container.engine) as session:
            container.log.append(session, events)
    return time.perf_counter() - started


def log_size(engine: Engine) -> int:
    """Entries in the log now (0 when the log tables are empty)."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM log_entry")).scalar_one())


def bench_verify(
    container: Container, entries: int, seed: int, *, workers: int | None, reuse: bool
) -> list[Row]:
    """Fill a real log, sign a checkpoint, and time ``verify_log`` over all of it."""
    rows: list[Row] = []
    if reuse and log_size(container.engine) == entries:
        rows.append((f"fill {entries:,} entries", "skipped (--reuse-log: already filled)"))
        # Each run signs with the keys of its own temporary data directory.
        with container.engine.begin() as conn:
            conn.execute(text("DELETE FROM log_checkpoint"))
    else:
        reset_log(container.engine)
        filled = fill(container, entries, seed)
        rows.append(
            (
                f"fill {entries:,} entries (DisclosureLog.append, {FILL_BATCH:,} per tx)",
                f"{filled:.1f} s ({entries / filled:,.0f} appends/s)",
            )
        )
    with unit_of_work(container.engine) as session:
        container.log.checkpoint(session)
    with container.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), os.times()
    with Session(container.engine) as session:
        report = verify_log(
            session,
            verifier_keys=container.log.verifier_keys(),
            origin=container.settings.log_origin,
            workers=workers,
        )
    elapsed, after = time.perf_counter() - started, os.times()
    own = after.user + after.system - cpu.user - cpu.system
    children = after.children_user + after.children_system - cpu.children_user - cpu.children_system
    if not report.ok or report.entries != entries:
        raise SystemExit(f"verify failed on an intact log: {report.problems[:3]}")
    rows.append(
        (
            f"verify_log over {entries:,} entries ({report.nodes:,} nodes, "
            f"{report.checkpoints} checkpoint{'s' if report.checkpoints != 1 else ''}, "
            f"{report.workers} worker process{'es' if report.workers != 1 else ''})",
            f"**{elapsed:.1f} s** ({own:.1f} s CPU in the main process, {children:.1f} s in "
            f"workers; 1-min load {load:.1f} before)",
        )
    )
    return rows


# --- (c) inclusion proofs -----------------------------------------------------------------


def inclusion_latency(
    container: Container, size: int, probes: list[int], root: bytes
) -> tuple[float, float]:
    """p50 / p99 of ``DisclosureLog.inclusion``, a fresh session per call (no identity map)."""
    timings: list[float] = []
    for index in probes:
        with Session(container.engine) as session:
            started = time.perf_counter()
            entry, proof = container.log.inclusion(session, index, size=size)
            timings.append(time.perf_counter() - started)
        if not verify_inclusion(entry.leaf_hash, index=index, size=size, proof=proof, root=root):
            raise SystemExit(f"inclusion proof of {index} does not verify")
    return quantiles_ms(timings)


def probe_real_log(container: Container, entries: int, probes: int, seed: int) -> list[Row]:
    """Proof latency on the log that ``bench_verify`` filled."""
    with unit_of_work(container.engine) as session:
        head = container.log.checkpoint(session)
    rng = random.Random(seed)
    sample = rng.sample(range(entries), min(probes + 200, entries))
    inclusion_latency(container, head.size, sample[:200], head.root)  # warm the pool
    p50, p99 = inclusion_latency(container, head.size, sample[200:], head.root)
    return [
        (
            f"DisclosureLog.inclusion at {entries:,} real entries p50 / p99",
            f"{p50:.2f} / {p99:.2f} ms",
        )
    ]


def synthetic_leaves(size: int, probed: dict[int, bytes]) -> Iterator[bytes]:
    """Distinct leaf hashes; the probed indices get the hash of their real entry body."""
    sha256 = hashlib.sha256
    for index in range(size):
        leaf = probed.get(index)
        yield leaf if leaf is not None else sha256(b"\x00" + index.to_bytes(8, "big")).digest()


def copy_nodes(engine: Engine, size: int, probed: dict[int, bytes]) -> tuple[bytes, int, float]:
    """COPY every complete node of a ``size``-leaf tree into ``log_node``; return the root."""
    builder = TreeBuilder()
    row = struct.Struct("!hiiiqi32s")
    header = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
    nodes = 0
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        with driver.cursor() as cur:
            cur.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'log_node'::regclass")
            (pkey,) = cur.fetchone() or ("log_node_pkey",)
            # Bulk load without the index, then build it once: same table, same index.
            cur.execute(f'ALTER TABLE log_node DROP CONSTRAINT "{pkey}"')
            with cur.copy("COPY log_node (level, idx, hash) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(header)
                buffer = bytearray()
                for leaf in synthetic_leaves(size, probed):
                    for node in builder.append(leaf):
                        buffer += row.pack(3, 4, node.level, 8, node.index, 32, node.hash)
                        nodes += 1
                    if len(buffer) > 1 << 20:
                        copy.write(bytes(buffer))
                        buffer.clear()
                buffer += struct.pack("!h", -1)
                copy.write(bytes(buffer))
            cur.execute("SET maintenance_work_mem = '512MB'")
            cur.execute(f'ALTER TABLE log_node ADD CONSTRAINT "{pkey}" PRIMARY KEY (level, idx)')
        driver.commit()
    finally:
        raw.close()
    return builder.root(), nodes, time.perf_counter() - started


def bench_big_tree(container: Container, size: int, probes: int, seed: int) -> list[Row]:
    """A ``size``-leaf tree in ``log_node``; ``log_entry`` rows only for the probed indices."""
    reset_log(container.engine)
    rng = random.Random(seed)
    sample = rng.sample(range(size), probes + 200)
    now = container.clock.now()
    # The integrator's leaf data: the queued body with its index added.
    bodies = {
        i: canonical_json({**entry_body(make_event(rng), at=now), "index": i}) for i in sample
    }
    probed = {i: leaf_hash(body) for i, body in bodies.items()}
    tree_root, nodes, loaded = copy_nodes(container.engine, size, probed)
    with unit_of_work(container.engine) as session:
        rows = [
            {
                "index": i,
                "created_at": now,
                "event_type": "query",
                "outcome": "hit",
                "body": body.decode(),
                "leaf_hash": probed[i],
            }
            for i, body in bodies.items()
        ]
        session.execute(insert(LogEntry), rows)
        session.execute(text("UPDATE log_head SET size = :n WHERE id = 1"), {"n": size})
    with container.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE log_node")
        )
    with unit_of_work(container.engine) as session:
        head = container.log.checkpoint(session)
    if head.root != tree_root:
        raise SystemExit("the checkpoint root differs from TreeBuilder's root")
    inclusion_latency(container, size, sample[:200], head.root)  # warm the pool
    p50, p99 = inclusion_latency(container, size, sample[200:], head.root)
    return [
        (
            f"load {size:,}-leaf tree into log_node (TreeBuilder + COPY + PK build)",
            f"{loaded:.1f} s ({nodes:,} nodes)",
        ),
        (
            f"DisclosureLog.inclusion at {size:,} leaves p50 / p99 ({probes:,} probes)",
            f"**{p50:.2f} / {p99:.2f} ms**",
        ),
    ]


# --- main ---------------------------------------------------------------------------------


def run(url: str, args: argparse.Namespace) -> list[Row]:
    """Every scenario against the broker database at ``url``."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench_log_") as tmp:
        container = broker_on(url, Path(tmp), args.threads)
        try:
            if "appends" in args.only:
                for threads, per_tx in ((1, 1), (args.threads, 1), (args.threads, 50)):
                    rows += bench_appends(
                        container,
                        threads=threads,
                        per_tx=per_tx,
                        seconds=args.seconds,
                        seed=args.seed,
                    )
                    print(f"done: appends {threads}x{per_tx}", file=sys.stderr)
            if "verify" in args.only:
                rows += bench_verify(
                    container,
                    args.entries,
                    args.seed,
                    workers=args.workers,
                    reuse=args.reuse_log,
                )
                print("done: verify", file=sys.stderr)
            if "proofs" in args.only:
                if "verify" in args.only:
                    rows += probe_real_log(container, args.entries, args.probes, args.seed)
                rows += bench_big_tree(container, args.proof_leaves, args.probes, args.seed)
        finally:
            container.close()
    return rows


def main() -> None:
    """Run the benchmark and print one markdown table."""
    args = parse_args()
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    if args.database_url:
        rows = run(args.database_url, args)
    else:
        with throwaway_database(args.server_url) as url:
            rows = run(url, args)
    engine = create_engine(args.database_url or args.server_url)
    with engine.connect() as conn:
        server = conn.execute(text("SHOW server_version")).scalar_one()
    engine.dispose()
    rows.append(("wall time of the whole run", f"{time.perf_counter() - started:.0f} s"))
    print(
        f"PostgreSQL {server}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"1-min load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after\n"
    )
    print("| measurement | result |")
    print("| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\nCommand: `{shlex.join([sys.executable, *sys.argv])}`")


if __name__ == "__main__":
    main()
