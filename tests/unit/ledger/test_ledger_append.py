"""Appends, batches, the streaming builder and the in-memory store agree with each other."""

from __future__ import annotations

import random

import pytest
from rfc9162_reference import RecordingReader, mth, mth_of_leaf_hashes

from broker.ledger import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    Node,
    NodeMissing,
    TreeBuilder,
    append_batch,
    completed_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)


def _leaves(count: int, *, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [leaf_hash(rng.randbytes(rng.randrange(1, 64))) for _ in range(count)]


def _all_nodes(store: InMemoryNodeStore, size: int) -> dict[tuple[int, int], bytes]:
    keys = [(level, i) for level in range(size.bit_length()) for i in range(size >> level)]
    return dict(store.get_nodes(keys))


def test_completed_nodes_reads_only_the_left_siblings_it_needs() -> None:
    leaves = _leaves(64, seed=1)
    store = InMemoryNodeStore()
    for n, leaf in enumerate(leaves):
        reader = RecordingReader(store)
        nodes = completed_nodes(n, leaf_hash=leaf, read=reader)
        # Leaf n completes one node per trailing one bit of n, plus the leaf itself.
        trailing_ones = (n ^ (n + 1)).bit_length() - 1
        assert [node.level for node in nodes] == list(range(trailing_ones + 1))
        assert all(node.index == n >> node.level for node in nodes)
        assert reader.calls == ([[(lvl, (n >> lvl) - 1) for lvl in range(trailing_ones)]]
                                if trailing_ones else [])  # fmt: skip
        store.put(nodes)
        assert root(n + 1, read=store) == mth_of_leaf_hashes(leaves[: n + 1])
    assert _all_nodes(store, 64) == _all_nodes(InMemoryNodeStore.from_leaf_hashes(leaves), 64)


@pytest.mark.parametrize("seed", range(8))
def test_random_batches_build_the_same_tree_as_level_by_level(seed: int) -> None:
    rng = random.Random(seed)
    leaves = _leaves(rng.randrange(1, 1500), seed=seed)
    store = InMemoryNodeStore()
    size = 0
    while size < len(leaves):
        batch = leaves[size : size + rng.choice([1, 2, 3, 7, 16, 33, 200])]
        reader = RecordingReader(store)
        nodes = append_batch(size, leaf_hashes=batch, read=reader)
        assert len(reader.calls) <= 1
        # The batch reads only old frontier nodes, never a node it computes itself.
        computed = {node.key for node in nodes}
        assert not computed & {key for call in reader.calls for key in call}
        assert all((i + 1) << level <= size for call in reader.calls for level, i in call)
        store.put(nodes)
        size += len(batch)
    expected = InMemoryNodeStore.from_leaf_hashes(leaves)
    assert _all_nodes(store, size) == _all_nodes(expected, size)


@pytest.mark.parametrize("seed", range(5))
def test_random_proofs_verify_against_streamed_roots(seed: int) -> None:
    rng = random.Random(1000 + seed)
    leaves = _leaves(rng.randrange(2, 5000), seed=seed)
    store = InMemoryNodeStore.from_leaf_hashes(leaves)
    builder = TreeBuilder()
    roots = [builder.root()]
    for leaf in leaves:
        builder.append(leaf)
        roots.append(builder.root())
    assert builder.size == len(leaves)
    assert builder.root() == mth_of_leaf_hashes(leaves)
    for _ in range(200):
        size = rng.randrange(1, len(leaves) + 1)
        index = rng.randrange(size)
        old = rng.randrange(0, size + 1)
        assert root(size, read=store) == roots[size]
        assert verify_inclusion(
            leaves[index], index=index, size=size,
            proof=inclusion_proof(index, size=size, read=store), root=roots[size],
        )  # fmt: skip
        assert verify_consistency(
            old, new_size=size, old_root=roots[old], new_root=roots[size],
            proof=consistency_proof(old, new_size=size, read=store),
        )  # fmt: skip


def test_tree_builder_reports_the_stored_nodes() -> None:
    data = [bytes([i]) for i in range(37)]
    leaves = [leaf_hash(d) for d in data]
    builder = TreeBuilder()
    assert builder.root() == EMPTY_ROOT
    produced = builder.extend(leaves)
    assert builder.root() == mth(data)
    store = InMemoryNodeStore.from_leaf_hashes(leaves)
    assert {n.key: n.hash for n in produced} == _all_nodes(store, 37)
    with pytest.raises(ValueError):
        builder.append(b"too short")


def test_store_refuses_gaps_and_forks() -> None:
    store = InMemoryNodeStore()
    leaf = leaf_hash(b"a")
    store.put([Node(0, 0, leaf)])
    store.put([Node(0, 0, leaf)])  # idempotent
    with pytest.raises(ValueError, match="another hash"):
        store.put([Node(0, 0, leaf_hash(b"b"))])
    with pytest.raises(ValueError, match="gap"):
        store.put([Node(0, 2, leaf)])
    assert store.size == 1


def test_append_needs_the_old_frontier() -> None:
    with pytest.raises(NodeMissing):
        completed_nodes(3, leaf_hash=leaf_hash(b"x"), read=InMemoryNodeStore())
    with pytest.raises(ValueError):
        append_batch(0, leaf_hashes=[b"not a hash"], read=InMemoryNodeStore())
