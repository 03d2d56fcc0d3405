"""Every ``/v1`` route, every role: who may get past the door.

The routes are enumerated from the application itself, so a new endpoint that is missing
from ``ALLOWED`` fails the test until someone decides who may call it. A role outside an
endpoint's entry must get 403; widening access (a 2xx, or a 404/422 that shows the role got
past the check) fails the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from broker.types import Role
from tests.identities import MOTHER
from tests.integration.attacks.leaks import assert_no_identifiers, assert_problem, fresh_user

PRO, COORD, OFFICER, ADMIN = "professional", "coordinator", "privacy_officer", "admin"
MEMBERS = frozenset({PRO, COORD})
READERS = frozenset({PRO, COORD, OFFICER})
OFFICERS = frozenset({OFFICER})
AUDITORS = frozenset({OFFICER, ADMIN})
ADMINS = frozenset({ADMIN})
EVERYONE = frozenset(role.value for role in Role)

ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v1/organisations"): ADMINS,
    ("GET", "/v1/organisations/{org_id}"): ADMINS,
    ("GET", "/v1/organisations/{org_id}/webhook-secret"): ADMINS,
    ("POST", "/v1/signals"): MEMBERS,
    ("POST", "/v1/signals/bulk"): MEMBERS,
    ("GET", "/v1/signals"): MEMBERS,
    ("POST", "/v1/signals/{signal_id}/withdraw"): MEMBERS,
    ("POST", "/v1/hits"): MEMBERS,
    ("POST", "/v1/pseudonyms/evaluate"): MEMBERS,
    ("GET", "/v1/notifications"): MEMBERS,
    ("POST", "/v1/notifications/{notification_id}/read"): MEMBERS,
    ("GET", "/v1/matches/{match_id}"): MEMBERS,
    ("POST", "/v1/matches/{match_id}/coordinator"): MEMBERS,
    # Any authenticated caller; the list is scoped to the caller's organisation.
    ("GET", "/v1/matches"): EVERYONE,
    ("POST", "/v1/consents"): MEMBERS,
    ("GET", "/v1/consents/{consent_id}"): READERS,
    ("POST", "/v1/consents/{consent_id}/withdraw"): MEMBERS,
    ("GET", "/v1/consents/{consent_id}/receipt"): READERS,
    ("POST", "/v1/consents/lookup"): READERS,
    ("POST", "/v1/disclosures"): MEMBERS,
    ("GET", "/v1/disclosures/{disclosure_id}"): MEMBERS,
    ("GET", "/v1/release-requests"): MEMBERS,
    ("POST", "/v1/release-requests/{item_id}/decision"): MEMBERS,
    ("GET", "/v1/overrides"): OFFICERS,
    ("GET", "/v1/overrides/counts"): OFFICERS,
    ("POST", "/v1/overrides/{override_id}/review"): OFFICERS,
    ("GET", "/v1/log/entries"): OFFICERS,
    ("POST", "/v1/log/entries/search"): OFFICERS,
    ("GET", "/v1/log/entries/{index}"): OFFICERS,
    ("GET", "/v1/log/entries/{index}/proof"): OFFICERS,
    ("GET", "/v1/log/checkpoint"): AUDITORS,
    ("POST", "/v1/log/checkpoint"): AUDITORS,
    ("GET", "/v1/log/consistency"): AUDITORS,
    ("GET", "/v1/log/statistics"): OFFICERS,
    ("GET", "/v1/alerts"): OFFICERS,
    ("POST", "/v1/alerts/{alert_id}/resolve"): OFFICERS,
    ("POST", "/v1/subject-access/reports"): OFFICERS,
    ("GET", "/v1/subject-access/reports/{report_id}"): OFFICERS,
    ("POST", "/v1/subject-access/erasure-requests"): OFFICERS,
    ("GET", "/v1/subject-access/erasure-requests"): OFFICERS,
    ("POST", "/v1/subject-access/erasure-requests/{request_id}/decision"): OFFICERS,
    ("GET", "/v1/policy"): ADMINS,
    ("POST", "/v1/policy/reload"): ADMINS,
}

# Path parameters are random: an allowed role finds nothing, it never reaches data.
ALLOWED_ROLE_STATUSES = {200, 201, 400, 403, 404, 409, 422}


def _routes(routes: list) -> Iterator[tuple[str, str]]:
    for route in routes:
        nested = getattr(route, "effective_route_contexts", None)  # FastAPI >= 0.16x
        if nested is not None:
            yield from _routes(list(nested()))
            continue
        sub = getattr(route, "routes", None)
        if sub and not hasattr(route, "methods"):
            yield from _routes(sub)
            continue
        path = getattr(route, "path", "")
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                yield method, path


def v1_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted({(m, p) for m, p in _routes(list(app.routes)) if p.startswith("/v1/")})


def concrete(path: str) -> str:
    """Fill each path parameter with a random id (a number where the parameter is one)."""
    parts = []
    for part in path.split("/"):
        if part == "{index}":
            parts.append("987654")
        elif part.startswith("{"):
            parts.append(uuid.uuid4().hex)
        else:
            parts.append(part)
    return "/".join(parts)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]):
    body = {} if method == "POST" else None
    return client.request(method, concrete(path), json=body, headers=headers)


def test_every_v1_route_is_in_the_table(client: TestClient) -> None:
    routes = set(v1_routes(client.app))
    assert len(routes) >= 40, "route enumeration found too little; did FastAPI change?"
    assert routes - set(ALLOWED) == set(), "new endpoints need an entry in ALLOWED"
    assert set(ALLOWED) - routes == set(), "ALLOWED names endpoints that no longer exist"


def test_no_token_is_401_everywhere(client: TestClient) -> None:
    for method, path in v1_routes(client.app):
        response = call(client, method, path, {})
        assert_problem(response, 401)


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_roles_outside_the_table_are_refused(client: TestClient, token, role: str) -> None:
    widened, narrowed = [], []
    for method, path in v1_routes(client.app):
        headers = {"Authorization": f"Bearer {token('vt-rr', role, user=fresh_user())}"}
        response = call(client, method, path, headers)
        assert response.status_code < 500, (method, path, response.status_code, response.text)
        assert_no_identifiers(response.text)
        if response.status_code >= 400:
            assert_problem(response, response.status_code)
        allowed = ALLOWED.get((method, path), frozenset())
        if role not in allowed and response.status_code != 403:
            widened.append((method, path, response.status_code))
        if role in allowed and response.status_code not in ALLOWED_ROLE_STATUSES:
            narrowed.append((method, path, response.status_code))
    assert widened == [], f"{role} gets past endpoints outside its table"
    assert narrowed == [], f"{role} gets an unexpected status where it is allowed"


def test_another_organisations_resources_are_404(client: TestClient, token) -> None:
    def h(org: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(org, role, user=fresh_user())}"}

    assert client.get("/v1/organisations/politie-rr", headers=h("vt-rr", ADMIN)).status_code == 404
    secret = client.get("/v1/organisations/politie-rr/webhook-secret", headers=h("vt-rr", ADMIN))
    assert_problem(secret, 404)
    own = client.get("/v1/organisations/vt-rr/webhook-secret", headers=h("vt-rr", ADMIN))
    assert own.status_code == 200, own.text
    created = client.post(
        "/v1/signals",
        headers=h("politie-rr", PRO),
        json={
            "category": "police_dv_incident",
            "persons": [{"person": {"bsn": MOTHER}, "role": "victim"}],
        },
    )
    assert created.status_code == 201, created.text
    withdraw = client.post(f"/v1/signals/{created.json()['id']}/withdraw", headers=h("vt-rr", PRO))
    assert_problem(withdraw, 404)
    assert_no_identifiers(withdraw.text)
