"""Helpers for the console's browserless tests: signing in and posting forms like a browser."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from httpx import Response

ORIGIN = {"Origin": "http://testserver"}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([0-9a-f]{32})"')
PERSONS_REF = re.compile(r'name="persons_ref" value="([^"]+)"')


def hidden(pattern: re.Pattern[str], html: str) -> str:
    """The value of a hidden field in a page."""
    found = pattern.search(html)
    assert found, f"no {pattern.pattern} in the page"
    return found.group(1)


def sign_in(client: TestClient, token: Callable[..., str], org: str, role: str, user: str) -> str:
    """Sign in with a development token; returns the session's CSRF token."""
    page = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={"csrf": hidden(CSRF, page.text), "token": token(org, role, user=user)},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/home"
    return hidden(CSRF, client.get("/console/home").text)


def post(client: TestClient, path: str, data: dict[str, str], **headers: str) -> Response:
    """A form post from one of the console's own pages."""
    return client.post(path, data=data, headers={**ORIGIN, **headers}, follow_redirects=False)


def register(client: TestClient, auth, org: str, category: str, persons, payload=None) -> str:
    """Register a signal through the API."""
    body = {
        "category": category,
        "payload": payload or {},
        "persons": [{"person": {"bsn": b}, "role": r} for b, r in persons],
    }
    response = client.post("/v1/signals", json=body, headers=auth(org, "professional"))
    assert response.status_code == 201, response.text
    return response.json()["id"]
