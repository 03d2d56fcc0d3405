"""Key rotation: re-keying stored pseudonyms and fields, retiring old versions, reloading."""

from broker.rotation.rekey import Batch, rekey_batch
from broker.rotation.service import (
    RELOAD_SECONDS,
    Progress,
    RekeyReport,
    rekey_all,
    reload_keys,
    rotate_keys,
)

__all__ = [
    "RELOAD_SECONDS",
    "Batch",
    "Progress",
    "RekeyReport",
    "rekey_all",
    "rekey_batch",
    "reload_keys",
    "rotate_keys",
]
