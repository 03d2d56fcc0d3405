"""The root key material a custody keeps, and its JSON encoding."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from keys import derivation
from keys.errors import KeystoreLocked, KeyVersionError
from keys.types import Rng

SECRET_BYTES = 32


class KeyState(StrEnum):
    """Lifecycle of a key version: one writes, every live one reads, retired ones only verify."""

    ACTIVE = "active"
    READING = "reading"
    RETIRED = "retired"


@dataclass(frozen=True)
class KeyVersion:
    """One rotating secret; its log public key outlives the secret so old logs still verify."""

    version: int
    secret: bytes | None = field(repr=False)
    created_at: datetime
    state: KeyState
    log_public_key: bytes

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError("key versions start at 1")
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        if (self.secret is None) != (self.state is KeyState.RETIRED):
            raise ValueError("exactly the retired versions have no secret")
        if self.secret is not None and len(self.secret) != SECRET_BYTES:
            raise ValueError("a version secret is 32 bytes")
        if len(self.log_public_key) != 32:
            raise ValueError("a log public key is 32 bytes")


@dataclass(frozen=True)
class KeyMaterial:
    """The domain secret (never rotated) and the rotating versions, exactly one active."""

    domain_secret: bytes = field(repr=False)
    versions: tuple[KeyVersion, ...]

    def __post_init__(self) -> None:
        if len(self.domain_secret) != SECRET_BYTES:
            raise ValueError("the domain secret is 32 bytes")
        numbers = [entry.version for entry in self.versions]
        if len(set(numbers)) != len(numbers):
            raise ValueError("key versions must be unique")
        if sum(entry.state is KeyState.ACTIVE for entry in self.versions) != 1:
            raise ValueError("exactly one key version must be active")

    @property
    def active(self) -> KeyVersion:
        """Return the version that encrypts and indexes new data."""
        return next(entry for entry in self.versions if entry.state is KeyState.ACTIVE)

    def find(self, version: int) -> KeyVersion:
        """Return one version; raise KeyVersionError if it never existed."""
        for entry in self.versions:
            if entry.version == version:
                return entry
        raise KeyVersionError("unknown key version")


@dataclass(frozen=True)
class VersionInfo:
    """Public facts about one key version (no secrets)."""

    version: int
    state: KeyState
    created_at: datetime


def new_version(number: int, *, secret: bytes, created_at: datetime) -> KeyVersion:
    """Return a fresh active version, with its log public key derived from the secret."""
    return KeyVersion(
        version=number,
        secret=secret,
        created_at=created_at,
        state=KeyState.ACTIVE,
        log_public_key=derivation.log_public_key(secret),
    )


def random_secret(rng: Rng) -> bytes:
    """Draw a 32-byte secret, refusing a random source that returns the wrong length."""
    secret = rng(SECRET_BYTES)
    if len(secret) != SECRET_BYTES:
        raise ValueError("the random source returned the wrong number of bytes")
    return secret


def checked_material(material: KeyMaterial) -> KeyMaterial:
    """Return material unchanged if every log public key matches its secret."""
    # A mismatch means the material was altered or mixed up after it was written.
    for entry in material.versions:
        secret = entry.secret
        if secret is not None and derivation.log_public_key(secret) != entry.log_public_key:
            raise KeystoreLocked("key material is inconsistent")
    return material


def encode_material(material: KeyMaterial) -> bytes:
    """Serialise key material to JSON bytes (plaintext: only ever encrypt or wrap it)."""
    document = {
        "domain_secret": _b64(material.domain_secret),
        "versions": [
            {
                "version": entry.version,
                "secret": None if entry.secret is None else _b64(entry.secret),
                "created_at": entry.created_at.isoformat(),
                "state": entry.state.value,
                "log_public_key": _b64(entry.log_public_key),
            }
            for entry in material.versions
        ],
    }
    return json.dumps(document, sort_keys=True).encode("utf-8")


def decode_material(data: bytes) -> KeyMaterial:
    """Parse key material from JSON bytes; raise ValueError, KeyError or TypeError if malformed."""
    document: dict[str, Any] = json.loads(data)
    return KeyMaterial(
        domain_secret=_unb64(document["domain_secret"]),
        versions=tuple(
            KeyVersion(
                version=int(entry["version"]),
                secret=None if entry["secret"] is None else _unb64(entry["secret"]),
                created_at=datetime.fromisoformat(entry["created_at"]),
                state=KeyState(entry["state"]),
                log_public_key=_unb64(entry["log_public_key"]),
            )
            for entry in document["versions"]
        ),
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
