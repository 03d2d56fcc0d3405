"""Streaming tree construction that keeps only the right frontier: O(log n) memory."""

from __future__ import annotations

from collections.abc import Iterable

from broker.ledger.hashes import EMPTY_ROOT, Node, check_hash, node_hash


def absorb(frontier: dict[int, bytes], size: int, leaf: bytes) -> list[Node]:
    """Append leaf number ``size`` to the frontier; return the nodes it completes."""
    # The frontier holds one complete node per set bit of ``size``: its right edge.
    digest, level, index = leaf, 0, size
    completed = [Node(0, size, digest)]
    while index & 1:
        digest = node_hash(frontier.pop(level), digest)
        level += 1
        index >>= 1
        completed.append(Node(level, index, digest))
    frontier[level] = digest
    return completed


def frontier_root(frontier: dict[int, bytes]) -> bytes:
    """Fold the frontier into the tree head, smallest (rightmost) subtree first."""
    digest: bytes | None = None
    for level in sorted(frontier):
        digest = frontier[level] if digest is None else node_hash(frontier[level], digest)
    return EMPTY_ROOT if digest is None else digest


class TreeBuilder:
    """Consumes leaf hashes in order and reports every complete node it produces.

    ``broker log verify`` streams the stored leaf hashes through one of these, compares the
    nodes it yields with the stored nodes, and its ``root()`` with each checkpoint.
    """

    def __init__(self) -> None:
        self._frontier: dict[int, bytes] = {}
        self._size = 0

    @property
    def size(self) -> int:
        """Number of leaves consumed so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Consume the next leaf hash; return the nodes it completes, level 0 first."""
        check_hash(leaf_hash, what="leaf hash")
        completed = absorb(self._frontier, self._size, leaf_hash)
        self._size += 1
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[Node]:
        """Consume several leaf hashes; return every node they complete, in order."""
        completed: list[Node] = []
        for leaf in leaf_hashes:
            completed.extend(self.append(leaf))
        return completed

    def root(self) -> bytes:
        """The RFC 9162 tree head of the leaves consumed so far."""
        return frontier_root(self._frontier)
