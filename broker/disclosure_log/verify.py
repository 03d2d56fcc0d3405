"""``broker log verify``: recompute the whole log and report the first bad entry.

Checks, in one streaming pass: indices run without gaps from 0; each body hashes to its
stored leaf hash and names its own index (a reordered or edited row fails here); the
search columns agree with the body, and so do the party and person rows that decide who
sees an entry and whose search finds it; every complete subtree node that proofs are
served from equals the recomputed one; each signed checkpoint carries a valid signature
and the root recomputed over its first ``size`` entries.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from broker.disclosure_log.models import LogNode, LogParty, LogPerson
from broker.disclosure_log.repository import LogRepository, StoredEntry, table_of
from broker.ledger import CheckpointInvalid, Node, TreeBuilder, leaf_hash, verify_checkpoint

CHUNK = 5000


@dataclass
class VerifyReport:
    """The outcome of a verification run."""

    entries: int = 0
    checkpoints: int = 0
    nodes: int = 0
    first_bad: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems

    def fail(self, index: int | None, problem: str) -> None:
        """Record a problem; keep the lowest bad index."""
        self.problems.append(problem)
        if index is not None and (self.first_bad is None or index < self.first_bad):
            self.first_bad = index


def verify_log(session: Session, *, verifier_keys: Sequence[str], origin: str) -> VerifyReport:
    """Verify entries, tree nodes and checkpoints of the whole log."""
    report = VerifyReport()
    repo = LogRepository(session)
    roots = _signed_roots(repo, verifier_keys, origin, report)
    builder = TreeBuilder()
    chunk: list[StoredEntry] = []
    for entry in repo.stream(batch=CHUNK):
        chunk.append(entry)
        if len(chunk) == CHUNK:
            _verify_chunk(session, chunk, builder, roots, report)
            chunk = []
    _verify_chunk(session, chunk, builder, roots, report)
    if repo.size() != builder.size:
        report.fail(builder.size, f"the log head says {repo.size()} entries, found {builder.size}")
    for size in roots:
        if size > builder.size:
            report.fail(builder.size, f"checkpoint at size {size} is beyond the log's end")
    report.entries, report.checkpoints = builder.size, len(roots)
    return report


def _signed_roots(
    repo: LogRepository, verifier_keys: Sequence[str], origin: str, report: VerifyReport
) -> dict[int, bytes]:
    """Tree roots as the checkpoint signatures vouch for them (not the stored column)."""
    roots: dict[int, bytes] = {}
    for stored in repo.checkpoints():
        try:
            checkpoint = verify_checkpoint(
                stored.note, verifiers=list(verifier_keys), origin=origin
            )
        except CheckpointInvalid:
            report.fail(None, f"checkpoint at size {stored.size} has no valid signature")
            continue
        if checkpoint.size != stored.size or checkpoint.root_hash != stored.root:
            report.fail(None, f"checkpoint at size {stored.size} differs from its signed note")
        roots[checkpoint.size] = checkpoint.root_hash
    return roots


def _verify_chunk(
    session: Session,
    chunk: list[StoredEntry],
    builder: TreeBuilder,
    roots: dict[int, bytes],
    report: VerifyReport,
) -> None:
    produced: list[Node] = []
    bodies: dict[int, dict[str, Any] | None] = {}
    for entry in chunk:
        expected = builder.size
        if entry.index != expected:
            report.fail(
                expected, f"entry {expected} is missing (next stored index is {entry.index})"
            )
            return
        body = _verify_entry(entry, report)
        if body is not None or entry.body is None:  # a bad body is reported already
            bodies[entry.index] = body
        produced.extend(builder.append(entry.leaf_hash))
        signed_root = roots.get(builder.size)
        if signed_root is not None and signed_root != builder.root():
            report.fail(
                builder.size - 1, f"checkpoint at size {builder.size} does not match the entries"
            )
    _verify_links(session, bodies, report)
    _verify_nodes(session, produced, report)


def _verify_entry(entry: StoredEntry, report: VerifyReport) -> dict[str, Any] | None:
    """Check one row; return its parsed body when it is sound, else None."""
    if entry.body is None:
        # Redacted by retention: the stored leaf hash stands and the tree vouches for it.
        if entry.redacted_at is None:
            report.fail(entry.index, f"entry {entry.index}: body missing without redaction")
        return None
    if leaf_hash(entry.body.encode("utf-8")) != entry.leaf_hash:
        report.fail(entry.index, f"entry {entry.index}: body does not match its leaf hash")
        return None
    try:
        body: dict[str, Any] = json.loads(entry.body)
    except ValueError:
        report.fail(entry.index, f"entry {entry.index}: body is not JSON")
        return None
    columns = (
        entry.index,
        entry.event_type,
        entry.outcome,
        entry.org_id,
        entry.user_id,
        entry.purpose,
        entry.legal_basis,
    )
    recorded = (
        body.get("index"),
        body.get("event"),
        body.get("outcome"),
        body.get("org"),
        body.get("user"),
        body.get("purpose"),
        body.get("legal_basis"),
    )
    if columns != recorded:
        report.fail(entry.index, f"entry {entry.index}: stored columns differ from its body")
        return None
    return body


def _verify_links(
    session: Session, bodies: dict[int, dict[str, Any] | None], report: VerifyReport
) -> None:
    """The party rows (who may see an entry) and person rows (whose search finds it).

    Neither is in the hash, so a row added or removed here would silently show an entry to
    another organisation or hide it from a person's overview; the body says what is right.
    """
    if not bodies:
        return
    first, last = min(bodies), max(bodies)
    parties: dict[int, set[str]] = defaultdict(set)
    persons: dict[int, set[str]] = defaultdict(set)
    party, person = table_of(LogParty).c, table_of(LogPerson).c  # Core rows: millions
    for index, value, found in (
        (party.entry_index, party.org_id, parties),
        (person.entry_index, person.pseudonym, persons),
    ):
        rows = session.execute(sa_select(index, value).where(index >= first, index <= last))
        for entry_index, item in rows:
            found[entry_index].add(item)
    for entry_index in sorted(bodies):
        body = bodies[entry_index]
        if body is None:
            # Retention dropped the person rows with the body; none may come back.
            if persons.get(entry_index):
                report.fail(entry_index, f"entry {entry_index}: person rows after redaction")
            continue
        if parties.get(entry_index, set()) != set(body.get("parties") or ()):
            report.fail(entry_index, f"entry {entry_index}: party rows differ from its body")
        elif persons.get(entry_index, set()) != set(body.get("persons") or ()):
            report.fail(entry_index, f"entry {entry_index}: person rows differ from its body")


def _verify_nodes(session: Session, produced: list[Node], report: VerifyReport) -> None:
    by_level: dict[int, dict[int, bytes]] = defaultdict(dict)
    for node in produced:
        by_level[node.level][node.index] = node.hash
    # Lowest level first: a bad leaf makes every node above it differ too, and the
    # report should name the leaf, not the first leaf of the largest subtree.
    for level, expected in sorted(by_level.items()):
        rows = session.exec(
            select(LogNode.idx, LogNode.hash).where(
                col(LogNode.level) == level,
                col(LogNode.idx) >= min(expected),
                col(LogNode.idx) <= max(expected),
            )
        ).all()
        stored = dict(rows)
        report.nodes += len(stored)
        for idx in sorted(expected):
            if stored.get(idx) != expected[idx]:
                report.fail(idx << level, f"tree node ({level}, {idx}) differs from the entries")
                return
