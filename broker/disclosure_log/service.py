"""Appending to the disclosure log, signing checkpoints and producing proofs."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session

from broker.clock import Clock
from broker.disclosure_log.events import LogEvent
from broker.disclosure_log.models import LogCheckpoint, LogEntry
from broker.disclosure_log.repository import LogRepository, NodeStore
from broker.disclosure_log.sequencer import Integrator, enqueue, integrate_pending
from broker.disclosure_log.signer import CheckpointSigner
from broker.errors import NotFound
from broker.ledger import (
    Checkpoint,
    canonical_json,
    consistency_proof,
    inclusion_proof,
    root,
    sign_checkpoint,
)

PENDING = "disclosure_log.pending"
_WAKE_REGISTERED = "disclosure_log.wake_registered"


def record(session: Session, event: LogEvent) -> None:
    """Queue ``event`` for the log; it is appended when the transaction commits."""
    session.info.setdefault(PENDING, []).append(event)


def _forget_wake(session: Session) -> None:
    session.info.pop(_WAKE_REGISTERED, None)


def take_pending(session: Session) -> list[LogEvent]:
    """Remove and return the events queued on ``session``."""
    events: list[LogEvent] = session.info.pop(PENDING, [])
    return events


def b64(data: bytes) -> str:
    """Standard base64, as checkpoints and proofs use it."""
    return base64.b64encode(data).decode("ascii")


def entry_body(event: LogEvent, *, at: datetime) -> dict[str, Any]:
    """The canonical record of one event, without the index the integrator assigns.

    With its ``index`` added, the canonical JSON of this record is the Merkle leaf data.
    """
    return {
        "time": at.isoformat(),
        "event": event.event_type.value,
        "outcome": event.outcome,
        "org": event.org_id,
        "user": event.user_id,
        "acting_for": event.acting_for,
        "role": event.role,
        "purpose": event.purpose,
        "legal_basis": event.legal_basis,
        "basis_ref": event.basis_ref,
        "rule": list(event.rule) if event.rule else None,
        "persons": sorted(set(event.persons)),
        "parties": sorted(set(event.parties)),
        "details": dict(event.details),
    }


@dataclass(frozen=True)
class SignedHead:
    """A checkpoint as served: size, root and the signed note."""

    size: int
    root: bytes
    note: str


class DisclosureLog:
    """The append-only, Merkle-tree-backed log."""

    def __init__(
        self, *, engine: Engine, clock: Clock, signer: CheckpointSigner, origin: str
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._signer = signer
        self._origin = origin
        self.integrator = Integrator(engine)

    def append(self, session: Session, events: Sequence[LogEvent]) -> None:
        """Queue ``events`` in this transaction; they reach the tree once it commits.

        No lock is shared between requests here: the integrator gives the events their
        indices in commit order of the queue (see ``broker.disclosure_log.sequencer``).
        """
        if not events:
            return
        at = self._clock.now()
        enqueue(session, at, [canonical_json(entry_body(item, at=at)).decode() for item in events])
        if not session.info.get(_WAKE_REGISTERED):
            session.info[_WAKE_REGISTERED] = True
            event.listen(session, "after_commit", self._after_commit, once=True)
            event.listen(session, "after_rollback", _forget_wake, once=True)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_WAKE_REGISTERED, None):
            self.integrator.committed()

    def catch_up(self) -> None:
        """Integrate every committed event before reading the tree."""
        integrate_pending(self._engine, wait=True)

    def checkpoint(self, session: Session) -> SignedHead:
        """Sign the current tree head (or return the existing checkpoint at this size)."""
        self.catch_up()
        repo = LogRepository(session)
        size = repo.size()
        existing = repo.checkpoint(size)
        if existing is not None:
            return SignedHead(size=size, root=existing.root, note=existing.note)
        tree_root = root(size, read=NodeStore(session))
        key_name, key = self._signer.signing_key()
        note = sign_checkpoint(
            Checkpoint(origin=self._origin, size=size, root_hash=tree_root),
            key_name=key_name,
            private_key=key,
        )
        # Every broker process signs periodically, and GET /v1/log/checkpoint signs too: when
        # another one stored this size first, serve its note instead of failing on the key.
        stored = repo.add_checkpoint(
            LogCheckpoint(size=size, root=tree_root, note=note, created_at=self._clock.now())
        )
        return SignedHead(size=size, root=stored.root, note=stored.note)

    def latest(self, session: Session) -> SignedHead:
        """The newest checkpoint, signing one when the log has grown since."""
        self.catch_up()
        repo = LogRepository(session)
        latest = repo.latest_checkpoint()
        if latest is None or latest.size < repo.size():
            return self.checkpoint(session)
        return SignedHead(size=latest.size, root=latest.root, note=latest.note)

    def inclusion(self, session: Session, index: int, *, size: int) -> tuple[LogEntry, list[bytes]]:
        """An entry and its inclusion proof in the tree of ``size`` entries."""
        entry = LogRepository(session).entry(index)
        if entry is None or index >= size:
            raise NotFound("No such log entry in that tree.")
        return entry, inclusion_proof(index, size=size, read=NodeStore(session))

    def consistency(self, session: Session, old_size: int, new_size: int) -> list[bytes]:
        """Proof that the tree of ``new_size`` entries extends the one of ``old_size``."""
        return consistency_proof(old_size, new_size=new_size, read=NodeStore(session))

    def verifier_keys(self) -> list[str]:
        """Verifier keys for checkpoints, every key version included."""
        return self._signer.verifier_keys()


def body_of(entry: LogEntry) -> dict[str, Any] | None:
    """The parsed body, or None once retention redacted it."""
    return json.loads(entry.body) if entry.body is not None else None
