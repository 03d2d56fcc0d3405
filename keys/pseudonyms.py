"""Pseudonyms derived from the OPRF output y: index tokens, release and log pseudonyms."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from keys import oprf
from keys.errors import KeyVersionError
from keys.identifiers import PersonIdentifier, canonical_bytes
from keys.keystore import Keystore
from keys.types import IndexToken, LogPseudonym, MatchingPseudonym, ReleasePseudonym

_Y_BYTES = 32
# 128 bits: no collisions to speak of among tens of millions of people, and short to show.
_RENDERED_BYTES = 16
# RFC 4648 base32, lower case, two characters per 10-bit chunk: base64.b32encode is pure
# Python in 3.11 and was a third of the cost of a release pseudonym.
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_PAIRS = tuple(first + second for first in _BASE32 for second in _BASE32)
_SHIFTS = tuple(range(120, -1, -10))


class Pseudonymiser:
    """Turns identifiers into the matching pseudonym y, and y into purpose-bound pseudonyms."""

    def __init__(self, keystore: Keystore) -> None:
        self._keystore = keystore

    def matching_pseudonym(self, identifier: PersonIdentifier) -> MatchingPseudonym:
        """Return y = OPRF(identifier), evaluated directly on the server."""
        return MatchingPseudonym(
            oprf.evaluate_direct(self._keystore.oprf_key(), canonical_bytes(identifier))
        )

    def evaluate_blinded(self, element: bytes) -> bytes:
        """Evaluate a client's blinded element; the caller rate-limits and logs this."""
        return oprf.evaluate(self._keystore.oprf_key(), element)

    def index_token(self, y: MatchingPseudonym, *, version: int | None = None) -> IndexToken:
        """Return the blind-index token HMAC(index_key_v, y), for the active version by default."""
        number = self._keystore.active_version if version is None else version
        return IndexToken(hmac.digest(self._keystore.index_key(number), _checked(y), "sha256"))

    def index_tokens(self, ys: Iterable[MatchingPseudonym], *, version: int) -> list[IndexToken]:
        """Return ``index_token(y, version=version)`` for each y, fetching the key once."""
        key = self._keystore.index_key(version)
        return [IndexToken(hmac.digest(key, _checked(y), "sha256")) for y in ys]

    def lookup_tokens(self, y: MatchingPseudonym) -> dict[int, IndexToken]:
        """Return one index token per live version, so lookups find rows not yet re-keyed."""
        tokens: dict[int, IndexToken] = {}
        for number in self._keystore.live_versions:
            try:
                tokens[number] = self.index_token(y, version=number)
            except KeyVersionError:
                # Retired by a reload between listing and deriving: nothing is stored under
                # it any more (retirement waits for that), so it is safe to skip.
                continue
        return tokens

    def release_pseudonym(self, y: MatchingPseudonym, *, recipient: str) -> ReleasePseudonym:
        """Return the pseudonym under which one recipient organisation sees this person."""
        key = self._keystore.release_key(recipient)
        return ReleasePseudonym("rp_" + _render(hmac.digest(key, _checked(y), "sha256")))

    def log_pseudonym(self, y: MatchingPseudonym) -> LogPseudonym:
        """Return the pseudonym that stands for this person in the disclosure log."""
        key = self._keystore.log_pseudonym_key()
        return LogPseudonym("lp_" + _render(hmac.digest(key, _checked(y), "sha256")))


def _checked(y: bytes) -> bytes:
    if len(y) != _Y_BYTES:
        raise ValueError("a matching pseudonym is 32 bytes")
    return y


def _render(mac: bytes) -> str:
    # 128 bits padded with two zero bits to 130 = 13 chunks of 10 bits = 26 characters.
    bits = int.from_bytes(mac[:_RENDERED_BYTES], "big") << 2
    return "".join([_PAIRS[(bits >> shift) & 0x3FF] for shift in _SHIFTS])
