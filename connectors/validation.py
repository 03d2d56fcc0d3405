"""Checking a draft locally, as the broker would, so one bad row never sinks a whole batch.

The rules come from the same policy files the broker loads (``policies/categories.toml``):
the category must exist and be registrable by the organisation's type, the payload must
have the category's fields and types, and the expiry must lie within the next two years.
Identifiers were checked when the mapping built them (the BSN 11-proef).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broker.policy import Catalogue, InvalidPayload, OrgType, UnknownCategory
from connectors.errors import RowInvalid
from connectors.models import SignalDraft
from policies import POLICY_DIR

# The VIR maximum, which the broker enforces on every registration.
MAX_EXPIRY = timedelta(days=730)
MAX_PERSONS = 20


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RowValidator:
    """The broker's registration rules for one organisation type, applied before sending."""

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        org_type: str,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._catalogue = catalogue
        self._org_type = OrgType(org_type)
        self._clock = clock

    @classmethod
    def from_policy_dir(
        cls, *, org_type: str, directory: Path = POLICY_DIR, clock: Callable[[], datetime] = _utcnow
    ) -> RowValidator:
        """A validator reading ``categories.toml`` and ``purposes.toml`` from ``directory``."""
        return cls(Catalogue.from_dir(directory), org_type=org_type, clock=clock)

    def check(self, draft: SignalDraft) -> SignalDraft:
        """The draft with its payload cleaned; raise ``RowInvalid`` naming every problem."""
        try:
            category = self._catalogue.category(draft.category)
        except UnknownCategory:
            raise RowInvalid("unknown category") from None
        problems: list[str] = []
        if not category.may_register(self._org_type):
            problems.append(f"{self._org_type.value} may not register {draft.category}")
        if draft.embargo and not category.embargo_allowed:
            problems.append(f"{draft.category} cannot be embargoed")
        if not 1 <= len(draft.persons) <= MAX_PERSONS:
            problems.append(f"a signal names 1 to {MAX_PERSONS} persons")
        problems += self._expiry_problems(draft.expires_at)
        payload = draft.payload
        try:
            payload = dict(category.validate_payload(draft.payload))
        except InvalidPayload as exc:
            problems += [f"{name}: {message}" for name, message in exc.field_errors.items()]
        if problems:
            raise RowInvalid(*problems)
        return dataclasses.replace(draft, payload=payload)

    def _expiry_problems(self, expires_at: datetime | None) -> list[str]:
        if expires_at is None:
            return []
        if expires_at.tzinfo is None:
            return ["expiry has no time zone"]
        now = self._clock()
        if expires_at <= now:
            return ["already expired: the registration's term has passed"]
        if expires_at > now + MAX_EXPIRY:
            return ["expiry lies more than two years ahead"]
        return []
