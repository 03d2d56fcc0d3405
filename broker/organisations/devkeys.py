"""Development signing keys for the example organisations (refused in production).

In a real deployment each organisation signs its own tokens and the broker only holds the
public half (its JWKS). For the embedded default, ``broker init`` creates one key pair per
organisation so ``broker token``, the demo and the tests can act as that organisation.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from broker.errors import NotFound


def key_path(key_dir: Path, org_id: str) -> Path:
    """Where the development key of ``org_id`` lives."""
    return key_dir / f"{org_id}.pem"


def ensure_development_key(key_dir: Path, org_id: str) -> Ed25519PrivateKey:
    """Load the development key of ``org_id``, creating it on first use."""
    path = key_path(key_dir, org_id)
    if path.exists():
        return load_development_key(key_dir, org_id)
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.replace(tmp, path)
    return key


def load_development_key(key_dir: Path, org_id: str) -> Ed25519PrivateKey:
    """Load an existing development key."""
    path = key_path(key_dir, org_id)
    if not path.exists():
        raise NotFound(f"No development key for organisation {org_id!r}; run `broker init`.")
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise NotFound("The development key file does not hold an Ed25519 key.")
    return key
