"""CSRF protection on every form, the Content-Security-Policy, and the language switch."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from broker.console.web import CONTENT_SECURITY_POLICY
from tests.identities import MOTHER
from tests.integration.console.helpers import post, sign_in

CHECK = {"purpose": "acute_safety", "p0_bsn": MOTHER}


def test_a_form_without_the_session_token_is_refused(client: TestClient, token) -> None:
    csrf = sign_in(client, token, "wijkteam-feijenoord", "professional", "w")
    assert post(client, "/console/check", CHECK).status_code == 403
    assert post(client, "/console/check", {**CHECK, "csrf": csrf[:-1] + "x"}).status_code == 403
    assert post(client, "/console/check", {**CHECK, "csrf": csrf}).status_code == 200


def test_a_form_from_another_origin_is_refused(client: TestClient, token) -> None:
    csrf = sign_in(client, token, "wijkteam-feijenoord", "professional", "w")
    data = {**CHECK, "csrf": csrf}
    evil = client.post("/console/check", data=data, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert client.post("/console/check", data=data).status_code == 403  # neither header
    referer = {"Origin": "null", "Referer": "http://testserver/console/check"}
    assert client.post("/console/check", data=data, headers=referer).status_code == 200
    cross = {"Origin": "null", "Referer": "http://testserver.evil.example/console"}
    assert client.post("/console/check", data=data, headers=cross).status_code == 403


def test_sign_in_needs_the_form_of_the_sign_in_page(client: TestClient, token) -> None:
    response = post(client, "/console/sign-in", {"token": token("vt-rr", "professional")})
    assert response.status_code == 403
    client.get("/console/sign-in")
    forged = post(
        client, "/console/sign-in", {"csrf": "x", "token": token("vt-rr", "professional")}
    )
    assert forged.status_code == 403


@pytest.mark.parametrize(
    "path", ["/console/sign-in", "/console/static/console.css", "/console/nowhere", "/console"]
)
def test_every_console_response_carries_the_policy(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["cache-control"] == "no-store"
    assert "script-src" not in CONTENT_SECURITY_POLICY and "unsafe" not in CONTENT_SECURITY_POLICY


def test_pages_have_no_inline_script_or_style(client: TestClient, token) -> None:
    sign_in(client, token, "vt-rr", "privacy_officer", "fg")
    for path in ["/console/home", "/console/log", "/console/statistics", "/console/overrides"]:
        html = client.get(path).text
        assert "<script" not in html and "style=" not in html and "<style" not in html, path
        assert client.get(path).headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_dutch_by_default_english_on_request_and_remembered(client: TestClient) -> None:
    dutch = client.get("/console/sign-in")
    assert '<html lang="nl">' in dutch.text and "Inloggen" in dutch.text
    english = client.get("/console/sign-in?lang=en")
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    assert "dvb_lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/console/sign-in").text
    assert '<html lang="nl">' in client.get("/console/sign-in?lang=nl").text
    assert '<html lang="nl">' in client.get("/console/sign-in?lang=xx").text


def test_pages_are_accessible_in_their_structure(client: TestClient) -> None:
    html = client.get("/console/sign-in").text
    assert 'class="skip-link" href="#main"' in html and 'id="main"' in html
    assert '<label for="token">' in html and 'id="token"' in html


def test_the_language_switch_keeps_filters_and_leaves_post_only_addresses(
    client: TestClient, token
) -> None:
    csrf = sign_in(client, token, "vt-rr", "privacy_officer", "fg")
    page = client.get("/console/log?event_type=query")
    assert 'href="/console/log?event_type=query&amp;lang=en"' in page.text
    result = post(client, "/console/log/person", {"csrf": csrf, "p0_bsn": MOTHER})
    assert 'href="/console/log?lang=en"' in result.text
    assert client.get("/console/log?lang=en").status_code == 200
