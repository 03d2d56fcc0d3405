"""Run every benchmark and write ``docs/performance.md`` with the figures and commands.

    .venv/bin/python bench/run_all.py            # the full targets (about 20-30 minutes)
    .venv/bin/python bench/run_all.py --quick    # smaller sizes, for a smoke run

Each benchmark is a standalone script that prints a markdown table; this collects them
with the machine, the commit and the exact command that produced each table.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import machine  # noqa: E402

PY = sys.executable

FULL = [
    (
        "Pseudonymisation (issue: >= 100,000 server-side pseudonyms/s/core, >= 5,000 blind "
        "evaluations/s/core)",
        [PY, "bench/bench_pseudonyms.py", "--seconds", "3"],
    ),
    ("Merkle tree, compute only", [PY, "bench/bench_merkle.py"]),
    (
        "Disclosure log on PostgreSQL (>= 2,000 appends/s with checkpoints; verify 1,000,000 "
        "entries <= 30 s; inclusion proof <= 5 ms at 10,000,000)",
        [PY, "bench/bench_log.py"],
    ),
    (
        "Hit queries through HTTP on PostgreSQL + Redis (p50 <= 10 ms, p99 <= 50 ms at >= 300 "
        "req/s with 1,000,000 signals; bulk >= 5,000 signals/s)",
        [PY, "bench/bench_hits.py", "--signals", "10000,1000000", "--rate", "300"],
    ),
    (
        "Re-keying on PostgreSQL (1,000,000 signals within 2 minutes, no missed hit)",
        [PY, "bench/bench_rekey.py", "--signals", "1000000"],
    ),
    (
        "Connector import end to end (100,000 police rows within 60 s)",
        [PY, "bench/bench_connectors.py", "--rows", "100000"],
    ),
]
QUICK_ARGS = {
    "bench/bench_merkle.py": ["--leaves", "1000000", "--builder-leaves", "200000"],
    "bench/bench_log.py": ["--entries", "100000", "--proof-leaves", "1000000", "--seconds", "5"],
    "bench/bench_hits.py": ["--signals", "10000", "--rate", "100", "--seconds", "10"],
    "bench/bench_rekey.py": ["--signals", "20000"],
    "bench/bench_connectors.py": ["--rows", "5000"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    sections = [
        "# Performance\n",
        "Measured with `bench/run_all.py`"
        + (" --quick" if args.quick else "")
        + f" on {datetime.now(UTC):%Y-%m-%d}.\n",
        f"Machine: {machine()}.\n",
    ]
    for title, command in FULL:
        if args.quick and command[1] in QUICK_ARGS:
            command = command[:2] + QUICK_ARGS[command[1]]
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        shown = " ".join(shlex.quote(part) for part in [".venv/bin/python", *command[1:]])
        table = "\n".join(line for line in result.stdout.splitlines() if line.startswith("|"))
        sections.append(
            f"## {title}\n\nCommand: `{shown}` ({seconds:.0f} s, exit "
            f"{result.returncode})\n\n{table or '(no table: see the exit code)'}\n"
        )
        print(f"{title}: exit {result.returncode} in {seconds:.0f} s", flush=True)
    Path(args.output).write_text("\n".join(sections), encoding="utf-8")


if __name__ == "__main__":
    main()
