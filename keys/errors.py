"""One exception hierarchy for the keys package; messages never carry secrets or identifiers."""

from __future__ import annotations


class KeysError(Exception):
    """Base class for every error raised by the keys package."""


class InvalidIdentifier(KeysError, ValueError):
    """A BSN or name identifier failed validation; the message never echoes the value."""


class InvalidElement(KeysError, ValueError):
    """A group element is malformed, off the prime-order subgroup, or the identity."""


class KeystoreNotFound(KeysError):
    """The custody holds no key material yet."""


class KeystoreExists(KeysError):
    """Refused to create a keystore over existing key material."""


class KeystoreLocked(KeysError):
    """The key material could not be unlocked: wrong passphrase, or a damaged file."""


class KeyVersionError(KeysError):
    """A key version is unknown, retired, or may not change state as asked."""


class DecryptionFailed(KeysError):
    """A field blob could not be decrypted; deliberately says nothing more."""
