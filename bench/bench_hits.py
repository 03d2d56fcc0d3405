"""Hit-query latency and throughput through HTTP, and bulk registration throughput.

Every request goes the whole way: a fresh organisation-signed token (EdDSA, verified,
jti recorded in Redis), purpose binding, pseudonymisation, the index lookup on PostgreSQL,
the disclosure-log append (queued with the request, integrated into the tree by the
sequencer), matches and the outbox. Two ``broker serve`` processes share the machine with
PostgreSQL, Redis and this load generator.

The index is filled directly with binary COPY. The signals that the probe persons are in
(400 of them, spread evenly over the table) are real: real matching pseudonyms from
(fictional) BSNs, their real blind-index tokens and real AES-GCM ciphertexts, so the hits
and the family look-ups the queries make are real. Every other signal is a filler that only
has to occupy the index and the table as a real one would: its index token (an HMAC output
in real rows) and its ciphertexts are random bytes of the real lengths. The filler rows are
made by worker processes (one per core) and COPYed while the secondary indexes are dropped
and the foreign-key triggers disabled; the indexes are rebuilt from their own definitions
after the load, then VACUUM (ANALYZE) and CHECKPOINT, so that neither autovacuum nor
checkpoint I/O falls into a measurement.

For each size in ``--signals`` the script runs, on a fresh database:

1. ``--ratio-rate`` requests/s (default 50) for ``--ratio-seconds``: a
   rate the machine sustains, so that the latency reflects the work per request and not a
   queue; the 10,000,000-signal latency is compared with the 10,000-signal one at this rate
   (issue #4: within 1.5x);
2. one bulk registration of ``--bulk`` signals (blind path);
3. ``--rate`` requests/s (default 300) for ``--seconds``: the issue #4 target at
   1,000,000 signals (p50 <= 10 ms, p99 <= 50 ms, no errors). Requests still unanswered
   ``--max-drain`` seconds after the last one was sent count as errors.

Each measured phase follows 5 s at its own rate on the same client connections, with other
requests (another seed), not counted: the thread and connection pools grow to their size at
that rate, as in a broker in service. Requests are offered in an open loop (a slow server
does not slow the offered rate) by ``bench.loadgen``, prepared as raw HTTP bytes before the
clock starts. Latency is measured from the moment a request was due, so a late send counts
against the broker's figure; "client lag" is how late the load generator itself sent
requests (its own CPU share on these 2 cores). "known" is the share of answers that found
someone: half the queries ask for a probe person, so a share near half (less where the
asker is the only source) shows that the hits are real. The data table gives the fill time
and the disk use; a size whose estimated disk use does not fit is skipped and reported.

    .venv/bin/python bench/bench_hits.py --signals 10000,1000000,10000000
    .venv/bin/python bench/bench_hits.py --signals 2000 --seconds 5 --ratio-seconds 5  # smoke
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    broker_settings,
    bulk_load,
    free_port,
    fresh_database,
    gib,
    loadavg,
    machine,
    target,
)
from bench.loadgen import post_request, run_load
from broker.auth.jwk import ed25519_public_jwk
from broker.auth.tokens import sign_token
from broker.container import build_container
from broker.matches.service import person_aad
from broker.organisations.devkeys import load_development_key
from broker.settings import Settings
from broker.signals.models import SignalPerson
from broker.signals.service import signal_aad
from keys import BsnIdentifier, MatchingPseudonym

SOURCES = [
    ("politie-rr", "police_dv_incident"),
    ("vt-rr", "vt_report"),
    ("wijkteam-charlois", "wijkteam_support"),
    ("zvhrr", "zvh_case"),
]
ASKERS = ["wijkteam-feijenoord", "wijkteam-delfshaven", "vt-rr", "politie-rr", "jbrr"]
PURPOSE = {
    "wijkteam-feijenoord": "home_visit_risk_check",
    "wijkteam-delfshaven": "case_handover",
    "vt-rr": "safety_assessment",
    "politie-rr": "acute_safety",
    "jbrr": "case_handover",
}
SIGNAL_COLUMNS = (
    "id, org_id, category, severity, purpose, shielded, embargo, created_at, expires_at, "
    "payload_enc"
)
SIGNAL_TYPES = [
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "bool",
    "bool",
    "timestamptz",
    "timestamptz",
    "bytea",
]
PERSON_COLUMNS = "signal_id, position, role, index_token, key_version, y_enc"
PERSON_TYPES = ["varchar", "int4", "varchar", "bytea", "int4", "bytea"]
INDEX_TABLES = ["signal", "signal_person"]
PROBES = 200  # probe persons; each is in two signals, the second time with a relative
BYTES_PER_SIGNAL = 800  # on disk with indexes: 770 measured at 300,000 signals

# Seconds at a phase's rate before its measurement, not counted: the brokers' thread and
# connection pools and the client's connections grow to their size at that rate, as in a
# broker that is in service (a cold start costs the first second or two at 300 req/s).
WARM_UP = 5.0

# Issue #4 targets.
TARGET_SIGNALS, TARGET_RATE, TARGET_P50, TARGET_P99 = 1_000_000, 300.0, 10.0, 50.0
RATIO_BIG, RATIO_SMALL, RATIO_MAX = 10_000_000, 10_000, 1.5
BULK_PER_SECOND = 5_000
HIT_TARGET = (
    "hit query p50 <= 10 ms and p99 <= 50 ms at >= 300 requests/s with 1,000,000 active signals"
)
RATIO_TARGET = "hit latency at 10,000,000 signals within 1.5x that at 10,000"
BULK_TARGET = "bulk registration >= 5,000 signals/s"


def say(message: str) -> None:
    """Progress on stderr, so stdout stays the markdown that run_all collects."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def valid_bsns(count: int, *, start: int) -> list[str]:
    """``count`` numbers that pass the BSN eleven-test, from ``start`` on."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    out, number = [], start
    while len(out) < count:
        digits = f"{number:09d}"
        if sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0:
            out.append(digits)
        number += 7919
    return out


# --- the fill -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FillPlan:
    """What every fill worker needs: sizes, lengths of real ciphertexts, the real rows."""

    url: str
    signals: int
    version: int
    now: datetime
    token_bytes: int
    y_enc_bytes: int
    payload_bytes: int
    probe_rows: dict[int, tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = field(repr=False)


def signal_id(n: int, rng: random.Random) -> str:
    """32 hex characters like ``uuid4().hex``, in insertion order so the key index appends."""
    return f"{n:010x}{rng.getrandbits(88):022x}"


def signal_columns(n: int, sid: str, now: datetime, payload: bytes) -> tuple[Any, ...]:
    """One signal row; source, category and age cycle with ``n``."""
    org, category = SOURCES[n % len(SOURCES)]
    created = now - timedelta(days=n % 300)
    expires = created + timedelta(days=700)
    return (sid, org, category, "medium", "registration", False, False, created, expires, payload)


def probe_rows(settings: Settings, signals: int, probes: list[str]) -> FillPlan:
    """The real rows of the probe signals, and the real ciphertext lengths for the fillers."""
    container = build_container(settings)
    try:
        now = datetime.now(UTC)
        version = container.keystore.active_version
        fields, pseudonymiser = container.fields, container.pseudonymiser
        probe_ys = [pseudonymiser.matching_pseudonym(BsnIdentifier(b)) for b in probes]
        rng = random.Random(11)
        count = min(2 * len(probe_ys), signals)
        spacing = max(1, signals // count)
        rows: dict[int, tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = {}
        for k in range(count):
            # Spread over the table (and over the four sources, whatever the spacing).
            n = k * spacing + (k % len(SOURCES) if spacing > len(SOURCES) else 0)
            sid = signal_id(n, rng)
            payload = fields.seal_json({}, aad=signal_aad(sid, "payload"))
            persons = []
            # Every probe is in two signals; in the second one with a relative (position 1).
            ys = [probe_ys[k % len(probe_ys)]]
            if k >= len(probe_ys):
                ys.append(MatchingPseudonym(os.urandom(32)))
            for position, y in enumerate(ys):
                aad = person_aad(
                    SignalPerson(
                        signal_id=sid,
                        position=position,
                        role="victim",
                        index_token=b"",
                        key_version=version,
                        y_enc=b"",
                    )
                )
                persons.append(
                    (
                        sid,
                        position,
                        "victim",
                        pseudonymiser.index_token(y),
                        version,
                        fields.encrypt(y, aad=aad),
                    )
                )
            rows[n] = (signal_columns(n, sid, now, payload), persons)
        # Fillers get random bytes as long as the real token and ciphertexts.
        sid = signal_id(0, rng)
        y = MatchingPseudonym(os.urandom(32))
        return FillPlan(
            url=settings.database_url.replace("postgresql+psycopg://", "postgresql://"),
            signals=signals,
            version=version,
            now=now,
            token_bytes=len(pseudonymiser.index_token(y)),
            y_enc_bytes=len(fields.encrypt(y, aad=b"signal_person:x:0")),
            payload_bytes=len(fields.seal_json({}, aad=signal_aad(sid, "payload"))),
            probe_rows=rows,
        )
    finally:
        container.close()


def fill_range(plan: FillPlan, first: int, last: int) -> int:
    """COPY signals ``first`` to ``last`` (exclusive) and their persons; return the persons.

    Runs in a worker process: two connections, one COPY stream per table, one transaction.
    Fillers have one person (even ``n``) or two (odd ``n``), as the probe signals do.
    """
    rng = random.Random(first)
    randbytes = rng.randbytes
    token_bytes, y_bytes = plan.token_bytes, plan.y_enc_bytes
    version, now, probes = plan.version, plan.now, plan.probe_rows
    persons = 0
    with psycopg.connect(plan.url) as signal_conn, psycopg.connect(plan.url) as person_conn:
        with (
            signal_conn.cursor().copy(
                f"COPY signal ({SIGNAL_COLUMNS}) FROM STDIN (FORMAT BINARY)"
            ) as signal_copy,
            person_conn.cursor().copy(
                f"COPY signal_person ({PERSON_COLUMNS}) FROM STDIN (FORMAT BINARY)"
            ) as person_copy,
        ):
            signal_copy.set_types(SIGNAL_TYPES)
            person_copy.set_types(PERSON_TYPES)
            write_signal, write_person = signal_copy.write_row, person_copy.write_row
            for n in range(first, last):
                real = probes.get(n)
                if real is not None:
                    write_signal(real[0])
                    for row in real[1]:
                        write_person(row)
                    persons += len(real[1])
                    continue
                sid = signal_id(n, rng)
                write_signal(signal_columns(n, sid, now, randbytes(plan.payload_bytes)))
                for position in range(1 + n % 2):
                    write_person(
                        (
                            sid,
                            position,
                            "victim",
                            randbytes(token_bytes),
                            version,
                            randbytes(y_bytes),
                        )
                    )
                persons += 1 + n % 2
        signal_conn.commit()
        person_conn.commit()
    return persons


def scalar(conn: psycopg.Connection[Any], query: str, *params: object) -> int:
    """The integer a one-value query returns."""
    row = conn.execute(query, params or None).fetchone()
    assert row is not None
    return int(row[0])


def fill(settings: Settings, signals: int, probes: list[str], *, workers: int) -> dict[str, str]:
    """Fill the index with ``signals`` signals; return what the data table shows."""
    started = time.perf_counter()
    plan = probe_rows(settings, signals, probes)
    ranges = [
        (signals * w // workers, signals * (w + 1) // workers)
        for w in range(workers)
        if signals * w // workers < signals * (w + 1) // workers
    ]
    with psycopg.connect(plan.url) as admin:
        with bulk_load(admin, INDEX_TABLES, maintenance_work_mem="1GB") as dropped:
            say(f"  loading {signals:,} signals in {len(ranges)} processes (dropped {dropped})")
            with ProcessPoolExecutor(len(ranges), mp_context=get_context("spawn")) as pool:
                persons = sum(
                    pool.map(fill_range, [plan] * len(ranges), *zip(*ranges, strict=True))
                )
            loaded = time.perf_counter() - started
            say(f"  loaded in {loaded:.0f} s; rebuilding indexes")
        indexed = time.perf_counter() - started - loaded
        admin.autocommit = True
        # VACUUM, not only ANALYZE: after millions of inserted rows autovacuum would
        # otherwise vacuum both tables (setting hint bits and the visibility map, gigabytes
        # of I/O at 10,000,000 signals) during the measurements, as a table long in service
        # would not need.
        for table in INDEX_TABLES:
            admin.execute(f"VACUUM (ANALYZE) {table}")
        admin.execute("CHECKPOINT")
        vacuumed = time.perf_counter() - started - loaded - indexed
        on_disk = sum(scalar(admin, "SELECT pg_total_relation_size(%s)", t) for t in INDEX_TABLES)
        database = scalar(admin, "SELECT pg_database_size(current_database())")
    elapsed = time.perf_counter() - started
    say(f"  filled {signals:,} signals in {elapsed:.0f} s")
    return {
        "signals": f"{signals:,}",
        "persons": f"{persons:,}",
        "fill": f"{elapsed:.0f} s ({loaded:.0f} s COPY in {len(ranges)} processes, "
        f"{indexed:.0f} s indexes, {vacuumed:.0f} s vacuum and checkpoint)",
        "index tables": gib(on_disk),
        "database": gib(database),
    }


# --- the broker and the load --------------------------------------------------------------


def serve(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    """One ``broker serve`` process on ``port``, rate limits out of the way."""
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "BROKER_DATA_DIR": str(settings.data_dir),
        "BROKER_ENV": "test",
        "BROKER_DATABASE_URL": settings.database_url,
        "BROKER_REDIS_URL": settings.redis_url or "",
        "BROKER_LOG_LEVEL": "WARNING",
        "BROKER_QUERY_LIMIT_PER_USER_MINUTE": "100000",
        "BROKER_QUERY_LIMIT_PER_ORG_MINUTE": "1000000",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "broker", "serve", "--port", str(port)],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(url: str) -> None:
    """Wait until ``/ready`` answers 200 (at most a minute)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("broker did not become ready")


class Signer:
    """Organisation tokens as each organisation's own system would sign them."""

    def __init__(self, settings: Settings) -> None:
        self.keys = {
            org: load_development_key(settings.dev_key_dir, org)
            for org in {*ASKERS, *(o for o, _ in SOURCES)}
        }
        self.kids = {org: ed25519_public_jwk(k.public_key())["kid"] for org, k in self.keys.items()}

    def header(self, org: str, user: str, role: str = "professional") -> dict[str, str]:
        """An Authorization header with a fresh token (its own jti)."""
        token = sign_token(
            self.keys[org],
            kid=self.kids[org],
            org_id=org,
            user=user,
            roles=[role],
            audience="dv-broker",
            now=datetime.now(UTC),
        )
        return {"Authorization": f"Bearer {token}"}


@dataclass
class LoadResult:
    """One open-loop run at one offered rate."""

    offered: float
    latencies: list[float]
    lags: list[float]
    errors: int
    unfinished: int
    total: int
    achieved: float
    known: int = 0  # answers that found the person (half the queries ask for a probe)
    # CPU milliseconds per request by component, warm-up included (same rate), from /proc.
    cpu_ms: dict[str, float] = field(default_factory=dict)
    reference_ms: float = float("nan")  # the machine's speed just before, see reference_loop

    def p(self, q: float) -> float:
        """The ``q`` quantile of the latencies in milliseconds."""
        return percentile(self.latencies, q) * 1000

    @property
    def failed(self) -> int:
        """Errors and requests not answered in time."""
        return self.errors + self.unfinished


async def load(
    urls: list[str],
    signer: Signer,
    probes: list[str],
    misses: list[str],
    *,
    rate: float,
    seconds: float,
    max_drain: float,
    warm_up: float = 0.0,
) -> LoadResult:
    """Offer ``rate`` requests/s for ``seconds`` (open loop), half hits and half misses.

    The requests go out through ``bench.loadgen``: prepared as raw HTTP bytes before the
    clock starts, each with its own freshly signed token (the broker refuses a replayed
    jti), as each organisation's system would sign on its own machine. The generator costs
    a few tens of microseconds per request, so it hardly competes with the broker for the
    two cores; latency runs from each request's due time, so queueing is counted.
    """
    total = max(1, int(rate * seconds))
    warm = int(rate * warm_up)
    requests = []
    # The warm-up asks other persons in another order (its own seed) than the measurement.
    for seed, count in ((8, warm), (7, total)):
        rng = random.Random(seed)
        for i in range(count):
            asker = ASKERS[i % len(ASKERS)]
            bsn = rng.choice(probes) if i % 2 == 0 else rng.choice(misses)
            requests.append(
                post_request(
                    urls[len(requests) % len(urls)],
                    "/v1/hits",
                    {"purpose": PURPOSE[asker], "persons": [{"bsn": bsn}]},
                    signer.header(asker, f"user-{i % 997}"),
                )
            )
    targets = []
    for url in urls:
        parts = urlsplit(url)
        targets.append((parts.hostname or "127.0.0.1", parts.port or 80))
    # Request i goes to targets[i % len(targets)], the URL its Host header names.
    run = await run_load(
        targets, requests, rate=rate, keep_bodies=True, max_drain=max_drain, discard=warm
    )
    return LoadResult(
        offered=rate,
        latencies=run.latencies,
        lags=run.lags,
        errors=run.errors + (len(run.latencies) - run.errors - run.ok),
        unfinished=run.unfinished,
        total=total,
        achieved=run.achieved,
        known=sum(b'"known":true' in body for body in run.bodies),
    )


def bulk(url: str, signer: Signer, items: int) -> tuple[float, float]:
    """One bulk registration (blind path: the client sends OPRF outputs); seconds, rate."""
    rng = random.Random(3)
    body = {
        "items": [
            {
                "category": "police_dv_incident",
                "severity": "low",
                "persons": [
                    {
                        "person": {
                            "oprf_output": base64.urlsafe_b64encode(rng.randbytes(32))
                            .rstrip(b"=")
                            .decode()
                        },
                        "role": "victim",
                    }
                ],
            }
            for _ in range(items)
        ]
    }
    t0 = time.perf_counter()
    r = httpx.post(
        f"{url}/v1/signals/bulk",
        json=body,
        timeout=600,
        headers={**signer.header("politie-rr", "import"), "Idempotency-Key": uuid.uuid4().hex},
    )
    elapsed = time.perf_counter() - t0
    if r.status_code != 201:
        raise RuntimeError(f"bulk registration answered {r.status_code}: {r.text[:300]}")
    return elapsed, items / elapsed


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0 < q < 1) of ``values``; the maximum for tiny samples."""
    if not values:
        return float("nan")
    if len(values) <= 10:
        return max(values)
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def reference_loop() -> float:
    """Milliseconds for a fixed pure-Python loop, the best of three: the machine's speed now.

    A virtual machine's cores are not equally fast at all hours (neighbours, throttling);
    the same code has cost 35% more CPU per request on one afternoon than on the morning.
    This figure, taken before each measured phase, tells the runs apart.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(3_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def cpu_seconds(brokers: list[int]) -> dict[str, float]:
    """CPU seconds used so far by the brokers, PostgreSQL, Redis and this load generator."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"brokers": 0.0, "PostgreSQL": 0.0, "Redis": 0.0, "load generator": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
        except OSError:
            continue
        pid = int(entry.name)
        fields_after_name = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields_after_name[11]) + int(fields_after_name[12])) / tick
        if pid in brokers:
            used["brokers"] += seconds
        elif pid == os.getpid():
            used["load generator"] += seconds
        elif command.startswith("postgres"):
            used["PostgreSQL"] += seconds
        elif "redis-server" in command:
            used["Redis"] += seconds
    return used


# --- one size -----------------------------------------------------------------------------


@dataclass
class SizeResult:
    """Everything measured at one number of active signals."""

    size: int
    data: dict[str, str] = field(default_factory=dict)
    ratio: LoadResult | None = None
    target: LoadResult | None = None
    bulk: tuple[float, float] | None = None
    load: tuple[float, float] = (0.0, 0.0)
    failure: str | None = None


def settle(limit: float, *, below: float = 1.0) -> float:
    """Wait until the 1-minute load average is under ``below`` (at most ``limit`` s)."""
    deadline = time.monotonic() + limit
    while loadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(2)
    return loadavg()[0]


def run_size(
    size: int, args: argparse.Namespace, probes: list[str], misses: list[str]
) -> SizeResult:
    """Fill a fresh database with ``size`` signals, start the brokers, offer the loads."""
    result = SizeResult(size)
    needed = size * BYTES_PER_SIGNAL * 1.5 + 2 * 1024**3  # the data, WAL and index builds
    free = shutil.disk_usage(Path(__file__).resolve().parents[1]).free
    if needed > free:
        result.failure = f"does not fit: about {gib(needed)} needed, {gib(free)} free on disk"
        return result
    load_before = loadavg()[0]
    with fresh_database("bench_hits") as url, broker_settings(url) as settings:
        say(f"{size:,} signals: filling")
        result.data = fill(settings, size, probes, workers=args.fill_workers)
        ports = [free_port() for _ in range(args.processes)]
        procs = [serve(settings, port) for port in ports]
        try:
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            for u in urls:
                wait_ready(u)
            signer = Signer(settings)
            # The fill (COPY, index builds) and the previous size's overload leave work
            # behind (checkpoints, autovacuum); measure the comparison on a settled machine.
            settled = settle(args.settle)
            say(f"{size:,} signals: 1-min load {settled:.2f} after settling; warming up")

            def offer(rate: float, seconds: float) -> LoadResult:
                """``rate`` for ``seconds``, after ``WARM_UP`` seconds at the same rate."""
                reference = reference_loop()
                pids = [proc.pid for proc in procs]
                before = cpu_seconds(pids)
                run = asyncio.run(
                    load(
                        urls,
                        signer,
                        probes,
                        misses,
                        rate=rate,
                        seconds=seconds,
                        max_drain=args.max_drain,
                        warm_up=WARM_UP,
                    )
                )
                after = cpu_seconds(pids)
                requests = run.total + int(rate * WARM_UP)
                run.cpu_ms = {k: (after[k] - before[k]) * 1000 / requests for k in after}
                run.reference_ms = reference
                return run

            if args.ratio_rate:
                say(f"{size:,} signals: {args.ratio_rate:g} req/s for {args.ratio_seconds:g} s")
                result.ratio = offer(args.ratio_rate, args.ratio_seconds)
                time.sleep(2)
            if args.bulk:
                say(f"{size:,} signals: bulk registration of {args.bulk:,}")
                result.bulk = bulk(urls[0], signer, args.bulk)
                time.sleep(2)
            if args.rate:
                say(f"{size:,} signals: {args.rate:g} req/s for {args.seconds:g} s")
                result.target = offer(args.rate, args.seconds)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    result.load = (load_before, loadavg()[0])
    return result


# --- targets and output -------------------------------------------------------------------


def describe(run: LoadResult, size: int) -> str:
    """A one-line figure for the summary."""
    return (
        f"p50 {run.p(0.5):.1f} ms, p99 {run.p(0.99):.1f} ms at {run.achieved:.0f} req/s "
        f"achieved ({run.offered:g} offered), {run.failed} errors of {run.total:,}, "
        f"{size:,} signals"
    )


def emit_hit_target(results: list[SizeResult], rate: float) -> None:
    """Issue #4: p50 <= 10 ms, p99 <= 50 ms at >= 300 req/s, no errors, >= 1,000,000."""
    done = [r for r in results if r.target is not None]
    big = [r for r in done if r.size >= TARGET_SIGNALS]
    if big:
        r = min(big, key=lambda r: r.size)
        run = r.target
        assert run is not None
        # The rate is the offered one: in an open loop every request is sent on time whatever
        # the answers do, so all of them answered 2xx within the latency bounds is the rate
        # sustained. (Answered over elapsed time stays a hair under the offered rate, since
        # the clock also runs while the last answers come back.)
        met = (
            run.p(0.5) <= TARGET_P50
            and run.p(0.99) <= TARGET_P99
            and run.offered >= TARGET_RATE
            and run.failed == 0
        )
        target(
            4,
            HIT_TARGET,
            describe(run, r.size),
            met,
            target_text=f"met: >= {TARGET_RATE:g} req/s offered in an open loop, every request "
            "answered 2xx (none shed, none unanswered), p50 and p99 within the bounds",
        )
    elif done:
        r = done[-1]
        assert r.target is not None
        target(
            4,
            HIT_TARGET,
            f"not at 1,000,000 signals in this run: {describe(r.target, r.size)}",
            None,
        )
    else:
        reasons = "; ".join(f"{r.size:,}: {r.failure}" for r in results if r.failure)
        target(4, HIT_TARGET, f"not measured ({reasons or f'no run at {rate:g} req/s'})", None)


def emit_ratio_target(results: list[SizeResult]) -> None:
    """Issue #4: latency at 10,000,000 within 1.5x that at 10,000 (at the ratio rate)."""
    runs = {r.size: r.ratio for r in results if r.ratio is not None}
    small = [s for s in runs if s <= RATIO_SMALL]
    big = [s for s in runs if s >= RATIO_BIG]
    if not small or not big:
        missing = [f"{r.size:,}: {r.failure}" for r in results if r.failure and r.size >= RATIO_BIG]
        reason = "; ".join(missing) or (
            f"this run had {', '.join(f'{s:,}' for s in sorted(runs)) or 'no'} signals at the "
            "ratio rate"
        )
        figure = ""
        if len(runs) >= 2:
            lo, hi = min(runs), max(runs)
            a, b = runs[lo], runs[hi]
            figure = (
                f"; {hi:,} vs {lo:,}: p50 x{b.p(0.5) / a.p(0.5):.2f}, "
                f"p99 x{b.p(0.99) / a.p(0.99):.2f}"
            )
        target(4, RATIO_TARGET, f"not measured ({reason}){figure}", None)
        return
    lo, hi = max(small), min(big)
    a, b = runs[lo], runs[hi]
    assert a is not None and b is not None
    p50x, p99x = b.p(0.5) / a.p(0.5), b.p(0.99) / a.p(0.99)
    met = p50x <= RATIO_MAX and p99x <= RATIO_MAX and a.failed == 0 and b.failed == 0
    target(
        4,
        RATIO_TARGET,
        f"p50 x{p50x:.2f} ({b.p(0.5):.1f} vs {a.p(0.5):.1f} ms), p99 x{p99x:.2f} "
        f"({b.p(0.99):.1f} vs {a.p(0.99):.1f} ms) at {b.offered:g} req/s offered",
        met,
        target_text=f"both at {b.offered:g} req/s, a rate this machine sustains, so that "
        "queueing does not dominate; met: both ratios <= 1.5 and no errors",
    )


def emit_bulk_target(results: list[SizeResult], items: int) -> None:
    """Issue #4: bulk registration >= 5,000 signals/s (at the target's 1,000,000 if run)."""
    done = [r for r in results if r.bulk is not None]
    if not done:
        target(4, BULK_TARGET, "not measured (no bulk registration in this run)", None)
        return
    r = min(done, key=lambda r: abs(r.size - TARGET_SIGNALS))
    assert r.bulk is not None
    seconds, rate = r.bulk
    target(
        4,
        BULK_TARGET,
        f"{rate:,.0f} signals/s (one request of {items:,}, blind path, {seconds:.1f} s, "
        f"{r.size:,} signals in the index)",
        rate >= BULK_PER_SECOND,
    )


def print_tables(results: list[SizeResult], args: argparse.Namespace) -> None:
    """The markdown tables: latency per size and rate, bulk, data sizes."""
    print(
        f"\nMachine: {machine()}; {args.processes} broker processes, PostgreSQL + Redis, "
        "load generator on the same cores\n"
    )
    print(
        "| active signals | offered (req/s) | achieved (req/s) | p50 (ms) | p99 (ms) | max (ms) "
        "| errors | known | client lag p99 (ms) | load before / after |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if r.failure:
            print(f"| {r.size:,} | | | | | | {r.failure} | | | |")
        for run in (r.ratio, r.target):
            if run is None:
                continue
            worst = max(run.latencies, default=float("nan")) * 1000
            print(
                f"| {r.size:,} | {run.offered:g} | {run.achieved:.0f} | {run.p(0.5):.1f} "
                f"| {run.p(0.99):.1f} | {worst:.0f} | {run.failed}/{run.total:,} "
                f"| {run.known / max(run.total - run.failed, 1):.0%} "
                f"| {percentile(run.lags, 0.99) * 1000:.1f} | {r.load[0]:.1f} / {r.load[1]:.1f} |"
            )
    runs = [(r.size, run) for r in results for run in (r.ratio, r.target) if run and run.cpu_ms]
    if runs:
        print(
            "\nCPU per request in ms (warm-up included), and the reference loop timed just "
            "before (`reference_loop`: lower is a faster machine):\n"
        )
        print(
            "| active signals | offered (req/s) | brokers | PostgreSQL | Redis | load generator "
            "| all | reference loop (ms) |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for size, run in runs:
            c = run.cpu_ms
            print(
                f"| {size:,} | {run.offered:g} | {c['brokers']:.2f} | {c['PostgreSQL']:.2f} "
                f"| {c['Redis']:.2f} | {c['load generator']:.2f} | {sum(c.values()):.2f} "
                f"| {run.reference_ms:.0f} |"
            )
    if any(r.bulk for r in results):
        print("\n| active signals | bulk registration | seconds | signals/s |")
        print("|---:|---:|---:|---:|")
        for r in results:
            if r.bulk:
                print(f"| {r.size:,} | {args.bulk:,} | {r.bulk[0]:.1f} | {r.bulk[1]:,.0f} |")
    if any(r.data for r in results):
        print(
            "\n| active signals | signal_person rows | fill | signal + signal_person on disk "
            "| database |"
        )
        print("|---:|---:|---|---:|---:|")
        for r in results:
            if r.data:
                d = r.data
                print(
                    f"| {d['signals']} | {d['persons']} | {d['fill']} | {d['index tables']} "
                    f"| {d['database']} |"
                )


def main() -> None:
    """Run every size, then print the tables; targets are printed as they are known."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--signals", default="10000,1000000,10000000", help="comma-separated")
    parser.add_argument("--rate", type=float, default=300, help="0: no target-rate run")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--ratio-rate", type=float, default=50, help="0: no ratio run")
    parser.add_argument("--ratio-seconds", type=float, default=20)
    parser.add_argument("--max-drain", type=float, default=60, help="wait after the last send")
    parser.add_argument("--processes", type=int, default=2, help="broker serve processes")
    parser.add_argument("--fill-workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--settle",
        type=float,
        default=150,
        help="seconds to wait at most, per size, for the 1-min load average to fall under 1",
    )
    parser.add_argument("--bulk", type=int, default=10_000, help="0: no bulk registration")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.signals.split(",") if s.strip()]
    probes = valid_bsns(PROBES, start=300_000_000)
    misses = valid_bsns(2000, start=500_000_000)
    results: list[SizeResult] = []
    try:
        for size in sizes:
            try:
                results.append(run_size(size, args, probes, misses))
            except Exception as exc:
                traceback.print_exc()
                results.append(SizeResult(size, failure=f"failed: {type(exc).__name__}: {exc}"))
            r = results[-1]
            if r.failure:
                say(f"{size:,} signals: {r.failure}")
            for run in (r.ratio, r.target):
                if run is not None:
                    say(f"{size:,} signals: {describe(run, size)}")
    finally:
        emit_hit_target(results, args.rate)
        emit_ratio_target(results)
        emit_bulk_target(results, args.bulk)
        print_tables(results, args)


if __name__ == "__main__":
    main()
