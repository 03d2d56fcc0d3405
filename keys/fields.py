"""Field encryption with versioned keys: the active version writes, every live version reads."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.errors import DecryptionFailed, KeyVersionError
from keys.keystore import Keystore
from keys.types import Rng

_FORMAT = 1
_HEADER = struct.Struct(">BI")  # format byte, key version
_NONCE_BYTES = 12
_TAG_BYTES = 16
_PREFIX = _HEADER.size + _NONCE_BYTES
_MIN_BLOB = _PREFIX + _TAG_BYTES


class FieldCipher:
    """AES-256-GCM for single fields: format byte, 4-byte version, 12-byte nonce, ciphertext."""

    def __init__(self, keystore: Keystore, *, rng: Rng = os.urandom) -> None:
        self._keystore = keystore
        self._rng = rng

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> bytes:
        """Encrypt under the active key version, binding aad (e.g. table, column and row id)."""
        version = self._keystore.active_version
        header = _HEADER.pack(_FORMAT, version)
        nonce = self._rng(_NONCE_BYTES)
        if len(nonce) != _NONCE_BYTES:
            raise ValueError("the random source returned the wrong number of bytes")
        # The header is authenticated too, so a blob cannot be relabelled to another version.
        aead = AESGCM(self._keystore.field_key(version))
        return header + nonce + aead.encrypt(nonce, plaintext, header + aad)

    def decrypt(self, blob: bytes, *, aad: bytes) -> bytes:
        """Decrypt a blob written under any live version; raise DecryptionFailed otherwise."""
        version = self.key_version(blob)
        header, nonce = blob[: _HEADER.size], blob[_HEADER.size : _HEADER.size + _NONCE_BYTES]
        try:
            aead = AESGCM(self._keystore.field_key(version))
            return aead.decrypt(nonce, blob[_HEADER.size + _NONCE_BYTES :], header + aad)
        except (InvalidTag, KeyVersionError) as err:
            raise DecryptionFailed("field cannot be decrypted") from err

    def key_version(self, blob: bytes) -> int:
        """Return the key version a blob was written under."""
        if len(blob) < _MIN_BLOB:
            raise DecryptionFailed("field cannot be decrypted")
        form, version = _HEADER.unpack_from(blob)
        if form != _FORMAT:
            raise DecryptionFailed("field cannot be decrypted")
        return int(version)

    def reencrypt(self, blob: bytes, *, aad: bytes) -> bytes:
        """Return the blob under the active version (unchanged if it already is, once verified)."""
        plaintext = self.decrypt(blob, aad=aad)
        if self.key_version(blob) == self._keystore.active_version:
            return blob
        return self.encrypt(plaintext, aad=aad)

    def decrypt_many(self, items: Iterable[tuple[bytes, bytes]]) -> list[bytes]:
        """Decrypt ``(blob, aad)`` pairs written under any live versions, in order.

        The same as ``decrypt`` on each, for re-keying millions of fields: the key schedule
        is set up once per version rather than once per blob, which was most of the cost.
        Raises DecryptionFailed on the first blob that does not decrypt.
        """
        ciphers: dict[int, AESGCM] = {}
        plaintexts: list[bytes] = []
        for blob, aad in items:
            version = self.key_version(blob)
            try:
                aead = ciphers.get(version)
                if aead is None:
                    aead = ciphers[version] = AESGCM(self._keystore.field_key(version))
                plaintexts.append(
                    aead.decrypt(
                        blob[_HEADER.size : _PREFIX], blob[_PREFIX:], blob[: _HEADER.size] + aad
                    )
                )
            except (InvalidTag, KeyVersionError) as err:
                raise DecryptionFailed("field cannot be decrypted") from err
        return plaintexts

    def encrypt_many(self, items: Sequence[tuple[bytes, bytes]], *, version: int) -> list[bytes]:
        """Encrypt ``(plaintext, aad)`` pairs under ``version``, which must be the active one.

        The same as ``encrypt`` on each, with one key schedule and one call to the random
        source for the whole batch. Naming the version makes a batch planned before a
        rotation was loaded fail (KeyVersionError) instead of mixing versions in one row.
        """
        if version != self._keystore.active_version:
            raise KeyVersionError("the key version to encrypt under is not the active one")
        header = _HEADER.pack(_FORMAT, version)
        aead = AESGCM(self._keystore.field_key(version))
        randomness = self._rng(_NONCE_BYTES * len(items))
        if len(randomness) != _NONCE_BYTES * len(items):
            raise ValueError("the random source returned the wrong number of bytes")
        blobs: list[bytes] = []
        for index, (plaintext, aad) in enumerate(items):
            nonce = randomness[index * _NONCE_BYTES : (index + 1) * _NONCE_BYTES]
            blobs.append(header + nonce + aead.encrypt(nonce, plaintext, header + aad))
        return blobs

    def seal_json(self, payload: Mapping[str, Any], *, aad: bytes) -> bytes:
        """Encrypt a JSON object."""
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return self.encrypt(text.encode("utf-8"), aad=aad)

    def open_json(self, blob: bytes, *, aad: bytes) -> dict[str, Any]:
        """Decrypt a blob made by seal_json."""
        try:
            payload = json.loads(self.decrypt(blob, aad=aad))
        except ValueError as err:
            raise DecryptionFailed("field cannot be decrypted") from err
        if not isinstance(payload, dict):
            raise DecryptionFailed("field cannot be decrypted")
        return payload
