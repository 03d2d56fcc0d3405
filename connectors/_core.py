"""Sans-IO half of the SDK: request bodies, idempotency keys and answers, for both clients."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.blinding import BlindCache
from connectors.credentials import Credentials
from connectors.errors import (
    BrokerAPIError,
    IdempotencyConflict,
    RowError,
    RowsRejected,
)
from connectors.models import Registered, SignalDraft, plain_identifier
from keys import PersonIdentifier

MAX_BULK = 10_000
_MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class BulkRequest:
    """One bulk registration ready to send: its items' offset, idempotency key and body."""

    offset: int
    key: str
    content: bytes = field(repr=False)


class ClientCore:
    """Everything about a call except sending it: tokens, bodies, keys and errors."""

    def __init__(
        self, base_url: str, credentials: Credentials, *, blind: bool, max_batch: int
    ) -> None:
        if not 1 <= max_batch <= MAX_BULK:
            raise ValueError(f"max_batch must be between 1 and {MAX_BULK}")
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.blind = blind
        self.max_batch = max_batch
        self.cache = BlindCache()

    def url(self, path: str) -> str:
        """The absolute URL of an API path."""
        return self.base_url + path

    def headers(self, *, idempotency_key: str | None = None, body: bool = False) -> dict[str, str]:
        """Headers of one attempt, with a fresh token (the broker accepts each ``jti`` once)."""
        headers = {"Authorization": f"Bearer {self.credentials.token()}"}
        if body:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def person_ref(self, identifier: PersonIdentifier) -> dict[str, str]:
        """A person in wire form: the OPRF output on the blind path, else the identifier."""
        if self.blind:
            return {"oprf_output": self.cache.output(identifier)}
        return plain_identifier(identifier)

    def signal_body(self, draft: SignalDraft) -> dict[str, Any]:
        """One bulk item."""
        persons = [
            {"person": self.person_ref(p.identifier), "role": p.role.value} for p in draft.persons
        ]
        return draft.body(persons)

    def chunks(
        self, items: Sequence[SignalDraft], idempotency_key: str
    ) -> Iterator[tuple[int, Sequence[SignalDraft], str]]:
        """Slices of at most ``max_batch`` items with their offset and per-slice key."""
        if len(idempotency_key) > _MAX_KEY_LENGTH - 8:
            raise ValueError("idempotency keys are at most 120 characters")
        for offset in range(0, len(items), self.max_batch):
            key = idempotency_key
            if len(items) > self.max_batch:
                key = f"{idempotency_key}.{offset // self.max_batch}"
            yield offset, items[offset : offset + self.max_batch], key

    def bulk_requests(
        self, items: Sequence[SignalDraft], idempotency_key: str
    ) -> list[BulkRequest]:
        """The bulk requests for ``items``, encoded; every identifier must be pseudonymised."""
        return [
            BulkRequest(offset, key, encode({"items": [self.signal_body(i) for i in chunk]}))
            for offset, chunk, key in self.chunks(items, idempotency_key)
        ]

    def idempotency_key(self, items: Sequence[SignalDraft], *, scope: str = "") -> str:
        """A key derived from content: the same items (and scope) give the same key.

        Keyed with a secret of the organisation, so the key says nothing about the
        identifiers inside; the blind/plain mode is part of it because the bodies differ.
        """
        content = json.dumps(
            {
                "org": self.credentials.org_id,
                "mode": "blind" if self.blind else "plain",
                "scope": scope,
                "items": [item.canonical() for item in items],
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        digest = hmac.new(
            self.credentials.idempotency_secret(), content.encode(), hashlib.sha256
        ).hexdigest()
        return f"bc1-{digest}"


def encode(body: Any) -> bytes:
    """Compact JSON: bulk bodies are large, and whitespace is a tenth of them."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def answer(response: httpx.Response, *, offset: int = 0) -> Any:
    """The JSON of a successful answer; raise the fitting error otherwise."""
    if response.is_success:
        return response.json() if response.content else None
    problem = _problem(response)
    if response.status_code == 409:
        raise IdempotencyConflict(response.status_code, problem)
    if response.status_code == 422:
        rows = rejected_rows(problem, offset=offset)
        if rows:
            raise RowsRejected(response.status_code, problem, rows)
    raise BrokerAPIError(response.status_code, problem)


def registered(answers: Sequence[Mapping[str, Any]]) -> Registered:
    """Sum the answers of one or more bulk requests."""
    return Registered(
        created=sum(int(a["created"]) for a in answers),
        ids=tuple(i for a in answers for i in a["ids"]),
        matches=sum(int(a["matches"]) for a in answers),
    )


def rejected_rows(problem: Mapping[str, Any], *, offset: int = 0) -> list[RowError]:
    """Rows named in a 422: the broker's ``row`` errors and schema errors at ``items.N``."""
    rows: list[RowError] = []
    for error in problem.get("errors") or []:
        if not isinstance(error, dict):
            continue
        row, detail = error.get("row"), str(error.get("detail") or error.get("message") or "")
        field = error.get("field")
        if row is None and isinstance(field, str):
            parts = field.split(".")
            if len(parts) > 1 and parts[0] == "items" and parts[1].isdigit():
                row = int(parts[1])
                detail = f"{'.'.join(parts[2:]) or 'item'}: {detail}"
        field_errors = error.get("field_errors")
        if isinstance(field_errors, dict) and field_errors:
            detail += " (" + "; ".join(f"{k}: {v}" for k, v in sorted(field_errors.items())) + ")"
        if isinstance(row, int):
            rows.append(RowError(row + offset, detail or "invalid"))
    return rows


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {"status": response.status_code, "title": response.reason_phrase}
