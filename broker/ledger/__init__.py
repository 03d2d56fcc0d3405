"""Tamper-evident disclosure log: RFC 9162 Merkle tree, C2SP checkpoints, canonical entries.

Pure library code: storage sits behind the ``NodeReader`` port, so nothing here imports a
web framework or an ORM.
"""

from broker.ledger.checkpoint import (
    Checkpoint,
    cosign_checkpoint,
    parse_signed_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from broker.ledger.entry import canonical_json, entry_leaf_hash
from broker.ledger.errors import CheckpointInvalid, LedgerError, NodeMissing, NotCanonical
from broker.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    InMemoryNodeStore,
    Node,
    NodeKey,
    NodeReader,
    TreeBuilder,
    append_batch,
    completed_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from broker.ledger.note import NoteVerifier, SignatureLine, key_id, parse_vkey, vkey

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "CheckpointInvalid",
    "InMemoryNodeStore",
    "LedgerError",
    "Node",
    "NodeKey",
    "NodeMissing",
    "NodeReader",
    "NotCanonical",
    "NoteVerifier",
    "SignatureLine",
    "TreeBuilder",
    "append_batch",
    "canonical_json",
    "completed_nodes",
    "consistency_proof",
    "cosign_checkpoint",
    "entry_leaf_hash",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "node_hash",
    "parse_signed_checkpoint",
    "parse_vkey",
    "root",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "vkey",
]
