"""Signing in, the session cookie, and the same security ladder as the API."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from broker.app import create_app
from broker.console.session import SESSION_COOKIE, ConsoleSession, SessionCodec
from broker.container import Container
from broker.settings import Environment
from tests.integration.console.helpers import CSRF, ORIGIN, hidden, post, sign_in

MEMBER_PAGES = ["/console/check", "/console/release", "/console/override", "/console/inbox"]
OFFICER_PAGES = [
    "/console/log",
    "/console/overrides",
    "/console/alerts",
    "/console/consents",
    "/console/statistics",
    "/console/subject-access",
]


def test_sign_in_sets_a_strict_http_only_session_cookie(client: TestClient, token) -> None:
    page = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={"csrf": hidden(CSRF, page.text), "token": token("vt-rr", "professional")},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/home"
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    home = client.get("/console/home")
    assert home.status_code == 200 and "vt-rr" in home.text


def test_a_token_signs_in_once_and_a_bad_one_not_at_all(client: TestClient, token) -> None:
    once = token("vt-rr", "professional")
    for expected in (303, 401):
        page = client.get("/console/sign-in")
        response = post(
            client, "/console/sign-in", {"csrf": hidden(CSRF, page.text), "token": once}
        )
        assert response.status_code == expected
        client.cookies.delete(SESSION_COOKIE, path="/console")
    page = client.get("/console/sign-in")
    refused = post(client, "/console/sign-in", {"csrf": hidden(CSRF, page.text), "token": "x.y.z"})
    assert refused.status_code == 401 and 'role="alert"' in refused.text


@pytest.mark.parametrize("path", ["/console", "/console/home", *MEMBER_PAGES, *OFFICER_PAGES])
def test_without_a_session_pages_send_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/sign-in"


def test_without_a_session_a_form_post_gets_401(client: TestClient) -> None:
    response = post(client, "/console/check", {"purpose": "acute_safety", "p0_bsn": "x"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")


def test_a_professional_gets_403_on_officer_pages(client: TestClient, token) -> None:
    sign_in(client, token, "wijkteam-feijenoord", "professional", "w.devries")
    for path in OFFICER_PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "privacyfunctionarissen" in response.text
    assert client.get("/console/log/entries/0").status_code == 403


def test_a_privacy_officer_gets_403_on_professional_pages(client: TestClient, token) -> None:
    sign_in(client, token, "wijkteam-feijenoord", "privacy_officer", "fg")
    for path in MEMBER_PAGES:
        assert client.get(path).status_code == 403, path
    for path in OFFICER_PAGES:
        assert client.get(path).status_code == 200, path


def test_a_tampered_cookie_is_refused(client: TestClient, token) -> None:
    sign_in(client, token, "vt-rr", "privacy_officer", "fg")
    value = client.cookies.get(SESSION_COOKIE)
    version, payload, mac = value.split(".")
    client.cookies.set(SESSION_COOKIE, f"{version}.{payload[:-2]}AA.{mac}", path="/console")
    assert client.get("/console/home", follow_redirects=False).status_code == 303


def test_an_idle_session_ends(client: TestClient, token, container: Container) -> None:
    sign_in(client, token, "vt-rr", "professional", "a")
    codec = SessionCodec(container.keystore)
    session = codec.decode(client.cookies.get(SESSION_COOKIE))
    assert session is not None
    idle = dataclasses.replace(session, seen_at=session.seen_at - timedelta(minutes=31))
    client.cookies.set(SESSION_COOKIE, codec.encode(idle), path="/console")
    assert client.get("/console/home", follow_redirects=False).status_code == 303
    old = ConsoleSession.start(session.principal(), now=session.issued_at - timedelta(hours=9))
    client.cookies.set(SESSION_COOKIE, codec.encode(old), path="/console")
    assert client.get("/console/home", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(client: TestClient, token) -> None:
    csrf = sign_in(client, token, "vt-rr", "professional", "a")
    response = post(client, "/console/sign-out", {"csrf": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/console/sign-in"
    assert client.get("/console/home", follow_redirects=False).status_code == 303


def test_production_refuses_development_sign_in(broker_env, clean: Container, token) -> None:
    production = broker_env.settings.model_copy(update={"env": Environment.PRODUCTION})
    wiring = dataclasses.replace(clean, settings=production)
    app = create_app(production, container=wiring, run_tasks=False)
    with TestClient(app) as client:
        page = client.get("/console/sign-in")
        assert page.status_code == 200 and 'name="token"' not in page.text
        refused = post(client, "/console/sign-in", {"token": token("vt-rr", "professional")})
        assert refused.status_code == 403
        assert client.cookies.get(SESSION_COOKIE) is None
