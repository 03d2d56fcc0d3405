"""Run the benchmark suite and write ``docs/performance.md``: every target with its figure.

    .venv/bin/python bench/run_all.py                 # the targets' sizes (about 40-50 minutes)
    .venv/bin/python bench/run_all.py --quick         # small sizes, a smoke run (~5 minutes)
    .venv/bin/python bench/run_all.py --only log      # one benchmark (repeatable, or a,b)
    .venv/bin/python bench/run_all.py --list          # the benchmarks and their commands

Each benchmark is a standalone script that prints markdown and one ``TARGET {json}`` line
per target it measures (``bench.common.target``). This runs them one after the other and
writes, at the top of the output file, a summary of every target of the issues with its
measured figure and whether it was met; ``EXPECTED`` lists those targets, so a target whose
benchmark failed, timed out, was not run or printed no figure still appears, as "not
measured" with the reason. Per benchmark follow the exact command, wall time, exit code,
the load average (``/proc/loadavg``) before and after it and the highest seen while it
ran, and its output. The machine, the commit and the date are in the header.

The file is rewritten after every benchmark, so an interrupted suite leaves what it
measured. With ``--only``, the sections (and targets) of the other benchmarks are carried
over from the existing file, marked with the date they were measured. A section starting
with the heading ``## Notes`` (hand-written analysis; keep it last) is carried over
unchanged to the end of the regenerated file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import commit_info, loadavg, machine_info  # noqa: E402

PY = sys.executable
SHOWN_PY = ".venv/bin/python"
NOTES_HEADING = "## Notes"


@dataclass(frozen=True)
class Benchmark:
    """One script, its full and quick arguments, and how long it may take."""

    name: str
    title: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    timeout: float  # seconds, for the full sizes
    about: str = ""


BENCHMARKS = [
    Benchmark(
        "pseudonyms",
        "Pseudonymisation",
        "bench/bench_pseudonyms.py",
        ("--seconds", "3"),
        ("--seconds", "1"),
        600,
        "One process = one core; keyed HMAC hot paths and the OPRF.",
    ),
    Benchmark(
        "merkle",
        "Merkle tree, compute only",
        "bench/bench_merkle.py",
        (),
        ("--leaves", "1000000", "--builder-leaves", "200000"),
        1200,
        "In-memory node store: the compute floor under the log figures (no target of its own).",
    ),
    Benchmark(
        "log",
        "Disclosure log on PostgreSQL",
        "bench/bench_log.py",
        ("--entries", "1000000", "--proof-leaves", "10000000", "--seconds", "20"),
        ("--entries", "100000", "--proof-leaves", "1000000", "--seconds", "5"),
        3600,
        "Appends as requests make them (one event per transaction, background integrator, "
        "a checkpoint every second); verify over a real log; inclusion proofs.",
    ),
    Benchmark(
        "hits",
        "Hit queries through HTTP on PostgreSQL + Redis",
        "bench/bench_hits.py",
        (
            "--signals",
            "10000,1000000,10000000",
            "--rate",
            "300",
            "--seconds",
            "30",
            "--ratio-rate",
            "50",
            "--ratio-seconds",
            "20",
            "--bulk",
            "10000",
        ),
        (
            "--signals",
            "10000,100000",
            "--rate",
            "100",
            "--seconds",
            "10",
            "--ratio-rate",
            "20",
            "--ratio-seconds",
            "10",
            "--bulk",
            "2000",
        ),
        5400,
        "Two `broker serve` processes, every request through auth, policy, the index, the "
        "log and the outbox. The 10,000,000 vs 10,000 comparison runs at 50 req/s, a rate "
        "this machine sustains, so that queueing does not dominate; the p50/p99 target runs "
        "at 300 req/s offered.",
    ),
    Benchmark(
        "rekey",
        "Re-keying on PostgreSQL",
        "bench/bench_rekey.py",
        ("--signals", "1000000"),
        ("--signals", "20000"),
        3600,
        "Rotation and re-keying of every stored person and signal while lookups keep asking "
        "for known persons.",
    ),
    Benchmark(
        "connectors",
        "Connector import end to end",
        "bench/bench_connectors.py",
        ("--rows", "100000"),
        ("--rows", "5000"),
        3600,
        "A police export read, pseudonymised on the blind path and registered in bulk.",
    ),
]
BY_NAME = {b.name: b for b in BENCHMARKS}


@dataclass(frozen=True)
class Expected:
    """A target named in an issue, and how to recognise the benchmark's TARGET line for it.

    A line matches when it comes from ``bench`` with the same issue and either names the
    target exactly or contains one of ``keywords`` (lower case); failing both, the only
    target of that issue still unmatched in that benchmark takes it.
    """

    issue: int
    bench: str
    name: str
    keywords: tuple[str, ...]


EXPECTED = [
    Expected(
        3,
        "pseudonyms",
        ">= 100,000 server-side pseudonyms per second per core",
        ("server-side", "100,000 server", "pseudonyms per second"),
    ),
    Expected(3, "pseudonyms", ">= 5,000 blind evaluations per second per core", ("blind",)),
    Expected(
        3,
        "rekey",
        "re-keying 1,000,000 signals within 2 minutes on PostgreSQL",
        ("2 minutes", "two minutes", "120 s", "within 2"),
    ),
    Expected(
        3,
        "rekey",
        "a hit found before, during and after rotation on 100,000 signals",
        ("during", "before", "missed", "no miss"),
    ),
    Expected(
        4,
        "hits",
        "hit query p50 <= 10 ms and p99 <= 50 ms at >= 300 requests/s with 1,000,000 active "
        "signals",
        ("p50 <= 10", "300 requests", "300 req"),
    ),
    Expected(
        4,
        "hits",
        "hit latency at 10,000,000 signals within 1.5x that at 10,000",
        ("1.5x", "10,000,000 signals within"),
    ),
    Expected(4, "hits", "bulk registration >= 5,000 signals/s", ("bulk",)),
    Expected(
        6,
        "log",
        ">= 2,000 log appends/s sustained with checkpoints on PostgreSQL",
        ("append",),
    ),
    Expected(
        6,
        "log",
        "`broker log verify` over 1,000,000 entries within 30 s",
        ("verify",),
    ),
    Expected(
        6,
        "log",
        "an inclusion proof within 5 ms at 10,000,000 entries",
        ("inclusion", "proof"),
    ),
    Expected(
        8,
        "connectors",
        "100,000 police rows imported end to end within 60 s",
        ("police", "import", "rows"),
    ),
]


# --- running one benchmark ----------------------------------------------------------------


@dataclass
class Outcome:
    """What one benchmark run left: its output, its targets and how it ended."""

    name: str
    command: list[str]
    started: str = ""
    commit: str = ""
    seconds: float = 0.0
    exit: int | None = None
    timed_out: bool = False
    interrupted: bool = False
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_peak: float = 0.0
    body: str = ""
    stderr_tail: str = ""
    targets: list[dict[str, Any]] = field(default_factory=list)
    carried_from: str | None = None  # the date of an earlier run whose section was kept

    @property
    def ok(self) -> bool:
        """Exited 0 in time."""
        return self.exit == 0 and not self.timed_out and not self.interrupted

    def why_missing(self) -> str:
        """Why a target of this benchmark has no figure."""
        if self.timed_out:
            return f"`{self.name}` timed out after {self.seconds:.0f} s"
        if self.interrupted:
            return f"`{self.name}` was interrupted"
        if self.exit not in (0, None):
            last = self.stderr_tail.strip().splitlines()[-1:] or ["no message"]
            return f"`{self.name}` exited {self.exit}: {last[0][:200]}"
        return f"`{self.name}` printed no figure for it"

    def meta(self) -> dict[str, Any]:
        """What a later ``--only`` run needs to carry this section over."""
        return {
            "name": self.name,
            "started": self.started,
            "commit": self.commit,
            "seconds": round(self.seconds, 1),
            "exit": self.exit,
            "timed_out": self.timed_out,
            "interrupted": self.interrupted,
            "stderr_tail": "" if self.ok else self.stderr_tail[-500:],
            "targets": self.targets,
        }

    def meta_comment(self) -> str:
        """``meta()`` as an HTML comment (a ``-->`` inside is escaped, JSON still reads it)."""
        data = json.dumps(self.meta(), ensure_ascii=False).replace("-->", "--\\u003e")
        return f"<!-- meta:{self.name} {data} -->"


def run_benchmark(bench: Benchmark, command: list[str], timeout: float) -> Outcome:
    """Run ``command`` in its own process group; SIGINT then SIGKILL it on timeout."""
    outcome = Outcome(bench.name, command)
    outcome.started = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    outcome.commit = commit_info()
    outcome.load_before = loadavg()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this working copy's broker, not another
    peak = [outcome.load_before[0]]
    done = threading.Event()

    def watch_load() -> None:
        while not done.wait(5):
            peak[0] = max(peak[0], loadavg()[0])

    watcher = threading.Thread(target=watch_load, daemon=True)
    started = time.perf_counter()
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as out,
        tempfile.TemporaryFile("w+", encoding="utf-8") as err,
    ):
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True
        )
        watcher.start()
        try:
            outcome.exit = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            outcome.timed_out = True
            outcome.exit = stop_group(proc)
        except KeyboardInterrupt:
            outcome.interrupted = True
            outcome.exit = stop_group(proc)
        finally:
            done.set()
            outcome.seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    outcome.load_after = loadavg()
    outcome.load_peak = max(peak[0], outcome.load_after[0])
    outcome.stderr_tail = "\n".join(stderr.strip().splitlines()[-25:])
    body: list[str] = []
    for line in stdout.splitlines():
        if line.startswith("TARGET "):
            try:
                outcome.targets.append(json.loads(line[len("TARGET ") :]))
            except json.JSONDecodeError:
                body.append(line)
        else:
            body.append(line)
    outcome.body = "\n".join(body).strip()
    return outcome


def stop_group(proc: subprocess.Popen[str]) -> int:
    """Interrupt the benchmark's process group (its cleanup runs), then kill what remains."""
    for sig, grace in ((signal.SIGINT, 60), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()


# --- the document -------------------------------------------------------------------------


def section_of(bench: Benchmark, outcome: Outcome) -> str:
    """The markdown section of one benchmark, between markers a later run can find."""
    shown = " ".join(shlex.quote(part) for part in [SHOWN_PY, *outcome.command[1:]])
    ending = (
        f"timed out after {outcome.seconds:.0f} s"
        if outcome.timed_out
        else "interrupted"
        if outcome.interrupted
        else f"exit {outcome.exit}"
    )
    before, after = outcome.load_before, outcome.load_after
    lines = [
        f"<!-- bench:{bench.name} -->",
        f"## {bench.title} (`{bench.script}`)",
        "",
    ]
    if outcome.carried_from:
        lines += [f"*Carried over from the run of {outcome.carried_from}.*", ""]
    lines += [
        f"Command: `{shown}`",
        "",
        f"Started {outcome.started} at commit {outcome.commit or 'unknown'}; wall time "
        f"{outcome.seconds:.0f} s, {ending}. Load average "
        f"(1/5/15 min) {before[0]:.2f} / {before[1]:.2f} / {before[2]:.2f} before, "
        f"{after[0]:.2f} / {after[1]:.2f} / {after[2]:.2f} after, highest 1-min "
        f"{outcome.load_peak:.2f} while it ran.",
        "",
    ]
    if bench.about:
        lines += [bench.about, ""]
    lines.append(outcome.body or "(no output)")
    if not outcome.ok and outcome.stderr_tail:
        lines += ["", "Last lines of its standard error:", "", "```", outcome.stderr_tail, "```"]
    lines += [
        "",
        outcome.meta_comment(),
        f"<!-- /bench:{bench.name} -->",
    ]
    return "\n".join(lines)


def carried_sections(text: str) -> dict[str, tuple[str, Outcome]]:
    """Sections of an earlier file (with their outcome), by benchmark name."""
    found: dict[str, tuple[str, Outcome]] = {}
    pattern = re.compile(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->", re.DOTALL)
    for match in pattern.finditer(text):
        name, content = match.group(1), match.group(0)
        meta = re.search(rf"<!-- meta:{name} (.*) -->", content)
        if name not in BY_NAME or meta is None:
            continue
        try:
            data = json.loads(meta.group(1))
        except json.JSONDecodeError:
            continue
        outcome = Outcome(name, [])
        outcome.started = data.get("started", "an earlier run")
        outcome.commit = data.get("commit", "")
        outcome.seconds = float(data.get("seconds", 0))
        outcome.exit = data.get("exit")
        outcome.timed_out = bool(data.get("timed_out"))
        outcome.interrupted = bool(data.get("interrupted"))
        outcome.stderr_tail = data.get("stderr_tail", "")
        outcome.targets = list(data.get("targets", []))
        outcome.carried_from = outcome.started
        if "*Carried over from" not in content:
            content = content.replace(
                "\n\nCommand:",
                f"\n\n*Carried over from the run of {outcome.started}.*\n\nCommand:",
                1,
            )
        found[name] = (content, outcome)
    return found


def notes_of(text: str) -> str:
    """The hand-written ``## Notes`` section (to the end of the file), or nothing."""
    match = re.search(rf"^{re.escape(NOTES_HEADING)}\b.*", text, re.MULTILINE | re.DOTALL)
    return match.group(0).rstrip() + "\n" if match else ""


def normalise(name: str) -> str:
    """A target name without case, markup or spacing differences."""
    return re.sub(r"[^a-z0-9.,=<>]+", " ", name.lower()).strip()


def assign(
    outcomes: dict[str, Outcome],
) -> tuple[dict[int, list[tuple[dict[str, Any], str]]], list[tuple[dict[str, Any], str]]]:
    """Match every TARGET line to an expected target; return the matches and the rest."""
    matched: dict[int, list[tuple[dict[str, Any], str]]] = {i: [] for i in range(len(EXPECTED))}
    extra: list[tuple[dict[str, Any], str]] = []
    for name, outcome in outcomes.items():
        for line in outcome.targets:
            issue, text = line.get("issue"), str(line.get("target", ""))
            lowered = normalise(text)
            same = [i for i, e in enumerate(EXPECTED) if e.bench == name and e.issue == issue]
            anywhere = [i for i, e in enumerate(EXPECTED) if e.issue == issue]
            chosen = next((i for i in same if normalise(EXPECTED[i].name) == lowered), None)
            if chosen is None:
                chosen = next(
                    (i for i in same if any(k in lowered for k in EXPECTED[i].keywords)), None
                )
            if chosen is None:
                free = [i for i in same if not matched[i]]
                chosen = free[0] if len(free) == 1 else None
            if chosen is None:
                chosen = next((i for i in anywhere if normalise(EXPECTED[i].name) == lowered), None)
            if chosen is None:
                extra.append((line, name))
            else:
                matched[chosen].append((line, name))
    return matched, extra


def status_of(met: object) -> str:
    """The summary's status word."""
    return "met" if met is True else "**not met**" if met is False else "not measured"


def cell(text: object) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary(outcomes: dict[str, Outcome], selected: list[str], pending: set[str]) -> list[str]:
    """The table of every expected target (and any other TARGET line) with its figure."""
    matched, extra = assign(outcomes)
    rows = ["| Issue | Target | Measured | Status | Benchmark |", "|---:|---|---|---|---|"]

    def source(name: str) -> str:
        carried = outcomes[name].carried_from
        return f"`{name}`" + (f" (from {carried})" if carried else "")

    for index, expected in enumerate(EXPECTED):
        lines = matched[index]
        for line, name in lines:
            label = cell(expected.name)
            if line.get("detail"):
                label += f"<br>*{cell(line['detail'])}*"
            rows.append(
                f"| #{expected.issue} | {label} | {cell(line.get('measured', ''))} "
                f"| {status_of(line.get('met'))} | {source(name)} |"
            )
        if lines:
            continue
        name = expected.bench
        if name in outcomes:
            reason = outcomes[name].why_missing()
        elif name in pending:
            reason = f"`{name}` has not run yet (suite interrupted or still running)"
        elif name not in selected:
            reason = f"`{name}` not run (--only {','.join(selected)}) and no earlier section"
        else:
            reason = f"`{name}` did not run"
        rows.append(
            f"| #{expected.issue} | {cell(expected.name)} | {cell(reason)} | not measured "
            f"| `{name}` |"
        )
    for line, name in extra:
        label = cell(line.get("target", ""))
        if line.get("detail"):
            label += f"<br>*{cell(line['detail'])}*"
        rows.append(
            f"| #{line.get('issue', '?')} | {label} | {cell(line.get('measured', ''))} "
            f"| {status_of(line.get('met'))} | {source(name)} |"
        )
    counts = {"met": 0, "**not met**": 0, "not measured": 0}
    for row in rows[2:]:
        for status in counts:
            if f"| {status} |" in row:
                counts[status] += 1
    rows += [
        "",
        f"{counts['met']} met, {counts['**not met**']} not met, {counts['not measured']} not "
        "measured. *Not measured* means the figure does not exist for that target in this "
        "run: the reason is in its row (a smaller size than the target names, a benchmark "
        "that failed, timed out or was not run).",
    ]
    return rows


def document(
    args: argparse.Namespace,
    info: dict[str, str],
    began: datetime,
    outcomes: dict[str, Outcome],
    sections: dict[str, str],
    selected: list[str],
    pending: set[str],
    notes: str,
) -> str:
    """The whole file."""
    flags = " ".join(shlex.quote(a) for a in args.argv)
    load = loadavg()
    lines = [
        "# Performance",
        "",
        f"Generated by `{SHOWN_PY} bench/run_all.py{' ' + flags if flags else ''}`, started "
        f"{began:%Y-%m-%d %H:%M} UTC"
        + (" (**quick mode: small sizes, not the targets' sizes**)" if args.quick else "")
        + ". Everything but the `## Notes` section at the end is regenerated by that command.",
        "",
        "## Summary against the targets",
        "",
        *summary(outcomes, selected, pending),
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {cell(value)} |" for key, value in info.items()),
        f"| date | {began:%Y-%m-%d} |",
        f"| load average (1/5/15 min) | {args.load_start[0]:.2f} / {args.load_start[1]:.2f} / "
        f"{args.load_start[2]:.2f} at the start, {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f} when this file was written |",
        "",
        f"PostgreSQL, Redis, the brokers and the load generators share these "
        f"{os.cpu_count()} cores. Each section gives the load average before and after its "
        "benchmark and the highest 1-minute load seen while it ran: a benchmark alone keeps "
        f"it at about {os.cpu_count()} or below; much higher means other work competed and "
        "the figures are pessimistic.",
        "",
    ]
    for bench in BENCHMARKS:
        if bench.name in sections:
            lines += [sections[bench.name], ""]
    if notes:
        lines += [notes]
    return "\n".join(lines).rstrip() + "\n"


# --- main ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    """Options."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="NAME",
        help=f"run only these benchmarks (repeatable or comma-separated): {', '.join(BY_NAME)}",
    )
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument(
        "--timeout-factor", type=float, default=1.0, help="scale every benchmark's time limit"
    )
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="replace one benchmark's arguments, e.g. --args 'hits=--signals 10000 --rate 50'",
    )
    parser.add_argument("--list", action="store_true", help="print the commands and exit")
    args = parser.parse_args()
    args.argv = sys.argv[1:]
    names = [n.strip() for item in args.only or [] for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    args.selected = names or list(BY_NAME)
    args.overrides = {}
    for item in args.args:
        name, _, rest = item.partition("=")
        if name not in BY_NAME:
            parser.error(f"--args: unknown benchmark {name!r}")
        args.overrides[name] = shlex.split(rest)
    return args


def command_of(bench: Benchmark, args: argparse.Namespace) -> list[str]:
    """The command line of one benchmark."""
    if bench.name in args.overrides:
        return [PY, bench.script, *args.overrides[bench.name]]
    return [PY, bench.script, *(bench.quick if args.quick else bench.full)]


def main() -> None:
    """Run the selected benchmarks and rewrite the output file after each one."""
    args = parse_args()
    if args.list:
        for bench in BENCHMARKS:
            shown = " ".join([SHOWN_PY, *command_of(bench, args)[1:]])
            print(f"{bench.name:12} {shown}  (limit {bench.timeout * args.timeout_factor:.0f} s)")
        return
    output = Path(args.output)
    previous = output.read_text(encoding="utf-8") if output.exists() else ""
    notes = notes_of(previous)
    args.load_start = loadavg()
    began = datetime.now(UTC)
    info = machine_info()
    outcomes: dict[str, Outcome] = {}
    sections: dict[str, str] = {}
    if set(args.selected) != set(BY_NAME):
        for name, (content, outcome) in carried_sections(previous).items():
            if name not in args.selected:
                sections[name], outcomes[name] = content, outcome
    pending = set(args.selected)

    def write() -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        text = document(args, info, began, outcomes, sections, args.selected, pending, notes)
        output.write_text(text, encoding="utf-8")

    try:
        for bench in BENCHMARKS:
            if bench.name not in args.selected:
                continue
            command = command_of(bench, args)
            print(f"{bench.name}: {' '.join(command[1:])}", flush=True)
            outcome = run_benchmark(bench, command, bench.timeout * args.timeout_factor)
            outcomes[bench.name] = outcome
            sections[bench.name] = section_of(bench, outcome)
            pending.discard(bench.name)
            write()
            verdicts = ", ".join(status_of(t.get("met")) for t in outcome.targets) or "no targets"
            print(
                f"{bench.name}: {'ok' if outcome.ok else outcome.why_missing()} in "
                f"{outcome.seconds:.0f} s ({verdicts})",
                flush=True,
            )
            if outcome.interrupted:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        write()
        print(f"interrupted; {output} has what was measured", file=sys.stderr)
        raise SystemExit(130) from None
    write()
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
