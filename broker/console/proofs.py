"""The "verify" action: one entry's inclusion proof against the latest signed checkpoint.

Checked as an outside auditor would: the checkpoint's signature with the log's verifier
keys (not the stored root column), the entry's body against its leaf hash, and the RFC 9162
inclusion proof from that leaf to the signed root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from broker.container import Container
from broker.disclosure_log.service import b64
from broker.ledger import CheckpointInvalid, leaf_hash, verify_checkpoint, verify_inclusion

Step = Literal["ok", "signature", "leaf", "inclusion"]


@dataclass(frozen=True)
class Verification:
    """The outcome, the step that failed (``ok`` when none did) and what was checked."""

    verified: bool
    step: Step
    tree_size: int
    root: str
    proof_length: int
    checkpoint: str


def verify_entry(session: Session, container: Container, index: int) -> Verification:
    """Verify entry ``index`` (already checked visible) against the latest checkpoint."""
    head = container.log.latest(session)
    try:
        signed = verify_checkpoint(
            head.note,
            verifiers=container.log.verifier_keys(),
            origin=container.settings.log_origin,
        )
    except CheckpointInvalid:
        return Verification(False, "signature", head.size, b64(head.root), 0, head.note)
    entry, proof = container.log.inclusion(session, index, size=signed.size)

    def outcome(step: Step) -> Verification:
        return Verification(
            step == "ok", step, signed.size, b64(signed.root_hash), len(proof), head.note
        )

    if entry.body is not None and leaf_hash(entry.body.encode("utf-8")) != entry.leaf_hash:
        return outcome("leaf")
    included = verify_inclusion(
        entry.leaf_hash, index=index, size=signed.size, proof=proof, root=signed.root_hash
    )
    return outcome("ok" if included else "inclusion")
