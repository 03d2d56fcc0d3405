"""Tree heads and proofs from complete nodes, checked against the naive RFC 9162 oracle."""

from __future__ import annotations

import pytest
from rfc9162_reference import RecordingReader, mth, path, proof

from broker.ledger import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    NodeMissing,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
)

MAX_SIZE = 70
DATA = [f"entry {i}".encode() for i in range(MAX_SIZE)]
STORE = InMemoryNodeStore.from_leaf_hashes([leaf_hash(d) for d in DATA])

# Certificate Transparency's reference tree (RFC 6962 hashing, unchanged in RFC 9162).
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
             "5051525354555657", "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_CONSISTENCY = {
    (1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}  # fmt: skip


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root(0, read=STORE) == EMPTY_ROOT


def test_certificate_transparency_known_answers() -> None:
    store = InMemoryNodeStore.from_leaf_hashes([leaf_hash(d) for d in CT_LEAVES])
    assert [root(n, read=store).hex() for n in range(1, 9)] == CT_ROOTS
    assert [h.hex() for h in inclusion_proof(0, size=8, read=store)] == CT_CONSISTENCY[(1, 8)]
    for (old, new), expected in CT_CONSISTENCY.items():
        assert [h.hex() for h in consistency_proof(old, new_size=new, read=store)] == expected


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_root_matches_reference(size: int) -> None:
    assert root(size, read=STORE) == mth(DATA[:size])


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_inclusion_proof_matches_reference_for_every_index(size: int) -> None:
    for index in range(size):
        assert inclusion_proof(index, size=size, read=STORE) == path(index, DATA[:size])


@pytest.mark.parametrize("new_size", range(1, MAX_SIZE + 1))
def test_consistency_proof_matches_reference_for_every_old_size(new_size: int) -> None:
    for old_size in range(1, new_size):
        got = consistency_proof(old_size, new_size=new_size, read=STORE)
        assert got == proof(old_size, DATA[:new_size])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 21, 34, 55, 64, 70])
def test_each_computation_is_one_round_trip_inside_the_tree(size: int) -> None:
    reader = RecordingReader(STORE)
    root(size, read=reader)
    for index in range(size):
        inclusion_proof(index, size=size, read=reader)
    for old_size in range(1, size):
        consistency_proof(old_size, new_size=size, read=reader)
    # One call per computation; zero only for the one-leaf inclusion proof (nothing to read).
    assert len(reader.calls) == 1 + size + (size - 1) - (size == 1)
    for keys in reader.calls:
        assert len(keys) == len(set(keys))
        # Nodes beyond the requested size are not final yet for that size: never read them.
        assert all((index + 1) << level <= size for level, index in keys)


def test_consistency_without_anything_to_prove_is_empty() -> None:
    assert consistency_proof(0, new_size=9, read=STORE) == []
    assert consistency_proof(9, new_size=9, read=STORE) == []


def test_missing_nodes_are_reported() -> None:
    small = InMemoryNodeStore.from_leaf_hashes([leaf_hash(d) for d in DATA[:5]])
    with pytest.raises(NodeMissing) as excinfo:
        inclusion_proof(0, size=7, read=small)
    assert (0, 6) in excinfo.value.keys


@pytest.mark.parametrize(("index", "size"), [(0, 0), (5, 5), (-1, 3), (True, 3), (0, -1)])
def test_inclusion_proof_refuses_impossible_coordinates(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proof(index, size=size, read=STORE)


def test_consistency_proof_refuses_shrinking_trees() -> None:
    with pytest.raises(ValueError):
        consistency_proof(5, new_size=4, read=STORE)
    with pytest.raises(ValueError):
        root(-1, read=STORE)
