"""Benchmark the disclosure-log Merkle tree with the in-memory node store.

Run: .venv/bin/python bench/bench_merkle.py [--leaves 10000000]

Only pure computation is measured; the SQL node store adds one round trip per proof. No
issue names a target for these figures (the log targets are measured on PostgreSQL by
``bench_log.py``), so this script prints no ``TARGET`` line; its rows are the compute floor
under those targets.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broker.ledger import (
    InMemoryNodeStore,
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


def parse_args() -> argparse.Namespace:
    """Command-line options; every size can be scaled down for a quick run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaves", type=int, default=10_000_000, help="tree size for proofs")
    parser.add_argument("--append-leaves", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=100, help="leaves per append_batch")
    parser.add_argument("--builder-leaves", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=10_000, help="proofs per latency row")
    parser.add_argument("--seed", type=int, default=2025)
    return parser.parse_args()


def synthetic_leaf_hashes(count: int) -> list[bytes]:
    """Distinct leaf hashes, made with hashlib directly so building stays fast."""
    sha256 = hashlib.sha256
    return [sha256(b"\x00" + i.to_bytes(8, "big")).digest() for i in range(count)]


def rate(count: int, seconds: float) -> str:
    """Format a throughput."""
    return f"{count / seconds:,.0f} leaves/s"


def latency_us(samples: int, call: Callable[[], object]) -> tuple[float, float]:
    """Return p50 and p99 of ``call`` in microseconds."""
    timings = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        call()
        timings.append((time.perf_counter_ns() - start) / 1000)
    cuts = statistics.quantiles(timings, n=100)
    return cuts[49], cuts[98]


def latency_row(name: str, timings: tuple[float, float]) -> tuple[str, str]:
    """A table row for a p50 / p99 pair."""
    return (f"{name} p50 / p99", f"{timings[0]:.1f} / {timings[1]:.1f} µs")


def bench_appends(count: int, batch: int) -> list[tuple[str, str]]:
    """Leaf-by-leaf and batched appends into an empty store."""
    leaves = synthetic_leaf_hashes(count)
    store = InMemoryNodeStore()
    start = time.perf_counter()
    for n, leaf in enumerate(leaves):
        store.put(completed_nodes(n, leaf_hash=leaf, read=store))
    single = time.perf_counter() - start
    store = InMemoryNodeStore()
    start = time.perf_counter()
    for first in range(0, count, batch):
        store.put(append_batch(first, leaf_hashes=leaves[first : first + batch], read=store))
    batched = time.perf_counter() - start
    return [
        (f"append, one leaf per call ({count:,} leaves, incl. store.put)", rate(count, single)),
        (f"append_batch of {batch} ({count:,} leaves, incl. store.put)", rate(count, batched)),
    ]


def bench_proofs(size: int, samples: int, rng: random.Random) -> list[tuple[str, str]]:
    """Build a tree of ``size`` leaves level by level, then time proofs at that size."""
    start = time.perf_counter()
    leaves = synthetic_leaf_hashes(size)
    store = InMemoryNodeStore.from_leaf_hashes(leaves)
    built = time.perf_counter() - start
    head = root(size, read=store)
    indices = iter([rng.randrange(size) for _ in range(samples)])
    olds = iter([rng.randrange(1, size) for _ in range(samples)])
    index, old = rng.randrange(size), rng.randrange(1, size)
    old_root = root(old, read=store)
    proof = inclusion_proof(index, size=size, read=store)
    cproof = consistency_proof(old, new_size=size, read=store)
    return [
        (f"build {size:,}-leaf store level by level", f"{built:.1f} s"),
        latency_row(f"root({size:,})", latency_us(samples, lambda: root(size, read=store))),
        latency_row(
            f"inclusion_proof at size {size:,}",
            latency_us(samples, lambda: inclusion_proof(next(indices), size=size, read=store)),
        ),
        latency_row(
            f"consistency_proof to size {size:,}",
            latency_us(samples, lambda: consistency_proof(next(olds), new_size=size, read=store)),
        ),
        latency_row(
            f"verify_inclusion ({len(proof)} hashes)",
            latency_us(
                samples,
                lambda: verify_inclusion(
                    leaves[index], index=index, size=size, proof=proof, root=head
                ),
            ),
        ),
        latency_row(
            f"verify_consistency ({len(cproof)} hashes)",
            latency_us(
                samples,
                lambda: verify_consistency(
                    old, new_size=size, old_root=old_root, new_root=head, proof=cproof
                ),
            ),
        ),
    ]


def bench_builder(count: int) -> list[tuple[str, str]]:
    """Stream leaf hashes through TreeBuilder as ``broker log verify`` will."""
    leaves = synthetic_leaf_hashes(count)
    builder = TreeBuilder()
    start = time.perf_counter()
    produced = 0
    for leaf in leaves:
        produced += len(builder.append(leaf))
    builder.root()
    elapsed = time.perf_counter() - start
    # The verify command also re-hashes each stored body into its leaf hash.
    bodies = [b'{"kind":"query","seq":%d,"org":"veilig-thuis-utrecht"}' % i for i in range(count)]
    start = time.perf_counter()
    for body in bodies:
        leaf_hash(body)
    hashing = time.perf_counter() - start
    return [
        (f"TreeBuilder over {count:,} leaf hashes ({produced:,} nodes)", rate(count, elapsed)),
        (f"TreeBuilder, {count:,} leaves total", f"{elapsed:.2f} s"),
        (f"leaf_hash of {count:,} ~60-byte bodies", f"{hashing:.2f} s"),
    ]


def main() -> None:
    """Run every benchmark and print one markdown table."""
    args = parse_args()
    rng = random.Random(args.seed)
    rows = bench_appends(args.append_leaves, args.batch)
    rows += bench_builder(args.builder_leaves)
    rows += bench_proofs(args.leaves, args.samples, rng)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    rows.append(("peak RSS", f"{peak:.1f} GiB"))
    print("| measurement | result |")
    print("| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
