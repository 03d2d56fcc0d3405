"""Fixtures for the keys unit tests: a controllable clock, seeded randomness, a keystore."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from keys import Keystore, StaticCustody


@dataclass
class FakeClock:
    """A clock that only moves when told to."""

    current: datetime = field(default_factory=lambda: datetime(2025, 3, 1, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20250301)


@pytest.fixture
def custody() -> StaticCustody:
    return StaticCustody()


@pytest.fixture
def keystore(custody: StaticCustody, clock: FakeClock, rng: random.Random) -> Keystore:
    return Keystore.create(custody, clock=clock, rng=rng.randbytes)
