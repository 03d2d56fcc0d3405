"""The connector's one error hierarchy; messages never carry an identifier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class ConnectorError(Exception):
    """Base class of every error the connectors raise."""


class BrokerUnavailable(ConnectorError):
    """The broker could not be reached, or kept answering 429/503, after every retry."""


class BrokerAPIError(ConnectorError):
    """The broker refused a request; ``problem`` is its RFC 9457 body."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        self.status = status
        self.problem = dict(problem)
        detail = self.problem.get("detail") or self.problem.get("title") or "request failed"
        super().__init__(f"{status}: {detail}")


class IdempotencyConflict(BrokerAPIError):
    """The idempotency key was used before for a request with other content."""


@dataclass(frozen=True)
class RowError:
    """One row the broker rejected: its position in the request and why."""

    row: int
    detail: str


class RowsRejected(BrokerAPIError):
    """A bulk registration failed as a whole because of these rows (positions in the call)."""

    def __init__(self, status: int, problem: Mapping[str, Any], rows: Sequence[RowError]) -> None:
        super().__init__(status, problem)
        self.rows = tuple(rows)


class WebhookVerificationError(ConnectorError):
    """A webhook's signature or timestamp does not check out; the event must be dropped."""


class RowInvalid(ConnectorError):
    """A source row cannot become a signal; ``reasons`` name fields, never values."""

    def __init__(self, *reasons: str) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons
