"""RFC 9162 Merkle tree over a store of complete-subtree hashes.

The store keeps the hash of every complete (perfect) subtree, addressed by (level, index).
Those never change once written, so any tree head, inclusion proof or consistency proof
for any past size is composed from O(log n) of them, fetched in one ``get_nodes`` call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from broker.ledger._ranges import LeafRange, path_ranges, proof_ranges, range_keys
from broker.ledger.builder import TreeBuilder, absorb
from broker.ledger.errors import NodeMissing
from broker.ledger.hashes import (
    EMPTY_ROOT,
    HASH_SIZE,
    Node,
    NodeKey,
    NodeReader,
    check_hash,
    leaf_hash,
    node_hash,
)
from broker.ledger.memstore import InMemoryNodeStore
from broker.ledger.verify import verify_consistency, verify_inclusion

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "InMemoryNodeStore",
    "Node",
    "NodeKey",
    "NodeReader",
    "TreeBuilder",
    "append_batch",
    "completed_nodes",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]


def completed_nodes(size_before: int, *, leaf_hash: bytes, read: NodeReader) -> list[Node]:
    """Return every node that becomes complete when leaf number ``size_before`` is appended."""
    return append_batch(size_before, leaf_hashes=[leaf_hash], read=read)


def append_batch(size_before: int, *, leaf_hashes: Sequence[bytes], read: NodeReader) -> list[Node]:
    """Return every node completed by appending ``leaf_hashes`` after ``size_before`` leaves."""
    _check_size(size_before)
    for leaf in leaf_hashes:
        check_hash(leaf, what="leaf hash")
    end = size_before + len(leaf_hashes)
    # Only frontier nodes of the old tree that the batch will hash over need reading;
    # everything else the batch touches it computes itself.
    wanted: list[NodeKey] = []
    for level in range(size_before.bit_length()):
        parent_end = ((size_before >> (level + 1)) + 1) << (level + 1)
        if size_before >> level & 1 and parent_end <= end:
            wanted.append((level, (size_before >> level) - 1))
    stored = _fetch(read, wanted)
    frontier = {level: stored[(level, index)] for level, index in wanted}
    completed: list[Node] = []
    for offset, leaf in enumerate(leaf_hashes):
        completed.extend(absorb(frontier, size_before + offset, leaf))
    return completed


def root(size: int, *, read: NodeReader) -> bytes:
    """Return MTH of the first ``size`` leaves, composed from O(log n) complete nodes."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes([(0, size)], read)[0]


def inclusion_proof(index: int, *, size: int, read: NodeReader) -> list[bytes]:
    """Return PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""
    _check_size(size)
    _check_size(index)
    if index >= size:
        raise ValueError("index must satisfy 0 <= index < size")
    return _range_hashes(path_ranges(index, size), read)


def consistency_proof(old_size: int, *, new_size: int, read: NodeReader) -> list[bytes]:
    """Return PROOF(old_size, D[0:new_size]) of RFC 9162 section 2.1.4.1."""
    _check_size(old_size)
    _check_size(new_size)
    if old_size > new_size:
        raise ValueError("old_size must not exceed new_size")
    # The RFC defines PROOF for 0 < m < n only; the other cases prove nothing and are
    # empty, as in transparency-dev/merkle and sigsum (see verify_consistency).
    if old_size in (0, new_size):
        return []
    return _range_hashes(proof_ranges(old_size, new_size), read)


def _range_hashes(ranges: Sequence[LeafRange], read: NodeReader) -> list[bytes]:
    """Compute MTH of every range from complete nodes fetched in a single round trip."""
    keys_per_range = [range_keys(start, end) for start, end in ranges]
    if not keys_per_range:
        return []
    stored = _fetch(read, list(dict.fromkeys(k for keys in keys_per_range for k in keys)))
    hashes = []
    for keys in keys_per_range:
        # MTH of a range that is not a power of two nests to the right: fold right to left.
        digest = stored[keys[-1]]
        for key in reversed(keys[:-1]):
            digest = node_hash(stored[key], digest)
        hashes.append(digest)
    return hashes


def _fetch(read: NodeReader, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
    """Read nodes in one call and insist every one of them came back."""
    if not keys:
        return {}
    stored = read.get_nodes(keys)
    missing = [key for key in keys if key not in stored]
    if missing:
        raise NodeMissing(missing)
    return stored


def _check_size(value: int) -> None:
    """Refuse negative or non-integer sizes and indices (bool included)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("tree sizes and leaf indices must be non-negative ints")
