"""Who signs checkpoints: the keystore's log-signing key of the active version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from broker.ledger import vkey


class CheckpointSigner(Protocol):
    """Signs tree heads and lists every key that ever did, for verification."""

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """The key name and private key that sign new checkpoints."""
        ...

    def verifier_keys(self) -> list[str]:
        """Verifier key strings of every version, retired ones included."""
        ...


@dataclass(frozen=True)
class KeystoreSigner:
    """Checkpoint signing backed by ``keys.Keystore`` (one key per key version)."""

    keystore: object
    origin: str

    def key_name(self, version: int) -> str:
        """The note key name of one key version."""
        return f"{self.origin}/v{version}"

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """The active version's key."""
        version: int = self.keystore.active_version  # type: ignore[attr-defined]
        key: Ed25519PrivateKey = self.keystore.log_signing_key(version)  # type: ignore[attr-defined]
        return self.key_name(version), key

    def verifier_keys(self) -> list[str]:
        """Every version's verifier key."""
        raw: dict[int, bytes] = self.keystore.log_verification_keys()  # type: ignore[attr-defined]
        return [
            vkey(self.key_name(version), Ed25519PublicKey.from_public_bytes(public))
            for version, public in sorted(raw.items())
        ]
