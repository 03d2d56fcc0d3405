"""``broker log verify``: recompute the whole log and report the first bad entry.

Checks, in one streaming pass: indices run without gaps from 0; each body hashes to its
stored leaf hash and names its own index (a reordered or edited row fails here); the
search columns agree with the body; every complete subtree node that proofs are served
from equals the recomputed one; each signed checkpoint carries a valid signature and the
root recomputed over its first ``size`` entries.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from broker.disclosure_log.models import LogEntry, LogNode
from broker.disclosure_log.repository import LogRepository
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
    chunk: list[LogEntry] = []
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
    chunk: list[LogEntry],
    builder: TreeBuilder,
    roots: dict[int, bytes],
    report: VerifyReport,
) -> None:
    produced: list[Node] = []
    for entry in chunk:
        expected = builder.size
        if entry.index != expected:
            report.fail(
                expected, f"entry {expected} is missing (next stored index is {entry.index})"
            )
            return
        _verify_entry(entry, report)
        produced.extend(builder.append(entry.leaf_hash))
        signed_root = roots.get(builder.size)
        if signed_root is not None and signed_root != builder.root():
            report.fail(
                builder.size - 1, f"checkpoint at size {builder.size} does not match the entries"
            )
    _verify_nodes(session, produced, report)


def _verify_entry(entry: LogEntry, report: VerifyReport) -> None:
    if entry.body is None:
        # Redacted by retention: the stored leaf hash stands and the tree vouches for it.
        if entry.redacted_at is None:
            report.fail(entry.index, f"entry {entry.index}: body missing without redaction")
        return
    if leaf_hash(entry.body.encode("utf-8")) != entry.leaf_hash:
        report.fail(entry.index, f"entry {entry.index}: body does not match its leaf hash")
        return
    try:
        body = json.loads(entry.body)
    except ValueError:
        report.fail(entry.index, f"entry {entry.index}: body is not JSON")
        return
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
