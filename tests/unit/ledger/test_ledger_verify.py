"""RFC 9162 verifiers: every honest proof passes, every tampered one fails."""

from __future__ import annotations

from typing import Any

import pytest
from rfc9162_reference import mth, path
from rfc9162_reference import proof as reference_proof

from broker.ledger import EMPTY_ROOT, leaf_hash, verify_consistency, verify_inclusion

MAX_SIZE = 40
DATA = [f"disclosure {i}".encode() for i in range(MAX_SIZE)]
ROOTS = [mth(DATA[:n]) for n in range(MAX_SIZE + 1)]


def _flipped(proof: list[bytes], position: int) -> list[bytes]:
    """Copy the proof with one bit of one element flipped."""
    element = bytearray(proof[position])
    element[position % len(element)] ^= 0x01
    return [*proof[:position], bytes(element), *proof[position + 1 :]]


def _inclusion_holds(honest: dict[str, Any], **changes: Any) -> bool:
    """Run verify_inclusion on the honest arguments with some of them replaced."""
    args = {**honest, **changes}
    return verify_inclusion(args.pop("leaf"), **args)


def _consistency_holds(honest: dict[str, Any], **changes: Any) -> bool:
    """Run verify_consistency on the honest arguments with some of them replaced."""
    args = {**honest, **changes}
    return verify_consistency(args.pop("old_size"), **args)


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_inclusion_accepts_honest_and_rejects_tampered_proofs(size: int) -> None:
    for index in range(size):
        proof = path(index, DATA[:size])
        leaf = leaf_hash(DATA[index])
        honest = {"leaf": leaf, "index": index, "size": size, "proof": proof, "root": ROOTS[size]}
        assert _inclusion_holds(honest)
        for position in range(len(proof)):
            assert not _inclusion_holds(honest, proof=_flipped(proof, position))
        assert not _inclusion_holds(honest, leaf=leaf_hash(DATA[index] + b"!"))
        assert not _inclusion_holds(honest, root=ROOTS[size - 1])
        for other in {index - 1, index + 1} & set(range(size)):
            assert not _inclusion_holds(honest, index=other)
        # A wrong size is checked with that size's own root: the pair a checkpoint signs.
        for other in {size - 1, size + 1} & set(range(index + 1, MAX_SIZE + 1)):
            assert not _inclusion_holds(honest, size=other, root=ROOTS[other])
        assert not _inclusion_holds(honest, proof=[*proof, proof[-1] if proof else leaf])
        if proof:
            assert not _inclusion_holds(honest, proof=proof[:-1])


@pytest.mark.parametrize("new_size", range(2, MAX_SIZE + 1))
def test_consistency_accepts_honest_and_rejects_tampered_proofs(new_size: int) -> None:
    for old_size in range(1, new_size):
        proof = reference_proof(old_size, DATA[:new_size])
        honest = {
            "old_size": old_size, "new_size": new_size, "proof": proof,
            "old_root": ROOTS[old_size], "new_root": ROOTS[new_size],
        }  # fmt: skip
        assert _consistency_holds(honest)
        for position in range(len(proof)):
            assert not _consistency_holds(honest, proof=_flipped(proof, position))
        assert not _consistency_holds(honest, old_root=ROOTS[old_size - 1])
        assert not _consistency_holds(honest, new_root=ROOTS[new_size - 1])
        for other in {old_size - 1, old_size + 1} & set(range(1, new_size)):
            assert not _consistency_holds(honest, old_size=other, old_root=ROOTS[other])
        for other in {new_size - 1, new_size + 1} & set(range(old_size + 1, MAX_SIZE + 1)):
            assert not _consistency_holds(honest, new_size=other, new_root=ROOTS[other])
        assert not _consistency_holds(honest, proof=[*proof, proof[-1]])
        assert not _consistency_holds(honest, proof=proof[:-1])
        assert not _consistency_holds(honest, proof=[])


def test_consistency_edge_cases_outside_the_rfc_range() -> None:
    def check(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
        return verify_consistency(
            old, new_size=new, old_root=old_root, new_root=new_root, proof=proof
        )

    assert check(5, 5, ROOTS[5], ROOTS[5], [])
    assert not check(5, 5, ROOTS[5], ROOTS[4], [])
    assert not check(5, 5, ROOTS[5], ROOTS[5], [ROOTS[1]])
    assert check(0, 7, EMPTY_ROOT, ROOTS[7], [])
    assert not check(0, 7, ROOTS[1], ROOTS[7], [])
    assert not check(0, 7, EMPTY_ROOT, ROOTS[7], [ROOTS[1]])
    assert not check(6, 5, ROOTS[6], ROOTS[5], reference_proof(5, DATA[:6]))


@pytest.mark.parametrize(
    "bad",
    [
        {"index": -1},
        {"index": True},
        {"size": 0, "index": 0},
        {"root": b"short"},
        {"leaf": b"x" * 33},
        {"proof": ["not bytes"]},
    ],
)
def test_inclusion_verifier_answers_false_to_garbage(bad: dict[str, Any]) -> None:
    honest: dict[str, Any] = {
        "index": 0, "size": 2, "proof": path(0, DATA[:2]), "root": ROOTS[2]
    }  # fmt: skip
    assert verify_inclusion(leaf_hash(DATA[0]), **honest)
    tampered = {**honest, **bad}
    assert not verify_inclusion(tampered.pop("leaf", leaf_hash(DATA[0])), **tampered)
