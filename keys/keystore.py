"""The keystore: rotating version secrets plus the fixed domain secret, and every derived key."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys import derivation
from keys.clock import Clock, SystemClock
from keys.custody import RootCustody
from keys.errors import KeystoreExists, KeystoreLocked, KeystoreNotFound, KeyVersionError
from keys.material import (
    KeyMaterial,
    KeyState,
    VersionInfo,
    checked_material,
    new_version,
    random_secret,
)
from keys.types import Rng

_T = TypeVar("_T")
# Recipients are organisations, so this never fills in practice; the cap only keeps a caller
# bug from growing the cache without bound.
_MAX_RELEASE_KEYS = 4096


class Keystore:
    """Thread-safe access to key versions and derived keys; changes are persisted first."""

    def __init__(
        self, custody: RootCustody, material: KeyMaterial, *, clock: Clock, rng: Rng
    ) -> None:
        self._custody = custody
        self._clock = clock
        self._rng = rng
        self._lock = threading.RLock()
        self._index_keys: dict[int, bytes] = {}
        self._field_keys: dict[int, bytes] = {}
        self._signing_keys: dict[int, Ed25519PrivateKey] = {}
        self._release_keys: dict[str, bytes] = {}
        self._install(material)
        # The domain secret never changes, so its keys are derived once, up front.
        self._oprf_key = derivation.oprf_key(material.domain_secret)
        self._log_pseudonym_key = derivation.derive(
            material.domain_secret, label=derivation.LOG_PSEUDONYM
        )

    @classmethod
    def create(
        cls, custody: RootCustody, *, clock: Clock | None = None, rng: Rng | None = None
    ) -> Keystore:
        """Generate a new domain secret and version 1; refuse if the custody holds material."""
        clock, rng = clock or SystemClock(), rng or os.urandom
        # Overwriting the domain secret would orphan every pseudonym ever issued, so anything
        # already there, even material we cannot unlock, stops creation.
        try:
            custody.load()
        except KeystoreNotFound:
            pass
        except KeystoreLocked as err:
            raise KeystoreExists("key material already exists") from err
        else:
            raise KeystoreExists("key material already exists")
        first = new_version(1, secret=random_secret(rng), created_at=clock.now())
        material = KeyMaterial(domain_secret=random_secret(rng), versions=(first,))
        custody.store(material)
        return cls(custody, material, clock=clock, rng=rng)

    @classmethod
    def open(
        cls, custody: RootCustody, *, clock: Clock | None = None, rng: Rng | None = None
    ) -> Keystore:
        """Load existing key material from the custody."""
        material = checked_material(custody.load())
        return cls(custody, material, clock=clock or SystemClock(), rng=rng or os.urandom)

    def reload(self) -> None:
        """Re-read the custody, to pick up a rotation done by another process."""
        material = checked_material(self._custody.load())
        if material.domain_secret != self._material.domain_secret:
            raise KeystoreLocked("the domain secret changed underneath a running keystore")
        with self._lock:
            self._install(material)

    @property
    def active_version(self) -> int:
        """Return the version that encrypts and indexes new data."""
        return self._live[0]

    @property
    def live_versions(self) -> tuple[int, ...]:
        """Return the versions that can still decrypt: the active one first, then newest first."""
        return self._live

    @property
    def all_versions(self) -> tuple[VersionInfo, ...]:
        """Return every version ever created, retired ones included, oldest first."""
        return tuple(
            VersionInfo(version=e.version, state=e.state, created_at=e.created_at)
            for e in sorted(self._material.versions, key=lambda e: e.version)
        )

    def rotate(self) -> int:
        """Create a new active version; the previous one becomes reading. Return its number."""
        with self._lock:
            material = self._material
            number = max(e.version for e in material.versions) + 1
            fresh = new_version(
                number, secret=random_secret(self._rng), created_at=self._clock.now()
            )
            demoted = tuple(
                dataclasses.replace(e, state=KeyState.READING) if e.state is KeyState.ACTIVE else e
                for e in material.versions
            )
            self._commit(dataclasses.replace(material, versions=(*demoted, fresh)))
            return number

    def retire(self, version: int) -> None:
        """Drop a reading version's secret for good; only its log public key is kept."""
        with self._lock:
            material = self._material
            entry = material.find(version)
            if entry.state is KeyState.ACTIVE:
                raise KeyVersionError("the active key version cannot be retired")
            if entry.state is KeyState.RETIRED:
                return
            retired = dataclasses.replace(entry, secret=None, state=KeyState.RETIRED)
            versions = tuple(retired if e.version == version else e for e in material.versions)
            self._commit(dataclasses.replace(material, versions=versions))

    def index_key(self, version: int) -> bytes:
        """Return the HMAC key of the blind index for one live version."""
        return self._versioned(
            self._index_keys, version, partial(derivation.derive, label=derivation.INDEX)
        )

    def field_key(self, version: int) -> bytes:
        """Return the AES-256-GCM field key for one live version."""
        return self._versioned(
            self._field_keys, version, partial(derivation.derive, label=derivation.FIELD)
        )

    def log_signing_key(self, version: int) -> Ed25519PrivateKey:
        """Return the Ed25519 log-signing key for one live version."""
        return self._versioned(self._signing_keys, version, derivation.log_signing_key)

    def log_verification_keys(self) -> dict[int, bytes]:
        """Return the raw log public key of every version ever, retired ones included."""
        return {e.version: e.log_public_key for e in self._material.versions}

    def oprf_key(self) -> bytes:
        """Return the OPRF scalar; fixed for the life of the domain secret."""
        return self._oprf_key

    def release_key(self, recipient: str) -> bytes:
        """Return the release-pseudonym HMAC key for one recipient organisation."""
        key = self._release_keys.get(recipient)
        if key is None:
            key = derivation.derive(
                self._material.domain_secret, label=derivation.release_label(recipient)
            )
            with self._lock:
                if len(self._release_keys) >= _MAX_RELEASE_KEYS:
                    self._release_keys.clear()
                self._release_keys[recipient] = key
        return key

    def webhook_secret(self, org_id: str) -> bytes:
        """Return the Standard Webhooks signing secret shared with one organisation."""
        # From the domain secret, so key rotation never breaks a receiver's configuration.
        return derivation.derive(
            self._material.domain_secret, label=derivation.webhook_label(org_id)
        )

    def log_pseudonym_key(self) -> bytes:
        """Return the HMAC key for pseudonyms written to the disclosure log."""
        return self._log_pseudonym_key

    def _versioned(self, cache: dict[int, _T], version: int, derive: Callable[[bytes], _T]) -> _T:
        value = cache.get(version)
        if value is None:
            # Filling under the lock means retire() cannot race a stale key back into the cache.
            with self._lock:
                value = cache.get(version)
                if value is None:
                    value = derive(self._live_secret(version))
                    cache[version] = value
        return value

    def _live_secret(self, version: int) -> bytes:
        secret = self._material.find(version).secret
        if secret is None:
            raise KeyVersionError("key version is retired")
        return secret

    def _commit(self, material: KeyMaterial) -> None:
        # Persist first: if storing fails, the running keystore keeps the state on disk.
        self._custody.store(material)
        self._install(material)

    def _install(self, material: KeyMaterial) -> None:
        reading = sorted(
            (e.version for e in material.versions if e.state is KeyState.READING), reverse=True
        )
        self._material = material
        # Cached because active_version is read on every write; one tuple, swapped whole.
        self._live: tuple[int, ...] = (material.active.version, *reading)
        caches: tuple[dict[int, Any], ...] = (
            self._index_keys,
            self._field_keys,
            self._signing_keys,
        )
        for cache in caches:
            for version in [v for v in cache if v not in self._live]:
                del cache[version]
