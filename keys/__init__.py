"""Pseudonyms, field encryption and key custody for the broker; no web or database code here.

The OPRF client side (blind, unblind, finalize) lives in keys.oprf.
"""

from keys.clock import Clock, SystemClock
from keys.custody import FileCustody, RootCustody, StaticCustody
from keys.errors import (
    DecryptionFailed,
    InvalidElement,
    InvalidIdentifier,
    KeysError,
    KeystoreExists,
    KeystoreLocked,
    KeystoreNotFound,
    KeyVersionError,
)
from keys.fields import FieldCipher
from keys.identifiers import (
    BsnIdentifier,
    NameIdentifier,
    PersonIdentifier,
    canonical_bytes,
    is_valid_bsn,
    parse_bsn,
)
from keys.keystore import Keystore
from keys.material import KeyMaterial, KeyState, KeyVersion, VersionInfo
from keys.pseudonyms import Pseudonymiser
from keys.types import IndexToken, LogPseudonym, MatchingPseudonym, ReleasePseudonym

__all__ = [
    "BsnIdentifier",
    "Clock",
    "DecryptionFailed",
    "FieldCipher",
    "FileCustody",
    "IndexToken",
    "InvalidElement",
    "InvalidIdentifier",
    "KeyMaterial",
    "KeyState",
    "KeyVersion",
    "KeyVersionError",
    "KeysError",
    "Keystore",
    "KeystoreExists",
    "KeystoreLocked",
    "KeystoreNotFound",
    "LogPseudonym",
    "MatchingPseudonym",
    "NameIdentifier",
    "PersonIdentifier",
    "Pseudonymiser",
    "ReleasePseudonym",
    "RootCustody",
    "StaticCustody",
    "SystemClock",
    "VersionInfo",
    "canonical_bytes",
    "is_valid_bsn",
    "parse_bsn",
]
