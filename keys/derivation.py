"""HKDF-SHA256 derivation of purpose keys; every purpose has its own info label."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys import oprf

_LABEL_PREFIX = b"dv-broker/keys/v1/"

# From a rotating version secret.
INDEX = b"index"
FIELD = b"field"
LOG_SIGNING = b"log-signing"
# From the domain secret, which never rotates.
OPRF = b"oprf"
LOG_PSEUDONYM = b"log-pseudonym"
RELEASE = b"release/"
WEBHOOK = b"webhook/"


def derive(secret: bytes, *, label: bytes, length: int = 32) -> bytes:
    """Derive length bytes for one purpose from a uniformly random secret."""
    # No salt: the inputs are already uniform 32-byte secrets, so HKDF-Extract adds nothing.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=_LABEL_PREFIX + label)
    return hkdf.derive(secret)


def release_label(recipient: str) -> bytes:
    """Return the info label for one recipient's release key."""
    if not recipient or recipient != recipient.strip():
        raise ValueError("a recipient is a non-empty identifier without surrounding spaces")
    # The fixed prefix makes the label injective in the recipient.
    return RELEASE + recipient.encode("utf-8")


def webhook_label(org_id: str) -> bytes:
    """Return the info label for one organisation's webhook-signing secret."""
    if not org_id or org_id != org_id.strip():
        raise ValueError("an organisation is a non-empty identifier without surrounding spaces")
    return WEBHOOK + org_id.encode("utf-8")


def oprf_key(domain_secret: bytes) -> bytes:
    """Derive the OPRF scalar from the domain secret."""
    return oprf.generate_key(derive(domain_secret, label=OPRF, length=64))


def log_signing_key(version_secret: bytes) -> Ed25519PrivateKey:
    """Derive a version's Ed25519 log-signing key."""
    return Ed25519PrivateKey.from_private_bytes(derive(version_secret, label=LOG_SIGNING))


def log_public_key(version_secret: bytes) -> bytes:
    """Return the raw Ed25519 public key matching log_signing_key(version_secret)."""
    return (
        log_signing_key(version_secret)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
