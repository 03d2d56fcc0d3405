"""The OpenID Connect hook, driven by a hand-written fake provider (no network)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient

from broker.auth.principal import Principal
from broker.console.session import SESSION_COOKIE
from broker.errors import NotAuthenticated
from broker.types import OrgId, OrgType, Role, UserId


class FakeOrganisationProvider:
    """Accepts the code "good" for one privacy officer of Veilig Thuis."""

    kind = "oidc"

    def begin(self, *, state: str) -> str | None:
        return f"https://idp.example/authorize?client_id=broker&state={state}"

    def authenticate(self, credentials: Mapping[str, str]) -> Principal:
        if credentials.get("code") != "good":
            raise NotAuthenticated("The identity provider did not confirm the sign-in.")
        return Principal(
            org_id=OrgId("vt-rr"),
            org_type=OrgType.VEILIG_THUIS,
            user=UserId("fg.devries"),
            roles=frozenset({Role.PRIVACY_OFFICER}),
            token_id="oidc-1",
            expires_at=datetime.now(UTC) + timedelta(minutes=5),
        )


def fresh_state(client: TestClient) -> str:
    """Open the sign-in page and read the ``state`` of its link to the provider."""
    page = client.get("/console/sign-in")
    assert 'name="token"' not in page.text
    link = re.search(r'href="(https://idp\.example/[^"]+)"', page.text).group(1)
    return parse_qs(urlparse(link.replace("&amp;", "&")).query)["state"][0]


def test_a_configured_provider_signs_in_through_its_callback(client: TestClient, token) -> None:
    client.app.state.console_identity = FakeOrganisationProvider()
    try:
        fresh_state(client)
        forged = client.get("/console/sign-in/callback?code=good&state=forged")
        assert forged.status_code == 403 and client.cookies.get(SESSION_COOKIE) is None
        refused = client.get(f"/console/sign-in/callback?code=bad&state={fresh_state(client)}")
        assert refused.status_code == 401
        done = client.get(f"/console/sign-in/callback?code=good&state={fresh_state(client)}")
        assert done.status_code == 200 and 'http-equiv="refresh"' in done.text
        home = client.get("/console/home")
        assert home.status_code == 200 and "fg.devries" in home.text
        pasted = client.post(
            "/console/sign-in",
            data={"token": token("vt-rr", "professional")},
            headers={"Origin": "http://testserver"},
        )
        assert pasted.status_code == 403  # no development tokens beside a real provider
    finally:
        del client.app.state.console_identity
