"""A professional walking the BSN space is noticed, and every step is in the log."""

from __future__ import annotations

from fastapi.testclient import TestClient

from broker.container import Container
from tests.identities import eleven_check
from tests.integration.attacks.leaks import assert_no_identifiers

ORG, USER = "wijkteam-feijenoord", "enumerator"


def consecutive_bsns(start: int, count: int) -> list[str]:
    found, number = [], start
    while len(found) < count:
        if eleven_check(f"{number:09d}"):
            found.append(f"{number:09d}")
        number += 1
    return found


def test_forty_consecutive_bsns_raise_an_alert_and_are_all_logged(
    client: TestClient, token, clean: Container, monkeypatch
) -> None:
    # The per-user limit (30 a minute) would cut the walk short; the detector must fire anyway,
    # so lift the limit for this test to see all 40 queries answered and logged.
    monkeypatch.setattr(
        clean, "settings", clean.settings.model_copy(update={"query_limit_per_user_minute": 1000})
    )
    walk = consecutive_bsns(612_345_000, 40)
    for bsn in walk:
        response = client.post(
            "/v1/hits",
            json={"purpose": "home_visit_risk_check", "persons": [{"bsn": bsn}]},
            headers={"Authorization": f"Bearer {token(ORG, 'professional', user=USER)}"},
        )
        assert response.status_code == 200, response.text
        assert_no_identifiers(response.text, walk)
    officer = {"Authorization": f"Bearer {token(ORG, 'privacy_officer', user='po')}"}
    alerts = client.get("/v1/alerts", headers=officer)
    assert alerts.status_code == 200, alerts.text
    kinds = {a["kind"] for a in alerts.json() if a["user"] == USER}
    assert kinds & {"sequential_identifiers", "random_identifiers"}, kinds
    assert_no_identifiers(alerts.text, walk)
    other = {"Authorization": f"Bearer {token('vt-rr', 'privacy_officer', user='po')}"}
    assert client.get("/v1/alerts", headers=other).json() == []

    entries = client.get(
        "/v1/log/entries",
        params={"event_type": "query", "user": USER, "limit": 200},
        headers={"Authorization": f"Bearer {token(ORG, 'privacy_officer', user='po2')}"},
    )
    assert entries.status_code == 200, entries.text
    queries = [e for e in entries.json()["items"] if e["outcome"] in {"hit", "no_hit"}]
    assert len(queries) == len(walk), [e["outcome"] for e in entries.json()["items"]]
    assert_no_identifiers(entries.text, walk)
