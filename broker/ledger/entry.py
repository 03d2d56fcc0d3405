"""Canonical encoding of a disclosure-log entry body into leaf data.

Leaf data is the canonical JSON of the entry body, and the tree stores only
``leaf_hash(leaf data)``. That split is what makes retention possible: when a body's
retention period ends the row drops the body but keeps its leaf hash, so every tree head,
inclusion proof and consistency proof that covered it still verifies, while an auditor who
holds a body can recompute its hash and prove it was logged. Canonical bytes matter because
a verifier re-encodes the stored body (possibly in another language) and must hit the
same hash: sorted keys, no whitespace, UTF-8, and only JSON values with one spelling.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from broker.ledger.errors import NotCanonical
from broker.ledger.hashes import leaf_hash

# I-JSON (RFC 7493): integers beyond 2**53 lose precision in JavaScript verifiers.
_MAX_SAFE_INT = 2**53 - 1
# Bodies are flat records; a deep one is a bug, and the limit keeps recursion bounded.
_MAX_DEPTH = 32


def canonical_json(obj: object) -> bytes:
    """Encode a JSON value canonically; raise NotCanonical for values without one spelling."""
    _check(obj, depth=0)
    text = json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form
        raise NotCanonical("string is not valid Unicode") from exc


def entry_leaf_hash(body: Mapping[str, object]) -> bytes:
    """Return the RFC 9162 leaf hash of an entry body."""
    return leaf_hash(canonical_json(body))


def _check(value: object, *, depth: int) -> None:
    """Walk the value and refuse anything whose encoding is ambiguous."""
    if depth > _MAX_DEPTH:
        raise NotCanonical("value nested too deeply")
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise NotCanonical("integer outside the I-JSON safe range")
        return
    if isinstance(value, float):
        # Every float, not just NaN: float spelling differs between languages (1e16 vs
        # 10000000000000000), and no log field needs a fraction.
        raise NotCanonical("floats have no canonical form; use int or str")
    if isinstance(value, list):
        for item in value:
            _check(item, depth=depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical("object keys must be strings")
            _check(item, depth=depth + 1)
        return
    # datetime, bytes, tuple, set, Enum...: the caller must choose a string form explicitly.
    raise NotCanonical(f"{type(value).__name__} is not a JSON value; convert it first")
