"""C2SP signed-note building blocks (c2sp.org/signed-note) for Ed25519 keys only."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519_TYPE = b"\x01"
KEY_ID_SIZE = 4
ED25519_SIGNATURE_SIZE = 64
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
# The spec asks verifiers to cap signatures and to accept at least 16.
MAX_SIGNATURES = 100
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True, slots=True)
class SignatureLine:
    """One parsed signature line: who claims to have signed, and the signature bytes."""

    key_name: str
    key_id: bytes
    signature: bytes

    def render(self) -> str:
        """Format as ``— <name> base64(key id || signature)`` plus newline."""
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.key_name} {blob}\n"


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted Ed25519 key together with the name it signs under."""

    key_name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID that signature lines from this key carry."""
        return key_id(self.key_name, self.public_key)


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty and hold no Unicode space, plus sign or control character."""
    return bool(name) and not any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name)


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    """The 32-byte RFC 8032 encoding of an Ed25519 public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4], as signed-note recommends."""
    material = key_name.encode() + b"\n" + ED25519_TYPE + raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:KEY_ID_SIZE]


def vkey(key_name: str, public_key: Ed25519PublicKey) -> str:
    """Return the verifier key string ``<name>+<hex key id>+<base64(0x01 || key)>``."""
    if not is_valid_key_name(key_name):
        raise ValueError("invalid key name")
    encoded = base64.b64encode(ED25519_TYPE + raw_public_key(public_key)).decode("ascii")
    return f"{key_name}+{key_id(key_name, public_key).hex()}+{encoded}"


def parse_vkey(text: str) -> NoteVerifier:
    """Parse a verifier key string; raise ValueError if it is malformed or inconsistent."""
    # The name holds no "+", but standard base64 may: split at the first two only.
    parts = text.split("+", 2)
    if len(parts) != 3 or not is_valid_key_name(parts[0]) or not _HEX_KEY_ID.fullmatch(parts[1]):
        raise ValueError("malformed verifier key")
    raw = decode_base64(parts[2])
    if len(raw) != 1 + 32 or raw[:1] != ED25519_TYPE:
        raise ValueError("verifier key is not an Ed25519 key")
    verifier = NoteVerifier(parts[0], Ed25519PublicKey.from_public_bytes(raw[1:]))
    if verifier.key_id.hex() != parts[1]:
        raise ValueError("verifier key ID does not match its key")
    return verifier


def sign_text(text: str, *, key_name: str, private_key: Ed25519PrivateKey) -> SignatureLine:
    """Sign note text with an Ed25519 key and return the signature line."""
    if not is_valid_key_name(key_name):
        raise ValueError("invalid key name")
    signature = private_key.sign(text.encode("utf-8"))
    return SignatureLine(key_name, key_id(key_name, private_key.public_key()), signature)


def split_note(note: str) -> tuple[str, list[SignatureLine]]:
    """Split a signed note into its text and signature lines; ValueError if malformed."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise ValueError("control character in note")
    note.encode("utf-8")  # lone surrogates are not UTF-8; UnicodeEncodeError is a ValueError
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise ValueError("no signature block")
    text, block = note[: cut + 1], note[cut + 2 :]
    lines = block[:-1].split("\n") if block else []
    if not lines or len(lines) > MAX_SIGNATURES:
        raise ValueError("wrong number of signatures")
    return text, [_parse_signature_line(line) for line in lines]


def _parse_signature_line(line: str) -> SignatureLine:
    """Parse ``— <name> <base64>`` strictly."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise ValueError("signature line lacks the em dash prefix")
    parts = line[len(SIGNATURE_PREFIX) :].split(" ")
    if len(parts) != 2 or not is_valid_key_name(parts[0]):
        raise ValueError("malformed signature line")
    blob = decode_base64(parts[1])
    if len(blob) <= KEY_ID_SIZE:
        raise ValueError("signature too short")
    return SignatureLine(parts[0], blob[:KEY_ID_SIZE], blob[KEY_ID_SIZE:])


def decode_base64(text: str) -> bytes:
    """Decode standard padded base64, refusing any text that is not its canonical form."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("invalid base64") from exc
    # Non-zero padding bits decode too; re-encoding catches such malleable variants.
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return raw
