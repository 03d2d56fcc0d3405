"""Signed tree heads as C2SP checkpoints (c2sp.org/tlog-checkpoint) with Ed25519 notes.

Key rotation works like MultiFernet: the current key signs, ``cosign_checkpoint`` lets the
old key sign the same note during the changeover, and a verifier holding either accepts.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from broker.ledger.errors import CheckpointInvalid
from broker.ledger.hashes import HASH_SIZE
from broker.ledger.note import (
    ED25519_SIGNATURE_SIZE,
    NoteVerifier,
    SignatureLine,
    decode_base64,
    parse_vkey,
    sign_text,
    split_note,
)

# Checkpoint sizes are ASCII decimal without leading zeroes; int() alone would also take
# "+5", " 5", "5_0" and non-ASCII digits.
_SIZE = re.compile(r"0|[1-9][0-9]*")

Verifiers = Mapping[bytes, tuple[str, Ed25519PublicKey]] | Iterable[str]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: which log, how many leaves, and the RFC 9162 root over them."""

    origin: str
    size: int
    root_hash: bytes

    def __post_init__(self) -> None:
        if not self.origin or any(ord(c) < 0x20 for c in self.origin):
            raise ValueError("origin must be a non-empty single line")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ValueError("size must be a non-negative int")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"root hash must be {HASH_SIZE} bytes")

    def body(self) -> str:
        """The note text: origin, size and base64 root hash, one per line."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n"


def sign_checkpoint(cp: Checkpoint, *, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """Return the checkpoint as a signed note with one Ed25519 signature."""
    body = cp.body()
    return body + "\n" + sign_text(body, key_name=key_name, private_key=private_key).render()


def cosign_checkpoint(note: str, *, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """Add another signature line to a signed checkpoint, e.g. the old key while rotating."""
    cp, lines = parse_signed_checkpoint(note)
    line = sign_text(cp.body(), key_name=key_name, private_key=private_key)
    if any((s.key_name, s.key_id) == (line.key_name, line.key_id) for s in lines):
        raise ValueError("checkpoint already carries a signature from this key")
    return note + line.render()


def parse_signed_checkpoint(note: str) -> tuple[Checkpoint, list[SignatureLine]]:
    """Parse a signed checkpoint strictly, WITHOUT verifying it; use verify_checkpoint."""
    _, cp, lines = _parse(note)
    return cp, lines


def verify_checkpoint(note: str, *, verifiers: Verifiers, origin: str | None = None) -> Checkpoint:
    """Return the checkpoint if a trusted key signed it; raise CheckpointInvalid otherwise."""
    trusted = {(v.key_name, v.key_id): v for v in _load_verifiers(verifiers)}
    text, cp, lines = _parse(note)
    message = text.encode("utf-8")
    try:
        verified = 0
        for line in lines:
            verifier = trusted.get((line.key_name, line.key_id))
            if verifier is None:
                continue  # the spec requires ignoring unknown keys (witnesses, old keys)
            # A known key with a bad signature voids the whole note, as the spec advises.
            if len(line.signature) != ED25519_SIGNATURE_SIZE:
                raise InvalidSignature
            verifier.public_key.verify(line.signature, message)
            verified += 1
        if not verified:
            raise InvalidSignature
        if origin is not None and cp.origin != origin:
            raise InvalidSignature
    except InvalidSignature as exc:
        raise CheckpointInvalid from exc
    return cp


def _parse(note: str) -> tuple[str, Checkpoint, list[SignatureLine]]:
    """Split and parse a signed checkpoint, keeping the exact text that was signed."""
    try:
        text, lines = split_note(note)
        return text, _parse_body(text), lines
    except ValueError as exc:
        raise CheckpointInvalid from exc


def _parse_body(text: str) -> Checkpoint:
    """Parse the three checkpoint lines; this log writes no extension lines, so none pass."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "" or not _SIZE.fullmatch(lines[1]):
        raise ValueError("malformed checkpoint body")
    return Checkpoint(lines[0], int(lines[1]), decode_base64(lines[2]))


def _load_verifiers(verifiers: Verifiers) -> list[NoteVerifier]:
    """Normalise the trusted keys; a bad or empty set is a configuration error."""
    if isinstance(verifiers, str):
        raise TypeError("verifiers must be a collection of vkeys, not one string")
    if isinstance(verifiers, Mapping):
        loaded = [NoteVerifier(name, key) for name, key in verifiers.values()]
        if any(v.key_id != kid for v, kid in zip(loaded, verifiers.keys(), strict=True)):
            raise ValueError("verifier key hash does not match its name and key")
    else:
        loaded = [parse_vkey(text) for text in verifiers]
    if not loaded:
        # Trusting no key would reject everything; far likelier a wiring mistake.
        raise ValueError("no verifier keys given")
    return loaded
