"""Throughput of the keys hot paths on one core; prints a markdown table.

Run: .venv/bin/python bench/bench_pseudonyms.py --seconds 2
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from itertools import cycle

from keys import FieldCipher, Keystore, MatchingPseudonym, Pseudonymiser, StaticCustody, oprf
from keys.identifiers import BsnIdentifier

_BATCH = 200


def measure(operation: Callable[[], object], *, seconds: float) -> float:
    """Return operations per second, running operation in batches for about seconds."""
    for _ in range(_BATCH):  # warm caches before timing
        operation()
    done, start = 0, time.perf_counter()
    deadline = start + seconds
    while (now := time.perf_counter()) < deadline or done == 0:
        for _ in range(_BATCH):
            operation()
        done += _BATCH
    return done / (now - start)


def valid_bsns(count: int) -> list[BsnIdentifier]:
    """Return count valid BSNs, to feed the OPRF realistic inputs."""
    found: list[BsnIdentifier] = []
    candidate = 100_000_000
    while len(found) < count:
        candidate += 1
        digits = str(candidate)
        checksum = sum(
            w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), digits, strict=True)
        )
        if checksum % 11 == 0:
            found.append(BsnIdentifier(digits))
    return found


def main() -> None:
    """Run every benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per benchmark")
    args = parser.parse_args()

    keystore = Keystore.create(StaticCustody())
    keystore.rotate()  # two live versions, as during a rotation
    pseudonymiser = Pseudonymiser(keystore)
    cipher = FieldCipher(keystore)
    ys = cycle([MatchingPseudonym(os.urandom(32)) for _ in range(1024)])
    bsns = cycle(valid_bsns(1024))
    elements = cycle([oprf.blind(os.urandom(16)).element for _ in range(256)])
    blobs = cycle([cipher.encrypt(os.urandom(256), aad=b"row") for _ in range(256)])
    payload = os.urandom(256)

    p, hmac_target, blind_target = pseudonymiser, ">= 100,000", ">= 5,000"
    rows: list[tuple[str, Callable[[], object], str]] = [
        ("release pseudonym (HMAC)", lambda: p.release_pseudonym(next(ys), recipient="org-a"),
         hmac_target),
        ("log pseudonym (HMAC)", lambda: p.log_pseudonym(next(ys)), hmac_target),
        ("index token, active version", lambda: p.index_token(next(ys)), ""),
        ("lookup tokens, 2 live versions", lambda: p.lookup_tokens(next(ys)), ""),
        ("matching pseudonym, direct OPRF", lambda: p.matching_pseudonym(next(bsns)), ""),
        ("blind evaluation (server side)", lambda: p.evaluate_blinded(next(elements)),
         blind_target),
        ("field encrypt, 256 B", lambda: cipher.encrypt(payload, aad=b"row"), ""),
        ("field decrypt, 256 B", lambda: cipher.decrypt(next(blobs), aad=b"row"), ""),
    ]  # fmt: skip
    print(f"single process, {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}, {args.seconds:g} s per row\n")  # fmt: skip
    print("| operation | ops/s | µs/op | target ops/s |")
    print("|---|---:|---:|---:|")
    for name, operation, target in rows:
        rate = measure(operation, seconds=args.seconds)
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:.1f} | {target} |")


if __name__ == "__main__":
    main()
