"""Shared checks for the attack tests: no response may carry an identifier it was sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import httpx

from tests.identities import BSNS

PROBLEM_JSON = "application/problem+json"


def fresh_user() -> str:
    """A user name nobody has used yet, so per-user rate limits never interfere."""
    return f"attacker-{uuid.uuid4().hex[:10]}"


def assert_problem(response: httpx.Response, *statuses: int) -> None:
    """``response`` is an RFC 9457 problem with one of ``statuses``."""
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["status"] == response.status_code
    assert "Traceback" not in response.text


def assert_no_identifiers(text: str, sent: Iterable[str] = BSNS) -> None:
    """None of the BSNs that went out comes back in ``text``."""
    leaked = [bsn for bsn in sent if bsn in text]
    assert not leaked, f"response echoes {len(leaked)} identifier(s)"
