"""Injected time, so expiry, deadlines and rotation are testable without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


def as_utc(moment: datetime) -> datetime:
    """A stored time as UTC-aware: SQLite hands back naive datetimes, all stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Clock(Protocol):
    """Source of the current time (UTC, timezone-aware)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to; for tests and demos."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        """Return the frozen time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._now += delta
