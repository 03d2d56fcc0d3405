"""Constrained types shared across the keys package."""

from __future__ import annotations

from collections.abc import Callable
from typing import NewType

# The OPRF output y for one person: the pseudonym every other pseudonym is derived from.
MatchingPseudonym = NewType("MatchingPseudonym", bytes)
# HMAC(index_key_v, y): what the database stores and looks up; re-keyed on rotation.
IndexToken = NewType("IndexToken", bytes)
# Shown to one recipient organisation; stable for that recipient, unlinkable across recipients.
ReleasePseudonym = NewType("ReleasePseudonym", str)
# Written to the disclosure log instead of any identifier.
LogPseudonym = NewType("LogPseudonym", str)

# Randomness source: returns n uniformly random bytes (os.urandom in production).
Rng = Callable[[int], bytes]
