"""The vocabulary of the Merkle tree: RFC 9162 hashes, node addresses and the store port."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# (level, index): node (level, i) covers leaves [i * 2**level, (i + 1) * 2**level).
NodeKey: TypeAlias = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """Hash leaf data with the RFC 9162 leaf prefix 0x00."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes, /) -> bytes:
    """Hash two child hashes with the RFC 9162 interior prefix 0x01."""
    # Positional-only on purpose: the order of the operands is the whole meaning.
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True, slots=True)
class Node:
    """The hash of one complete (perfect) subtree, at its (level, index) address."""

    level: int
    index: int
    hash: bytes

    @property
    def key(self) -> NodeKey:
        """The (level, index) address of this node."""
        return (self.level, self.index)


class NodeReader(Protocol):
    """Port to the store of complete-subtree hashes; one call is one database round trip."""

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the stored hash of every requested node that exists."""
        ...


def check_hash(value: bytes, *, what: str) -> None:
    """Refuse anything that is not a 32-byte SHA-256 digest."""
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")
