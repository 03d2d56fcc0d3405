"""RFC 9162 proof verifiers; they take untrusted input and only ever answer True or False."""

from __future__ import annotations

from collections.abc import Sequence

from broker.ledger.hashes import EMPTY_ROOT, HASH_SIZE, node_hash


def verify_inclusion(
    leaf_hash: bytes, *, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion proof as RFC 9162 section 2.1.3.2 prescribes."""
    if not _are_hashes([leaf_hash, root, *proof]) or not _are_ints([index, size]):
        return False
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, *, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof as RFC 9162 section 2.1.4.2 prescribes."""
    if not _are_hashes([old_root, new_root, *proof]) or not _are_ints([old_size, new_size]):
        return False
    if not 0 <= old_size <= new_size:
        return False
    # Outside 0 < old < new the RFC defines no proof; an empty one is right exactly when
    # there is nothing to prove (the convention of transparency-dev/merkle and sigsum).
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


def _are_hashes(values: Sequence[object]) -> bool:
    """True when every value is a 32-byte digest."""
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)


def _are_ints(values: Sequence[object]) -> bool:
    """True when every value is a plain int (bool is not a tree size)."""
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)
