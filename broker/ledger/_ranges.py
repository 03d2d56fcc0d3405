"""Leaf-range arithmetic behind RFC 9162 MTH, PATH and PROOF, free of any hashing.

A range ``(start, end)`` stands for MTH(D[start:end]). Every range the RFC recursion
produces starts at a multiple of the largest power of two not above its length, so it
splits into complete nodes of strictly decreasing size, left to right.
"""

from __future__ import annotations

from broker.ledger.hashes import NodeKey

LeafRange = tuple[int, int]


def split_point(count: int) -> int:
    """Return k, the largest power of two smaller than count (count >= 2)."""
    return 1 << ((count - 1).bit_length() - 1)


def range_keys(start: int, end: int) -> list[NodeKey]:
    """Return the complete nodes that make up MTH(D[start:end]), left to right."""
    keys: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def path_ranges(index: int, size: int) -> list[LeafRange]:
    """Return the ranges whose MTH form PATH(index, D[0:size]), in RFC order."""
    siblings: list[LeafRange] = []
    start, end = 0, size
    # Walk down from the root; the RFC lists siblings bottom-up, so reverse at the end.
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            siblings.append((start + k, end))
            end = start + k
        else:
            siblings.append((start, start + k))
            start += k
    siblings.reverse()
    return siblings


def proof_ranges(old_size: int, new_size: int) -> list[LeafRange]:
    """Return the ranges whose MTH form PROOF(old_size, D[0:new_size]), 0 < old < new."""
    ranges: list[LeafRange] = []
    start, end, is_old_root_known = 0, new_size, True
    while old_size != end:
        k = split_point(end - start)
        if old_size - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            is_old_root_known = False
    # SUBPROOF(m, D[m], b): the verifier already holds this hash only while b is true.
    if not is_old_root_known:
        ranges.append((start, end))
    ranges.reverse()
    return ranges
