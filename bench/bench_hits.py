"""Hit-query latency and throughput through HTTP, and bulk registration throughput.

Every request goes the whole way: a fresh organisation-signed token (EdDSA, verified,
jti recorded in Redis), purpose binding, pseudonymisation, the index lookup on PostgreSQL,
the disclosure-log append (queued with the request, integrated into the tree by the
sequencer), matches and the outbox.

The index is filled directly (COPY) with realistic rows: a random matching pseudonym per
filler person, its real blind-index token and its real AES-GCM ciphertext. Probe persons
are pseudonymised from real (fictional) BSNs, so half of the queries hit and half miss.

    .venv/bin/python bench/bench_hits.py --signals 10000,1000000 --rate 300 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import broker_settings, fresh_database, machine
from broker.auth.jwk import ed25519_public_jwk
from broker.auth.tokens import sign_token
from broker.container import build_container
from broker.matches.service import person_aad
from broker.organisations.devkeys import load_development_key
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


def valid_bsns(count: int, *, start: int) -> list[str]:
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    out, number = [], start
    while len(out) < count:
        digits = f"{number:09d}"
        if sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0:
            out.append(digits)
        number += 7919
    return out


def fill(settings, signals: int, probes: list[str]) -> None:
    """COPY ``signals`` signals (one or two persons each) into the index."""
    container = build_container(settings)
    now = datetime.now(UTC)
    version = container.keystore.active_version
    fields, pseudonymiser = container.fields, container.pseudonymiser
    probe_ys = [pseudonymiser.matching_pseudonym(BsnIdentifier(b)) for b in probes]
    empty_payload = {}
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    chunk = 50_000
    with psycopg.connect(url) as conn:
        for first in range(0, signals, chunk):
            persons: list[tuple[object, ...]] = []
            with conn.cursor().copy(
                "COPY signal (id, org_id, category, severity, purpose, shielded, embargo, "
                "created_at, expires_at, payload_enc) FROM STDIN"
            ) as sig:
                for n in range(first, min(first + chunk, signals)):
                    org, category = SOURCES[n % len(SOURCES)]
                    sid = uuid.uuid4().hex
                    created = now - timedelta(days=n % 300)
                    sig.write_row(
                        (
                            sid,
                            org,
                            category,
                            "medium",
                            "registration",
                            False,
                            False,
                            created,
                            created + timedelta(days=700),
                            fields.seal_json(empty_payload, aad=signal_aad(sid, "payload")),
                        )
                    )
                    for position in range(1 + n % 2):
                        if n < len(probe_ys) * 2 and position == 0:
                            y = probe_ys[n % len(probe_ys)]
                        else:
                            y = MatchingPseudonym(os.urandom(32))
                        row = SignalPerson(
                            signal_id=sid,
                            position=position,
                            role="victim",
                            index_token=b"",
                            key_version=version,
                            y_enc=b"",
                        )
                        persons.append(
                            (
                                sid,
                                position,
                                "victim",
                                pseudonymiser.index_token(y),
                                version,
                                fields.encrypt(y, aad=person_aad(row)),
                            )
                        )
            with conn.cursor().copy(
                "COPY signal_person (signal_id, position, role, index_token, key_version, y_enc) "
                "FROM STDIN"
            ) as per:
                for values in persons:
                    per.write_row(values)
            conn.commit()
        conn.execute("ANALYZE signal")
        conn.execute("ANALYZE signal_person")
        conn.commit()
    container.close()
    print(f"  filled {signals:,} signals in {time.perf_counter() - started:.0f} s", flush=True)


def serve(settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BROKER_DATA_DIR": str(settings.data_dir),
        "BROKER_ENV": "test",
        "BROKER_DATABASE_URL": settings.database_url,
        "BROKER_REDIS_URL": settings.redis_url,
        "BROKER_LOG_LEVEL": "WARNING",
        "BROKER_QUERY_LIMIT_PER_USER_MINUTE": "100000",
        "BROKER_QUERY_LIMIT_PER_ORG_MINUTE": "1000000",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "broker", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(url: str) -> None:
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
    def __init__(self, settings) -> None:
        self.keys = {
            org: load_development_key(settings.dev_key_dir, org)
            for org in {*ASKERS, *(o for o, _ in SOURCES)}
        }
        self.kids = {org: ed25519_public_jwk(k.public_key())["kid"] for org, k in self.keys.items()}

    def header(self, org: str, user: str, role: str = "professional") -> dict[str, str]:
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


async def load(
    urls: list[str],
    signer: Signer,
    probes: list[str],
    misses: list[str],
    *,
    rate: float,
    seconds: float,
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    rng = random.Random(7)
    total = int(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    # Every request carries its own freshly signed token (the broker refuses a replayed jti);
    # they are signed before the clock starts, as each organisation's system would do on
    # its own machine, so the load generator's signing does not compete for these 2 cores.
    headers_for = [signer.header(ASKERS[i % len(ASKERS)], f"user-{i % 997}") for i in range(total)]
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal errors
            asker = ASKERS[i % len(ASKERS)]
            bsn = rng.choice(probes) if i % 2 == 0 else rng.choice(misses)
            headers = headers_for[i]
            t0 = time.perf_counter()
            try:
                r = await client.post(
                    f"{urls[i % len(urls)]}/v1/hits",
                    headers=headers,
                    json={"purpose": PURPOSE[asker], "persons": [{"bsn": bsn}]},
                )
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - t0)
            errors += 0 if ok else 1

        start = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return latencies, errors, total / elapsed


def bulk(url: str, signer: Signer, settings, items: int) -> float:
    """Bulk registration throughput (blind path: the client sends OPRF outputs)."""
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
        timeout=300,
        headers={**signer.header("politie-rr", "import"), "Idempotency-Key": uuid.uuid4().hex},
    )
    elapsed = time.perf_counter() - t0
    assert r.status_code == 201, r.text[:300]
    return items / elapsed


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 10 else max(values)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signals", default="10000,1000000")
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--bulk", type=int, default=10_000)
    args = parser.parse_args()
    probes = valid_bsns(200, start=300_000_000)
    misses = valid_bsns(2000, start=500_000_000)
    rows = []
    for size in [int(s) for s in args.signals.split(",")]:
        with fresh_database("bench_hits") as url, broker_settings(url) as settings:
            fill(settings, size, probes)
            ports = [18700 + i for i in range(args.processes)]
            procs = [serve(settings, p) for p in ports]
            try:
                urls = [f"http://127.0.0.1:{p}" for p in ports]
                for u in urls:
                    wait_ready(u)
                signer = Signer(settings)
                asyncio.run(load(urls, signer, probes, misses, rate=50, seconds=4))  # warm up
                lat, errors, achieved = asyncio.run(
                    load(urls, signer, probes, misses, rate=args.rate, seconds=args.seconds)
                )
                bulk_rate = bulk(urls[0], signer, settings, args.bulk) if args.bulk else 0.0
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait(timeout=20)
            rows.append(
                (
                    size,
                    statistics.median(lat) * 1000,
                    percentile(lat, 0.99) * 1000,
                    achieved,
                    errors,
                    len(lat),
                    bulk_rate,
                )
            )
            print(
                f"  {size:,}: p50 {rows[-1][1]:.1f} ms, p99 {rows[-1][2]:.1f} ms, "
                f"{achieved:.0f} req/s, errors {errors}",
                flush=True,
            )
    print(f"\nMachine: {machine()}; {args.processes} broker processes, PostgreSQL + Redis\n")
    print(
        "| active signals | p50 (ms) | p99 (ms) | offered rate | achieved (req/s) | errors | "
        "bulk registration (signals/s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, p50, p99, achieved, errors, n, bulk_rate in rows:
        print(
            f"| {size:,} | {p50:.1f} | {p99:.1f} | {args.rate:.0f} | {achieved:.0f} | "
            f"{errors}/{n} | {bulk_rate:,.0f} |"
        )


if __name__ == "__main__":
    main()
