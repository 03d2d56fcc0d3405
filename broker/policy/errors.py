"""Errors raised by the policy layer, as part of the broker's one error hierarchy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from broker.errors import BrokerError, InvalidRequest


class PolicyConfigError(BrokerError):
    """A policy file (model, rules, purposes, categories) is missing or inconsistent."""

    status = 500
    slug = "policy-config"
    title = "Policy configuration invalid"


class UnknownPurpose(InvalidRequest):
    """The purpose is not in the purposes catalogue."""

    slug = "unknown-purpose"
    title = "Unknown purpose"

    def __init__(self, known: Iterable[str]) -> None:
        # The caller's string is not echoed: a confused client may send anything there.
        super().__init__(f"Unknown purpose; expected one of: {', '.join(sorted(known))}")


class UnknownCategory(InvalidRequest):
    """The data category is not in the categories catalogue."""

    slug = "unknown-category"
    title = "Unknown data category"

    def __init__(self, known: Iterable[str]) -> None:
        super().__init__(f"Unknown data category; expected one of: {', '.join(sorted(known))}")


class InvalidPayload(InvalidRequest):
    """A signal payload does not match its category's fields; messages never hold values."""

    slug = "invalid-payload"
    title = "Invalid signal payload"

    def __init__(self, field_errors: Mapping[str, str]) -> None:
        super().__init__("The payload has invalid fields", field_errors=dict(field_errors))
        self.field_errors: dict[str, str] = dict(field_errors)
