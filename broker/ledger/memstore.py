"""In-memory node store for tests, benchmarks and offline verification."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from broker.ledger.hashes import Node, NodeKey, check_hash


class InMemoryNodeStore:
    """A NodeReader over plain lists, one per level.

    Complete nodes appear in index order on every level, so a list per level is a dense
    map from (level, index) to hash that costs a third of a tuple-keyed dict at 10M leaves.
    ``put`` enforces the same append-only rule the database table must keep.
    """

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = []

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Sequence[bytes]) -> InMemoryNodeStore:
        """Build every complete node level by level; far faster than leaf-by-leaf appends."""
        store = cls()
        level = list(leaf_hashes)
        for leaf in level:
            check_hash(leaf, what="leaf hash")
        sha256 = hashlib.sha256
        while level:
            store._levels.append(level)
            level = [
                sha256(b"\x01" + level[i] + level[i + 1]).digest()
                for i in range(0, len(level) - 1, 2)
            ]
        return store

    @property
    def size(self) -> int:
        """Number of leaves stored."""
        return len(self._levels[0]) if self._levels else 0

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the stored hash of every requested node that exists."""
        found: dict[NodeKey, bytes] = {}
        for level, index in keys:
            if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
                found[(level, index)] = self._levels[level][index]
        return found

    def put(self, nodes: Iterable[Node]) -> None:
        """Store complete nodes; re-storing an identical node is a no-op."""
        for node in nodes:
            check_hash(node.hash, what="node hash")
            while len(self._levels) <= node.level:
                self._levels.append([])
            row = self._levels[node.level]
            if node.index == len(row):
                row.append(node.hash)
            elif node.index > len(row):
                raise ValueError(f"node {node.key} would leave a gap")
            elif row[node.index] != node.hash:
                # A complete subtree never changes; a different hash means a fork.
                raise ValueError(f"node {node.key} already stored with another hash")
