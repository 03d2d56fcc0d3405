"""Where the root key material lives: a passphrase-encrypted file, or memory for tests.

An external KMS or HSM plugs in as another RootCustody: see
docs/adr/0003-key-custody-and-threat-model.md.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from keys.errors import KeystoreLocked, KeystoreNotFound
from keys.material import KeyMaterial, decode_material, encode_material
from keys.types import Rng

_FORMAT = "dv-broker-keystore"
_FORMAT_VERSION = 1
_SCRYPT_N = 2**15
_SCRYPT_R = 8
_SCRYPT_P = 1
# Accepted on load, so the cost can be raised later without a migration; a file asking for
# less than the default is refused rather than trusted.
_SCRYPT_N_RANGE = range(15, 21)
_MIN_PASSPHRASE = 12


class RootCustody(Protocol):
    """Loads and stores the root key material."""

    def load(self) -> KeyMaterial:
        """Return the key material; raise KeystoreNotFound or KeystoreLocked."""
        ...

    def store(self, material: KeyMaterial) -> None:
        """Persist the key material, replacing what was there."""
        ...


class SecretValue(Protocol):
    """Anything that hides a secret string, such as pydantic's SecretStr."""

    def get_secret_value(self) -> str:
        """Return the secret."""
        ...


class StaticCustody:
    """In-memory custody for tests and throwaway tools."""

    def __init__(self, material: KeyMaterial | None = None) -> None:
        self._material = material
        self._lock = threading.Lock()

    def load(self) -> KeyMaterial:
        """Return the stored material; raise KeystoreNotFound if there is none."""
        with self._lock:
            if self._material is None:
                raise KeystoreNotFound("no key material stored")
            return self._material

    def store(self, material: KeyMaterial) -> None:
        """Keep material in memory."""
        with self._lock:
            self._material = material


class FileCustody:
    """Key material as AES-256-GCM ciphertext in a JSON file, keyed by scrypt(passphrase)."""

    def __init__(
        self, path: Path | str, passphrase: str | SecretValue, *, rng: Rng = os.urandom
    ) -> None:
        secret = passphrase if isinstance(passphrase, str) else passphrase.get_secret_value()
        if len(secret) < _MIN_PASSPHRASE:
            raise ValueError(f"the keystore passphrase needs at least {_MIN_PASSPHRASE} characters")
        self._path = Path(path)
        self._passphrase = secret.encode("utf-8")
        self._rng = rng

    def __repr__(self) -> str:
        return f"FileCustody(path={str(self._path)!r})"

    def load(self) -> KeyMaterial:
        """Decrypt the file; any failure other than absence is one opaque KeystoreLocked."""
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError as err:
            raise KeystoreNotFound("no keystore file") from err
        try:
            envelope: dict[str, Any] = json.loads(raw)
            header = {key: envelope[key] for key in ("format", "version", "kdf", "cipher")}
            if (header["format"], header["version"], header["cipher"]["name"]) != (
                _FORMAT,
                _FORMAT_VERSION,
                "AES-256-GCM",
            ):
                raise ValueError("unsupported keystore format")
            key = self._derive_key(header["kdf"])
            plaintext = AESGCM(key).decrypt(
                _unb64(header["cipher"]["nonce"]), _unb64(envelope["ciphertext"]), _aad(header)
            )
            return decode_material(plaintext)
        except Exception as err:
            # One error for wrong passphrase, tampering and corruption: callers cannot use the
            # difference, and an attacker guessing passphrases should not get it either.
            raise KeystoreLocked("keystore cannot be unlocked") from err

    def store(self, material: KeyMaterial) -> None:
        """Encrypt material under a fresh salt and nonce and replace the file atomically."""
        nonce = self._rng(12)
        kdf: dict[str, Any] = {
            "name": "scrypt",
            "salt": _b64(self._rng(16)),
            "n": _SCRYPT_N,
            "r": _SCRYPT_R,
            "p": _SCRYPT_P,
        }
        header: dict[str, Any] = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "kdf": kdf,
            "cipher": {"name": "AES-256-GCM", "nonce": _b64(nonce)},
        }
        ciphertext = AESGCM(self._derive_key(kdf)).encrypt(
            nonce, encode_material(material), _aad(header)
        )
        envelope = {**header, "ciphertext": _b64(ciphertext)}
        _write_atomically(self._path, json.dumps(envelope, indent=2).encode("utf-8"))

    def _derive_key(self, kdf: dict[str, Any]) -> bytes:
        n, r, p = kdf["n"], kdf["r"], kdf["p"]
        if kdf["name"] != "scrypt" or n.bit_length() - 1 not in _SCRYPT_N_RANGE or n & (n - 1):
            raise ValueError("unsupported key derivation parameters")
        if r != _SCRYPT_R or p != _SCRYPT_P:
            raise ValueError("unsupported key derivation parameters")
        return Scrypt(salt=_unb64(kdf["salt"]), length=32, n=n, r=r, p=p).derive(self._passphrase)


def _aad(header: dict[str, Any]) -> bytes:
    # Binding the header means a tampered salt, cost or format fails authentication.
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # exactly 0600, whatever the umask
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    # Make the rename itself durable; some filesystems cannot fsync a directory.
    with contextlib.suppress(OSError):
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
