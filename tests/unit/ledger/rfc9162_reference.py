"""RFC 9162 MTH, PATH and PROOF written out exactly as the RFC recursion reads.

Deliberately naive (whole-list recursion, hashlib directly) so it shares no code or
cleverness with broker.ledger and can serve as the oracle for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from broker.ledger import NodeKey


def _largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(data: Sequence[bytes]) -> bytes:
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = _largest_power_of_two_below(n)
    return hashlib.sha256(b"\x01" + mth(data[:k]) + mth(data[k:])).digest()


def mth_of_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH when only the leaf hashes are known (as after redaction)."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = _largest_power_of_two_below(n)
    return hashlib.sha256(
        b"\x01" + mth_of_leaf_hashes(hashes[:k]) + mth_of_leaf_hashes(hashes[k:])
    ).digest()


def path(m: int, data: Sequence[bytes]) -> list[bytes]:
    n = len(data)
    if n == 1:
        return []
    k = _largest_power_of_two_below(n)
    if m < k:
        return [*path(m, data[:k]), mth(data[k:])]
    return [*path(m - k, data[k:]), mth(data[:k])]


def proof(m: int, data: Sequence[bytes]) -> list[bytes]:
    return _subproof(m, data, True)


def _subproof(m: int, data: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if b else [mth(data)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(m, data[:k], b), mth(data[k:])]
    return [*_subproof(m - k, data[k:], False), mth(data[:k])]


class RecordingReader:
    """Wraps a NodeReader and records every get_nodes call."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls: list[list[NodeKey]] = []

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.calls.append(list(keys))
        return self.inner.get_nodes(keys)  # type: ignore[attr-defined,no-any-return]
