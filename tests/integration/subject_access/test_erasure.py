"""Erasure requests through HTTP: review with a safety check, never automatic deletion."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text as sql

from broker.container import Container
from tests.identities import FATHER, MOTHER
from tests.integration.subject_access.helpers import (
    POLICE,
    SHELTER,
    VERIFIED,
    VT,
    Auth,
    register,
)

PATH = "/v1/subject-access/erasure-requests"


def file_request(client: TestClient, auth: Auth, org: str, bsn: str) -> dict[str, Any]:
    response = client.post(
        PATH,
        json={
            "person": {"bsn": bsn},
            "verification": VERIFIED,
            "reason": "Wants her dossier removed.",
        },
        headers=auth(org, "privacy_officer"),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def decide(
    client: TestClient, auth: Auth, org: str, request_id: str, decision: str, role: str = ""
) -> Any:
    return client.post(
        f"{PATH}/{request_id}/decision",
        json={"decision": decision, "note": "Spoke with her alone; safety plan in place."},
        headers=auth(org, role or "privacy_officer"),
    )


def active_signals(clean: Container) -> dict[str, int]:
    with clean.engine.connect() as conn:
        rows = conn.execute(
            sql("SELECT org_id, count(*) FROM signal WHERE withdrawn_at IS NULL GROUP BY org_id")
        ).all()
    return {org: int(count) for org, count in rows}


def family_in_danger(client: TestClient, auth: Auth) -> None:
    register(client, auth, POLICE, "police_dv_incident", [(MOTHER, "victim"), (FATHER, "suspect")])
    register(client, auth, POLICE, "restraining_order", [(FATHER, "suspect")])
    register(client, auth, VT, "vt_report", [(MOTHER, "victim")])
    register(client, auth, SHELTER, "shelter_stay", [(MOTHER, "victim")])


def test_erasure_goes_to_review_with_safety_flags_and_deletes_nothing(
    client: TestClient, auth: Auth, clean: Container
) -> None:
    family_in_danger(client, auth)
    before = active_signals(clean)
    filed = file_request(client, auth, VT, MOTHER)
    assert filed["status"] == "pending_review" and filed["withdrawn_signals"] == 0
    assert set(filed["safety_flags"]) >= {
        "victim_in_active_case",
        "shielded_stay",
        "possible_pressure",
        "restraining_order",
    }
    assert "Nothing has been erased" in filed["notice"]
    assert active_signals(clean) == before
    listed = client.get(PATH, headers=auth(VT, "privacy_officer")).json()
    assert [r["id"] for r in listed] == [filed["id"]]
    assert listed[0]["reason"] == "Wants her dossier removed."
    assert client.get(PATH, headers=auth(POLICE, "privacy_officer")).json() == []
    log = client.get(
        "/v1/log/entries?event_type=erasure_request", headers=auth(VT, "privacy_officer")
    ).json()
    [entry] = log["items"]
    assert entry["outcome"] == "pending_review" and entry["body"]["parties"] == [VT]
    assert MOTHER not in str(log) and VERIFIED["reference"] not in str(log)


def test_suspects_request_is_flagged(client: TestClient, auth: Auth, clean: Container) -> None:
    family_in_danger(client, auth)
    filed = file_request(client, auth, POLICE, FATHER)
    assert {"suspect_in_active_case", "restraining_order"} <= set(filed["safety_flags"])
    assert "victim_in_active_case" not in filed["safety_flags"]


def test_approval_withdraws_only_the_own_organisations_signals(
    client: TestClient, auth: Auth, clean: Container
) -> None:
    family_in_danger(client, auth)
    filed = file_request(client, auth, VT, MOTHER)
    assert decide(client, auth, POLICE, filed["id"], "approve").status_code == 404
    assert decide(client, auth, VT, filed["id"], "approve", role="professional").status_code == 403
    approved = decide(client, auth, VT, filed["id"], "approve")
    assert approved.status_code == 200, approved.text
    result = approved.json()
    assert result["status"] == "approved" and result["withdrawn_signals"] == 1
    assert result["decision_note"].startswith("Spoke with her")
    assert active_signals(clean) == {POLICE: 2, SHELTER: 1}
    assert decide(client, auth, VT, filed["id"], "reject").status_code == 409
    # The police registration still answers a hit; Veilig Thuis's no longer does.
    answer = client.post(
        "/v1/hits",
        json={"purpose": "home_visit_risk_check", "persons": [{"bsn": MOTHER}]},
        headers=auth("wijkteam-charlois"),
    ).json()
    shown = {h["organisation"]["id"] for h in answer["organisations"] if h["organisation"]}
    assert POLICE in shown and VT not in shown
    withdrawals = client.get(
        "/v1/log/entries?event_type=withdrawal", headers=auth(VT, "privacy_officer")
    ).json()
    assert withdrawals["total"] == 1
    outcomes = [
        e["outcome"]
        for e in client.get(
            "/v1/log/entries?event_type=erasure_request", headers=auth(VT, "privacy_officer")
        ).json()["items"]
    ]
    assert outcomes == ["approved", "pending_review"]


def test_rejection_changes_nothing(client: TestClient, auth: Auth, clean: Container) -> None:
    family_in_danger(client, auth)
    before = active_signals(clean)
    filed = file_request(client, auth, POLICE, MOTHER)
    rejected = decide(client, auth, POLICE, filed["id"], "reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert active_signals(clean) == before
    pending = client.get(f"{PATH}?status=pending_review", headers=auth(POLICE, "privacy_officer"))
    assert pending.json() == []


def test_erasure_security_ladder(client: TestClient, auth: Auth) -> None:
    body = {"person": {"bsn": MOTHER}, "verification": VERIFIED, "reason": "Wants it gone."}
    assert client.post(PATH, json=body).status_code == 401
    assert client.get(PATH).status_code == 401
    assert client.post(PATH, json=body, headers=auth(VT, "professional")).status_code == 403
    assert client.get(PATH, headers=auth(VT, "coordinator")).status_code == 403
    missing = client.post(
        PATH, json={"person": {"bsn": MOTHER}, "reason": "x"}, headers=auth(VT, "privacy_officer")
    )
    assert missing.status_code == 422 and MOTHER not in missing.text
