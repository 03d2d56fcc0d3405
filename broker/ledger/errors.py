"""Errors raised by the disclosure log library.

They stand alone rather than extend ``broker.errors.BrokerError`` so the ledger stays a
self-contained library; the service layer decides which problem type each one becomes.
"""

from __future__ import annotations

from collections.abc import Iterable


class LedgerError(Exception):
    """Base class of every error this package raises on purpose."""


class NodeMissing(LedgerError):
    """The node store lacks a complete-subtree hash that a computation needs."""

    def __init__(self, keys: Iterable[tuple[int, int]]) -> None:
        # (level, index) pairs are tree coordinates, never personal data, so they may be shown.
        self.keys = tuple(sorted(keys))
        super().__init__(f"node store is missing {len(self.keys)} node(s): {self.keys[:4]}")


class CheckpointInvalid(LedgerError):
    """A signed checkpoint failed to parse or verify; the cause is chained, never shown."""

    def __init__(self) -> None:
        super().__init__("invalid checkpoint")


class NotCanonical(LedgerError, ValueError):
    """A log entry body holds a value that has no single canonical JSON encoding."""
