"""``broker log verify``: recompute the whole log and report the first bad entry.

Checks: indices run without gaps from 0 up to the head; each body hashes to its stored leaf
hash and names its own index (a reordered or edited row fails here); the search columns
agree with the body, and so do the party and person rows that decide who sees an entry and
whose search finds it; every complete subtree node that proofs are served from equals the
one recomputed from the stored leaf hashes; each signed checkpoint carries a valid signature
and the root recomputed over its first ``size`` entries.

The log is cut into aligned ranges of ``chunk`` (a power of two) indices. One range is one
task: read its entries, party, person and node rows, check every entry, and rebuild the
range's own complete subtree, which is the same whoever computes it. Tasks run in a pool of
worker processes, each with its own database connection (on PostgreSQL all of them read the
one snapshot the main process exported, so a verify racing appends or retention sees one
consistent log), or in this process for small logs. The main process joins the ranges'
roots into the levels above them and checks the checkpoints, so every check is the same
whatever the number of workers, and so is the report: problems sorted by index, the lowest
one named as the first bad entry. A tree node that differs is blamed only where the fault
is (see ``_node_problem``), so which nodes are reported does not depend on the ranges.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from pydantic_core import from_json
from sqlalchemy import Connection, Select, Table, create_engine, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from broker.disclosure_log.models import LogEntry, LogNode, LogParty, LogPerson
from broker.disclosure_log.repository import LogRepository, table_of
from broker.ledger import EMPTY_ROOT, CheckpointInvalid, verify_checkpoint

CHUNK = 1 << 14  # indices per task; a power of two, so a task owns whole subtrees
PARALLEL_FROM = 4 * CHUNK  # smaller logs are verified in this process unless told otherwise

_sha256 = hashlib.sha256
# (index, problem); index None for problems that name no entry (a checkpoint's signature).
Problem = tuple[int | None, str]


@dataclass
class VerifyReport:
    """The outcome of a verification run."""

    entries: int = 0
    checkpoints: int = 0
    nodes: int = 0
    first_bad: int | None = None
    problems: list[str] = field(default_factory=list)
    workers: int = 1

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems

    def fail(self, index: int | None, problem: str) -> None:
        """Record a problem; keep the lowest bad index."""
        self.problems.append(problem)
        if index is not None and (self.first_bad is None or index < self.first_bad):
            self.first_bad = index


@dataclass(frozen=True, slots=True)
class _Task:
    """Indices ``[start, end)``, aligned on ``1 << level``; checkpoint sizes inside it."""

    start: int
    end: int
    level: int
    sizes: tuple[int, ...]


@dataclass(slots=True)
class _Outcome:
    """What a task found: its problems and what the main process needs for the tree."""

    problems: list[Problem]
    nodes: int = 0
    first: int | None = None  # lowest stored index in the range
    gap: int | None = None  # first index of the range without a row
    after_gap: int | None = None  # the stored index that follows it in the range
    root: bytes | None = None  # the range's subtree hash, when the range is complete
    root_blamed: bool = False  # the stored node of that subtree was reported
    frontiers: dict[int, dict[int, bytes]] = field(default_factory=dict)


def verify_log(
    session: Session,
    *,
    verifier_keys: Sequence[str],
    origin: str,
    workers: int | None = None,
    chunk: int | None = None,
) -> VerifyReport:
    """Verify entries, tree nodes and checkpoints of the whole log.

    ``workers`` is the number of processes (default: one per CPU once the log has
    ``PARALLEL_FROM`` entries); ``chunk`` is the indices per task, a power of two (default
    ``CHUNK``).
    """
    chunk = CHUNK if chunk is None else chunk
    if chunk < 1 or chunk & (chunk - 1):
        raise ValueError("chunk must be a power of two")
    if workers is not None and workers < 1:
        raise ValueError("workers must be at least 1")
    began = _begin_snapshot(session)
    try:
        return _verify(session, verifier_keys, origin, workers, chunk)
    finally:
        if began:
            session.rollback()  # a read-only snapshot: nothing to keep


def _begin_snapshot(session: Session) -> bool:
    """On PostgreSQL, read everything in one read-only REPEATABLE READ transaction.

    Returns True when this call began the session's transaction (and so ends it).
    """
    if session.get_bind().dialect.name != "postgresql" or session.in_transaction():
        return False
    connection = session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    return True


def _verify(
    session: Session, verifier_keys: Sequence[str], origin: str, workers: int | None, chunk: int
) -> VerifyReport:
    connection = session.connection()
    snapshot: str | None = None
    if connection.dialect.name == "postgresql":
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    report = VerifyReport()
    problems: list[Problem] = []
    repo = LogRepository(session)
    roots = _signed_roots(repo, verifier_keys, origin, problems)
    head = repo.size()
    entry = table_of(LogEntry)
    highest = connection.execute(sa_select(func.max(entry.c.index))).scalar_one_or_none()
    end = max(head, -1 if highest is None else int(highest) + 1)
    level = chunk.bit_length() - 1
    tasks = [
        _Task(
            start,
            min(start + chunk, end),
            level,
            tuple(sorted(s for s in roots if start < s < start + chunk)),
        )
        for start in range(0, end, chunk)
    ]
    count = _worker_count(workers, end, len(tasks), connection)
    report.workers = count
    if count > 1:
        url = connection.engine.url
        with ProcessPoolExecutor(
            max_workers=count,
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(url.render_as_string(hide_password=False), snapshot),
        ) as pool:
            outcomes = list(pool.map(_run_task, tasks))
    else:
        outcomes = [_check_range(connection, task) for task in tasks]
    size = _join(connection, tasks, outcomes, roots, level, report, problems)
    if head != size:
        problems.append((min(head, size), f"the log head says {head} entries, found {size}"))
    for checkpoint_size in roots:
        if checkpoint_size > size:
            problems.append((size, f"checkpoint at size {checkpoint_size} is beyond the log's end"))
    if roots.get(0, EMPTY_ROOT) != EMPTY_ROOT:
        problems.append((None, "checkpoint at size 0 does not have the empty tree's root"))
    report.entries, report.checkpoints = size, len(roots)
    # Lowest index first (problems naming no entry before all), each kind in its order.
    problems.sort(key=lambda problem: -1 if problem[0] is None else problem[0])
    for index, problem in problems:
        report.fail(index, problem)
    return report


def _worker_count(workers: int | None, end: int, tasks: int, connection: Connection) -> int:
    """Worker processes for this run; 1 means in this process."""
    database = connection.engine.url.database or ""
    if connection.dialect.name == "sqlite" and database in ("", ":memory:"):
        return 1  # another process cannot open this database
    if workers is None:
        if end < PARALLEL_FROM:
            return 1
        workers = _cpus()
    return max(1, min(workers, tasks))


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _signed_roots(
    repo: LogRepository, verifier_keys: Sequence[str], origin: str, problems: list[Problem]
) -> dict[int, bytes]:
    """Tree roots as the checkpoint signatures vouch for them (not the stored column)."""
    roots: dict[int, bytes] = {}
    for stored in repo.checkpoints():
        try:
            checkpoint = verify_checkpoint(
                stored.note, verifiers=list(verifier_keys), origin=origin
            )
        except CheckpointInvalid:
            problems.append((None, f"checkpoint at size {stored.size} has no valid signature"))
            continue
        if checkpoint.size != stored.size or checkpoint.root_hash != stored.root:
            problems.append(
                (None, f"checkpoint at size {stored.size} differs from its signed note")
            )
        roots[checkpoint.size] = checkpoint.root_hash
    return roots


# --- the main process: join the ranges ----------------------------------------------------


def _join(
    connection: Connection,
    tasks: Sequence[_Task],
    outcomes: Sequence[_Outcome],
    roots: dict[int, bytes],
    level: int,
    report: VerifyReport,
    problems: list[Problem],
) -> int:
    """Build the levels above the ranges, check nodes and checkpoints; return the size.

    The size is the number of entries before the first missing index: the tree, and every
    checkpoint, can only be recomputed that far.
    """
    upper: dict[int, bytes] = {}  # frontier of the tree of complete ranges, levels > level
    produced: dict[tuple[int, int], bytes] = {}
    size: int | None = None
    for number, (task, outcome) in enumerate(zip(tasks, outcomes, strict=True)):
        problems.extend(outcome.problems)
        report.nodes += outcome.nodes
        if size is not None:
            continue  # beyond a gap: the entries are checked, the tree stops there
        for checkpoint_size in task.sizes:
            frontier = outcome.frontiers.get(checkpoint_size)
            if frontier is not None:
                _check_root(roots, checkpoint_size, _root_of({**upper, **frontier}), problems)
        if outcome.root is None:
            if outcome.gap is None:
                size = task.end  # the last range, shorter than a whole subtree
                continue
            size = outcome.gap
            following = outcome.after_gap
            if following is None:
                later = (o.first for o in outcomes[number + 1 :] if o.first is not None)
                following = next(later, None)
            if following is not None:  # else the head check below reports the missing end
                problems.append(
                    (size, f"entry {size} is missing (next stored index is {following})")
                )
            continue
        # A complete range: its subtree root joins the frontier at ``level``.
        digest, at, index = outcome.root, level, number
        while index & 1:
            digest = _node(upper.pop(at), digest)
            at, index = at + 1, index >> 1
            produced[(at, index)] = digest
        upper[at] = digest
        _check_root(roots, task.end, _root_of(upper), problems)
    if size is None:
        size = tasks[-1].end if tasks else 0
    if produced:
        reported = {(level, number) for number, o in enumerate(outcomes) if o.root_blamed}
        report.nodes += _check_upper_nodes(connection, produced, level, reported, problems)
    return size


def _check_root(
    roots: dict[int, bytes], size: int, recomputed: bytes, problems: list[Problem]
) -> None:
    signed = roots.get(size)
    if signed is not None and signed != recomputed:
        problems.append((size - 1, f"checkpoint at size {size} does not match the entries"))


def _root_of(frontier: dict[int, bytes]) -> bytes:
    """Fold a frontier (one complete node per set bit of the size) into the tree head."""
    digest: bytes | None = None
    for at in sorted(frontier):
        digest = frontier[at] if digest is None else _node(frontier[at], digest)
    return EMPTY_ROOT if digest is None else digest


def _check_upper_nodes(
    connection: Connection,
    produced: dict[tuple[int, int], bytes],
    level: int,
    reported: set[tuple[int, int]],
    problems: list[Problem],
) -> int:
    """Compare the nodes above the ranges; the ranges' own roots are their children.

    ``reported`` holds the range roots that their tasks reported.
    """
    node = table_of(LogNode)
    stored: dict[tuple[int, int], bytes] = {
        (at, idx): digest
        for at, idx, digest in connection.execute(
            sa_select(node.c.level, node.c.idx, node.c.hash).where(node.c.level >= level)
        )
    }
    for (at, idx), digest in sorted(produced.items()):  # lowest level first
        found = stored.get((at, idx))
        if found != digest:
            problem = _node_problem(at, idx, found, stored, reported)
            if problem is not None:
                problems.append(problem)
    return sum(1 for key in produced if key in stored)


def _node_problem(
    level: int,
    idx: int,
    found: bytes | None,
    stored: dict[tuple[int, int], bytes],
    reported: set[tuple[int, int]],
) -> Problem | None:
    """Blame a stored node that differs from the recomputed one, unless a child explains it.

    Called lowest level first. A bad leaf makes every node above it differ too, and an
    edited node makes its parent disagree with its stored children; the report should name
    the leaf or the edited node, not the first leaf of the largest subtree above it. So a
    node that differs is blamed (and added to ``reported``) when it is missing, or at level
    0, or when it is not the hash of its own stored children while none of those children
    was blamed. One that is the hash of its stored children differs because a leaf below
    it does, and the lowest node on that path is blamed.
    """
    first = idx << level
    if found is None:
        problem = (first, f"tree node ({level}, {idx}) is missing")
    else:
        if level > 0:
            left, right = (level - 1, 2 * idx), (level - 1, 2 * idx + 1)
            if left in reported or right in reported:
                return None
            left_hash, right_hash = stored.get(left), stored.get(right)
            if left_hash is None or right_hash is None or _node(left_hash, right_hash) == found:
                return None
        problem = (first, f"tree node ({level}, {idx}) differs from the entries")
    reported.add((level, idx))
    return problem


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


# --- a task: one range, in a worker process or in this one --------------------------------

_worker_connection: Connection | None = None
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")


def _start_worker(url: str, snapshot: str | None) -> None:
    """Open this worker's connection; on PostgreSQL, inside the main process's snapshot."""
    global _worker_connection
    engine = create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "postgresql":
        connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        if snapshot is not None:
            # A utility statement: no bind parameters. The id comes from pg_export_snapshot.
            if not _SNAPSHOT_ID.fullmatch(snapshot):
                raise ValueError(f"unexpected snapshot id {snapshot!r}")
            connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    else:
        connection = engine.connect()
    _worker_connection = connection


def _run_task(task: _Task) -> _Outcome:
    assert _worker_connection is not None, "the pool initialiser opens the connection"
    return _check_range(_worker_connection, task)


def _check_range(connection: Connection, task: _Task) -> _Outcome:
    """Check the entries of one range, their links and the range's subtree nodes."""
    start, end = task.start, task.end
    outcome = _Outcome(problems=[])
    problems = outcome.problems
    entry = table_of(LogEntry)
    rows = _rows(
        connection,
        sa_select(
            entry.c.index,
            entry.c.event_type,
            entry.c.outcome,
            entry.c.org_id,
            entry.c.user_id,
            entry.c.purpose,
            entry.c.legal_basis,
            entry.c.body,
            entry.c.leaf_hash,
            entry.c.redacted_at.is_not(None),
        )
        .where(entry.c.index >= start, entry.c.index < end)
        .order_by(entry.c.index),
    )
    parties = _links(connection, table_of(LogParty), "org_id", start, end)
    persons = _links(connection, table_of(LogPerson), "pseudonym", start, end)
    leaves: list[bytes] = []
    expected = start
    for row in rows:
        index = row[0]
        if index != expected and outcome.gap is None:
            outcome.gap, outcome.after_gap = expected, index
        expected = index + 1
        if outcome.gap is None:
            leaves.append(row[8])
        _check_entry(row, parties.get(index), persons.get(index), problems)
    if rows:
        outcome.first = rows[0][0]
    if outcome.gap is None and expected < end:
        outcome.gap = expected  # the range ends without rows
    _check_subtree(connection, task, leaves, outcome)
    return outcome


def _links(
    connection: Connection, table: Table, column: str, start: int, end: int
) -> dict[int, list[str]]:
    """Party or person rows of a range, per entry."""
    found: dict[int, list[str]] = {}
    rows = _rows(
        connection,
        sa_select(table.c.entry_index, table.c[column]).where(
            table.c.entry_index >= start, table.c.entry_index < end
        ),
    )
    for index, value in rows:
        values = found.get(index)
        if values is None:
            found[index] = [value]
        else:
            values.append(value)
    return found


def _check_entry(
    row: Sequence[Any],
    parties: list[str] | None,
    persons: list[str] | None,
    problems: list[Problem],
) -> None:
    """Check one row against its body, and its party and person rows against the body."""
    index, body = row[0], row[7]
    if body is None:
        # Redacted by retention: the stored leaf hash stands and the tree vouches for it.
        if not row[9]:
            problems.append((index, f"entry {index}: body missing without redaction"))
        # Retention dropped the person rows with the body; none may come back.
        if persons:
            problems.append((index, f"entry {index}: person rows after redaction"))
        return
    if _sha256(b"\x00" + body.encode("utf-8")).digest() != row[8]:
        problems.append((index, f"entry {index}: body does not match its leaf hash"))
        return
    try:
        # pydantic's JSON parser: half the cost of json.loads and no more lenient (it also
        # refuses a lone surrogate escape, which canonical JSON never holds).
        record = from_json(body)
    except ValueError:
        problems.append((index, f"entry {index}: body is not JSON"))
        return
    if type(record) is not dict:
        problems.append((index, f"entry {index}: body is not a JSON object"))
        return
    get = record.get
    if (
        index != get("index")
        or row[1] != get("event")
        or row[2] != get("outcome")
        or row[3] != get("org")
        or row[4] != get("user")
        or row[5] != get("purpose")
        or row[6] != get("legal_basis")
    ):
        problems.append((index, f"entry {index}: stored columns differ from its body"))
        return
    if not _same_set(parties, get("parties")):
        problems.append((index, f"entry {index}: party rows differ from its body"))
    elif not _same_set(persons, get("persons")):
        problems.append((index, f"entry {index}: person rows differ from its body"))


def _same_set(rows: list[str] | None, recorded: Any) -> bool:
    """The rows of one entry (unique by their key) hold exactly the values of its body."""
    if rows == recorded:
        return True  # the usual case: the same values in the same order
    try:
        return set(rows or ()) == set(recorded or ())
    except TypeError:  # the body holds something unhashable: no row can equal it
        return False


def _check_subtree(
    connection: Connection, task: _Task, leaves: list[bytes], outcome: _Outcome
) -> None:
    """Rebuild the range's subtree from its leading leaves; compare every complete node.

    ``leaves`` are the stored leaf hashes from the range's first index up to its first gap.
    """
    start, level = task.start, task.level
    computed: list[list[bytes]] = [[] for _ in range(level + 1)]
    frontier: list[bytes] = [b""] * (level + 1)
    wanted = {size - start for size in task.sizes}
    for offset, leaf in enumerate(leaves):
        if len(leaf) != 32:
            leaf = b""  # cannot equal a stored node: reported at level 0 below
        computed[0].append(leaf)
        digest, at, idx = leaf, 0, offset
        while idx & 1:
            digest = _sha256(b"\x01" + frontier[at] + digest).digest()
            at, idx = at + 1, idx >> 1
            computed[at].append(digest)
        frontier[at] = digest
        if offset + 1 in wanted:
            size = offset + 1
            outcome.frontiers[start + size] = {
                at: frontier[at] for at in range(level + 1) if size >> at & 1
            }
    if len(leaves) == task.end - start == 1 << level:
        outcome.root = computed[level][0]
    node = table_of(LogNode)
    stored: dict[tuple[int, int], bytes] | None = None
    reported: set[tuple[int, int]] = set()
    for at, hashes in enumerate(computed):
        if not hashes:
            break
        first = start >> at
        rows = _rows(
            connection,
            sa_select(node.c.hash)
            .where(node.c.level == at, node.c.idx >= first, node.c.idx < first + len(hashes))
            .order_by(node.c.idx),
        )
        outcome.nodes += len(rows)
        if [digest for (digest,) in rows] == hashes:
            continue
        if stored is None:
            stored = _stored_nodes(connection, task, len(computed))
        for offset, digest in enumerate(hashes):
            found = stored.get((at, first + offset))
            if found != digest:
                problem = _node_problem(at, first + offset, found, stored, reported)
                if problem is not None:
                    outcome.problems.append(problem)
    outcome.root_blamed = (level, start >> level) in reported


def _stored_nodes(connection: Connection, task: _Task, levels: int) -> dict[tuple[int, int], bytes]:
    """Every stored node of the range, by address (only read when one differs)."""
    node = table_of(LogNode)
    stored: dict[tuple[int, int], bytes] = {}
    for at in range(levels):
        first = task.start >> at
        rows = _rows(
            connection,
            sa_select(node.c.idx, node.c.hash).where(
                node.c.level == at,
                node.c.idx >= first,
                node.c.idx < first + ((task.end - task.start + (1 << at) - 1) >> at),
            ),
        )
        stored.update({(at, idx): digest for idx, digest in rows})
    return stored


def _rows(connection: Connection, statement: Select[Any]) -> Sequence[Sequence[Any]]:
    """All rows of a statement as plain tuples, in the connection's transaction.

    On PostgreSQL the compiled statement goes straight to a binary psycopg cursor: for
    these columns (integers, text, bytea, a boolean) SQLAlchemy converts nothing, and
    skipping its result layer and the hex text form of bytea halves the cost per row.
    """
    if connection.dialect.name == "postgresql":
        compiled = statement.compile(dialect=connection.dialect)
        driver: Any = connection.connection.driver_connection
        with driver.cursor(binary=True) as cursor:
            cursor.execute(str(compiled), compiled.params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
    return connection.execute(statement).all()
