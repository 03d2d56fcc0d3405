"""Police export imported end to end through ``broker-connect``'s logic; target 100,000 in 60 s.

Generates a police CSV (fictional families, about half of the rows on a family reported
before, as DOMAIN.md has it), starts a real broker process (``broker init`` + ``broker
serve``; SQLite by default, ``--database-url`` for PostgreSQL), and imports the file with
the connector's ``Importer``: mapping, local validation, blind OPRF (unless ``--plain``),
bulk requests with content-derived idempotency keys. It reports rows/s and where the time
went: the connector's own CPU (mostly blinding), the broker's CPU, and the wall time spent
waiting on each endpoint.

    .venv/bin/python bench/bench_connectors.py --rows 100000
    .venv/bin/python bench/bench_connectors.py --rows 10000 --mode plain,blind
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, target
from connectors.credentials import development_key_path, load_private_key
from connectors.importer import Importer, ImportReport
from connectors.mappings import EXPORTS
from connectors.sdk import BrokerClient
from connectors.validation import RowValidator

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)
COLUMNS = [
    "soort",
    "registratienummer",
    "datum",
    "slachtoffer_bsn",
    "verdachte_bsn",
    "verdachte_achternaam",
    "verdachte_voornamen",
    "verdachte_geboortedatum",
    "kinderen_bsn",
    "geweldsvorm",
    "risico",
    "vuurwapen",
    "kinderen_aanwezig",
    "eerdere_incidenten",
    "huisverbod_tot",
    "verlengd",
    "opmerking",
]


def bsns(rng: random.Random) -> Iterator[str]:
    """Distinct 11-proef BSNs (8 random digits, the ninth computed), never repeating."""
    seen: set[str] = set()
    while True:
        prefix = f"{rng.randrange(10_000_000, 100_000_000):08d}"
        check = sum(w * int(d) for w, d in zip(WEIGHTS, prefix, strict=True)) % 11
        bsn = prefix + str(check)
        if check < 10 and bsn not in seen:
            seen.add(bsn)
            yield bsn


@dataclass(frozen=True)
class Family:
    """A fictional family: victim, suspect (sometimes known by name only), children."""

    victim: str
    suspect: str
    named: bool
    children: tuple[str, ...]
    born: date


def write_police_csv(path: Path, rows: int, *, seed: int = 7) -> int:
    """Write ``rows`` police rows; return the number of distinct persons in them."""
    rng = random.Random(seed)
    numbers = bsns(rng)
    families: list[Family] = []
    today = date.today()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for number in range(rows):
            # About half of all reports concern a family reported before.
            if families and rng.random() < 0.45:
                family = rng.choice(families)
            else:
                family = Family(
                    victim=next(numbers),
                    suspect=next(numbers),
                    named=rng.random() < 0.1,
                    children=tuple(next(numbers) for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))),
                    born=date(1970, 1, 1) + timedelta(days=rng.randrange(10_000)),
                )
                families.append(family)
            writer.writerow(_row(rng, number, family, today))
    return sum(2 + len(f.children) for f in families)


def _row(rng: random.Random, number: int, family: Family, today: date) -> list[str]:
    day = today - timedelta(days=rng.randrange(1, 300))
    order = rng.random() < 0.08
    named = family.named
    return [
        "huisverbod" if order else "incident",
        f"BENCH-{number:07d}",
        (today - timedelta(days=rng.randrange(1, 60)) if order else day).isoformat(),
        family.victim,
        "" if named else family.suspect,
        "Benchmark" if named else "",
        "Fictief" if named else "",
        family.born.isoformat() if named else "",
        ";".join(family.children),
        "" if order else rng.choice(["fysiek", "psychisch", "bedreiging", "materieel"]),
        rng.choice(["laag", "midden", "hoog", "acuut"]),
        "" if order else rng.choice("JNNNNNNNNN"),
        rng.choice("JN") if family.children else "N",
        "" if order else str(rng.randrange(5)),
        (today + timedelta(days=rng.randrange(1, 28))).isoformat() if order else "",
        rng.choice("JN") if order else "",
        "",
    ]


@dataclass
class Broker:
    """A running broker process."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """User plus system CPU of the broker process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_broker(database_url: str | None) -> Iterator[Broker]:
    """``broker init`` and ``broker serve`` in a temporary data directory."""
    with tempfile.TemporaryDirectory(prefix="bench-connect-") as tmp:
        data_dir = Path(tmp)
        env = {**os.environ, "BROKER_DATA_DIR": tmp, "BROKER_ENV": "test"}
        env["BROKER_LOG_LEVEL"] = "WARNING"
        if database_url:
            env["BROKER_DATABASE_URL"] = database_url
        python = sys.executable
        subprocess.run([python, "-m", "broker", "init"], env=env, check=True, capture_output=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        log = (data_dir / "serve.log").open("wb")
        process = subprocess.Popen(
            [python, "-m", "broker", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url)
            yield Broker(url, data_dir, process)
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the broker did not start")


@dataclass
class Result:
    """One import's figures."""

    mode: str
    report: ImportReport
    client_cpu: float
    broker_cpu: float
    waited: dict[str, float]


def run_import(broker: Broker, path: Path, *, blind: bool, batch_size: int) -> Result:
    """Import ``path`` as politie-rr the way ``broker-connect police --file`` does."""
    waited: dict[str, float] = defaultdict(float)

    def started(request: httpx.Request) -> None:
        request.extensions["bench_started"] = time.perf_counter()

    def answered(response: httpx.Response) -> None:
        request = response.request
        waited[request.url.path] += time.perf_counter() - request.extensions["bench_started"]

    http = httpx.Client(
        timeout=httpx.Timeout(600.0, connect=10.0),
        event_hooks={"request": [started], "response": [answered]},
    )
    key = load_private_key(development_key_path(broker.data_dir, "politie-rr"))
    client = BrokerClient(broker.url, org_id="politie-rr", private_key=key, http=http, blind=blind)
    export = EXPORTS["police"]
    importer = Importer(
        client,
        export,
        RowValidator.from_policy_dir(org_type=export.org_type),
        batch_size=batch_size,
        progress=True,
    )
    cpu, broker_cpu = time.process_time(), broker.cpu_seconds()
    report = importer.import_file(path)
    result = Result(
        mode="blind" if blind else "plain",
        report=report,
        client_cpu=time.process_time() - cpu,
        broker_cpu=broker.cpu_seconds() - broker_cpu,
        waited=dict(waited),
    )
    http.close()
    return result


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mode", default="blind", help="blind, plain, or both: plain,blind")
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-police-") as tmp:
        path = Path(tmp) / "police.csv"
        generated = time.perf_counter()
        persons = write_police_csv(path, args.rows)
        print(
            f"generated {args.rows:,} rows ({persons:,} distinct persons) "
            f"in {time.perf_counter() - generated:.1f} s",
            flush=True,
        )
        for mode in args.mode.split(","):
            # A fresh broker per mode: a second import of the same rows would be a replay.
            with running_broker(args.database_url) as broker:
                results.append(
                    run_import(broker, path, blind=mode == "blind", batch_size=args.batch_size)
                )
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\nMachine: {machine()}; one broker process, {database}\n")
    print(
        "| mode | rows | registered | seconds | rows/s | target 60 s | connector CPU s "
        "| broker CPU s | waiting on bulk s | waiting on evaluate s |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for r in results:
        rate = r.report.rows / r.report.seconds
        print(
            f"| {r.mode} | {r.report.rows:,} | {r.report.accepted:,} | {r.report.seconds:.1f} "
            f"| {rate:,.0f} | {'met' if r.report.seconds <= 60 else 'missed'} "
            f"| {r.client_cpu:.1f} | {r.broker_cpu:.1f} "
            f"| {r.waited.get('/v1/signals/bulk', 0.0):.1f} "
            f"| {r.waited.get('/v1/pseudonyms/evaluate', 0.0):.1f} |"
        )
    # Issue #8 is about the default, blind path; smaller runs are reported, not judged.
    for r in results:
        if r.mode == "blind":
            rows, seconds = r.report.rows, r.report.seconds
            met = seconds <= 60 if rows >= 100_000 else None
            target(
                8,
                "100,000 police rows imported end to end within 60 s",
                f"{seconds:.1f} s for {rows:,} rows",
                met,
            )


if __name__ == "__main__":
    main()
