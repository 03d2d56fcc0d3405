"""An organisation's signing key: short-lived tokens, one per request, and derived secrets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from broker.auth.jwk import ed25519_public_jwk
from broker.auth.tokens import sign_token
from connectors.errors import ConnectorError

DEFAULT_AUDIENCE = "dv-broker"
TOKEN_LIFETIME = timedelta(minutes=2)
_IDEMPOTENCY_CONTEXT = b"dv-broker/connectors/idempotency/v1"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Credentials:
    """Who the connector acts as, and the key that proves it."""

    org_id: str
    private_key: Ed25519PrivateKey = field(repr=False)
    kid: str | None = None
    user: str = "broker-connect"
    roles: Sequence[str] = ("professional",)
    audience: str = DEFAULT_AUDIENCE
    clock: Callable[[], datetime] = _utcnow

    @property
    def key_id(self) -> str:
        """The key id: as given, or the RFC 7638 thumbprint the broker registers by default."""
        return self.kid or str(ed25519_public_jwk(self.private_key.public_key())["kid"])

    def token(self) -> str:
        """A fresh bearer token: the broker accepts each ``jti`` once."""
        return sign_token(
            self.private_key,
            kid=self.key_id,
            org_id=self.org_id,
            user=self.user,
            roles=self.roles,
            audience=self.audience,
            now=self.clock(),
            lifetime=TOKEN_LIFETIME,
        )

    def idempotency_secret(self) -> bytes:
        """A secret only this organisation can derive, so content keys reveal nothing."""
        raw = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return hashlib.sha256(_IDEMPOTENCY_CONTEXT + raw).digest()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Load an unencrypted PEM Ed25519 private key."""
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConnectorError(f"cannot read a private key from {path}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConnectorError(f"{path} does not hold an Ed25519 private key")
    return key


def development_key_path(data_dir: Path, org_id: str) -> Path:
    """Where ``broker init`` keeps the development key of ``org_id``."""
    return data_dir / "dev-keys" / f"{org_id}.pem"
