"""The policy in force can be read and reloaded by the broker's administrator, and is logged."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_policy_reload_ladder_and_log(client: TestClient, auth) -> None:
    assert client.post("/v1/policy/reload").status_code == 401
    assert (
        client.post("/v1/policy/reload", headers=auth("vt-rr", "professional")).status_code == 403
    )
    assert client.post("/v1/policy/reload", headers=auth("vt-rr", "admin")).status_code == 403
    state = client.get("/v1/policy", headers=auth("vt-rr", "admin")).json()
    reloaded = client.post("/v1/policy/reload", headers=auth("broker", "admin"))
    assert reloaded.status_code == 200 and reloaded.json()["digest"] == state["digest"]
    log = client.get(
        "/v1/log/entries?event_type=policy_change", headers=auth("broker", "privacy_officer")
    ).json()
    assert log["total"] >= 1
    assert log["items"][0]["body"]["details"]["policy_digest"] == state["digest"]
