"""Public JWKs for Ed25519 keys, with RFC 7638 thumbprints as key ids."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ed25519_public_jwk(public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The public JWK of ``public_key`` with its thumbprint as ``kid``."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    essential = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    thumbprint = hashlib.sha256(
        json.dumps(essential, sort_keys=True, separators=(",", ":")).encode()
    ).digest()
    return {**essential, "kid": _b64url(thumbprint), "alg": "EdDSA", "use": "sig"}
