"""Lawful release through HTTP, following DOMAIN.md's scenarios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text

from broker.container import Container
from broker.disclosures.overrides import escalate_overdue
from tests.identities import CHILD_1, FATHER, MOTHER

ANSWERS = {
    "purpose": "Home visit tomorrow; need to know whether it is safe to go alone.",
    "need_to_know": "Only whether a weapon or acute risk is known at the address.",
    "subsidiarity": "The family does not answer the phone; no less intrusive way today.",
    "proportionality": "Two fields, no history, for one visit: proportionate to the risk.",
    "effectiveness": "With this we decide to visit with the community officer or not.",
}
OVERRIDE = {
    "danger": "Mother and child at risk of serious violence from the father tonight.",
    "why_now": "Father released this afternoon and threatened to come to the house.",
    "tried": "Mother cannot be reached safely; asking consent would alert the father.",
    "needed": "Whether a firearm is known and the current police risk level.",
}


def register(client: TestClient, auth, org: str, category: str, persons, payload=None) -> str:
    body = {
        "category": category,
        "payload": payload or {},
        "persons": [{"person": {"bsn": b}, "role": r} for b, r in persons],
    }
    response = client.post("/v1/signals", json=body, headers=auth(org, "professional"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def disclose(client: TestClient, auth, org: str, purpose: str, bsns, basis, role="professional"):
    return client.post(
        "/v1/disclosures",
        headers=auth(org, role),
        json={"purpose": purpose, "persons": [{"bsn": b} for b in bsns], "legal_basis": basis},
    )


def consent(client: TestClient, auth, org: str, bsn: str, **overrides) -> str:
    now = datetime.now(UTC)
    body = {
        "person": {"bsn": bsn},
        "given_by": "subject",
        "age_band": "16_plus",
        "recipient_types": ["wijkteam"],
        "purposes": ["case_handover"],
        "categories": ["vt_report"],
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=90)).isoformat(),
        "obtained_how": "written",
    }
    body.update(overrides)
    response = client.post("/v1/consents", json=body, headers=auth(org, "professional"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_home_visit_firearm_check_with_the_five_questions(client: TestClient, auth) -> None:
    register(
        client,
        auth,
        "politie-rr",
        "police_dv_incident",
        [(MOTHER, "victim"), (FATHER, "suspect")],
        {"firearm_known": True, "risk_level": "high", "violence_type": "physical"},
    )
    response = disclose(
        client,
        auth,
        "wijkteam-feijenoord",
        "home_visit_risk_check",
        [MOTHER],
        {"type": "proportionality", "answers": ANSWERS},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "pending" and result["basis_ref"]
    pending = client.get("/v1/release-requests", headers=auth("politie-rr", "coordinator")).json()
    [request] = pending
    assert request["requester"]["id"] == "wijkteam-feijenoord"
    professional = client.post(
        f"/v1/release-requests/{request['item_id']}/decision",
        json={"decision": "approve", "reason": "covenant, risk known"},
        headers=auth("politie-rr", "professional"),
    )
    assert professional.status_code == 403  # only a coordinator approves
    approved = client.post(
        f"/v1/release-requests/{request['item_id']}/decision",
        json={"decision": "approve", "reason": "risk is real, share"},
        headers=auth("politie-rr", "coordinator"),
    )
    assert approved.status_code == 200, approved.text
    final = client.get(
        f"/v1/disclosures/{result['id']}", headers=auth("wijkteam-feijenoord")
    ).json()
    [item] = final["items"]
    assert final["status"] == "released"
    assert item["fields"] == {"firearm_known": True, "risk_level": "high"}
    assert all(p["pseudonym"].startswith("rp_") for p in item["persons"])
    assert MOTHER not in str(final) and "physical" not in str(final)
    assert (
        client.get(f"/v1/disclosures/{result['id']}", headers=auth("wijkteam-charlois")).status_code
        == 404
    )


def test_missing_answers_are_named(client: TestClient, auth) -> None:
    partial = {k: v for k, v in ANSWERS.items() if k != "subsidiarity"} | {"effectiveness": " "}
    response = disclose(
        client,
        auth,
        "wijkteam-feijenoord",
        "home_visit_risk_check",
        [MOTHER],
        {"type": "proportionality", "answers": partial},
    )
    assert response.status_code == 422
    assert set(response.json()["missing"]) == {"subsidiarity", "effectiveness"}


def test_veilig_thuis_handover_on_consent(client: TestClient, auth) -> None:
    register(
        client,
        auth,
        "vt-rr",
        "vt_report",
        [(MOTHER, "victim")],
        {
            "risk_level": "medium",
            "safety_plan": "Safety plan agreed on 3 March",
            "phase": "handover",
        },
    )
    consent_id = consent(client, auth, "wijkteam-delfshaven", MOTHER)
    response = disclose(
        client,
        auth,
        "wijkteam-delfshaven",
        "case_handover",
        [MOTHER],
        {"type": "consent", "consent_id": consent_id},
    )
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert response.json()["status"] == "released"
    assert item["fields"] == {
        "risk_level": "medium",
        "safety_plan": "Safety plan agreed on 3 March",
    }
    receipt = client.get(
        f"/v1/consents/{consent_id}/receipt", headers=auth("wijkteam-delfshaven")
    ).json()
    assert receipt["record_id"] == consent_id and receipt["state"] == "given"
    assert client.get(f"/v1/consents/{consent_id}", headers=auth("vt-rr")).status_code == 404


def test_parent_withdrawing_again_and_again(client: TestClient, auth) -> None:
    register(client, auth, "vt-rr", "vt_report", [(CHILD_1, "child")], {"risk_level": "high"})
    child = {"given_by": "legal_representative", "age_band": "under_12"}
    refused = client.post(
        "/v1/consents",
        headers=auth("wijkteam-charlois"),
        json={
            "person": {"bsn": CHILD_1},
            "given_by": "subject",
            "age_band": "under_12",
            "recipient_types": ["wijkteam"],
            "purposes": ["case_handover"],
            "categories": ["vt_report"],
            "valid_from": datetime.now(UTC).isoformat(),
            "valid_until": (datetime.now(UTC) + timedelta(days=9)).isoformat(),
            "obtained_how": "verbal",
        },
    )
    assert refused.status_code == 422 and "legal representative" in refused.json()["detail"]
    ids = []
    for _ in range(3):
        cid = consent(client, auth, "wijkteam-charlois", CHILD_1, **child)
        ids.append(cid)
        ok = disclose(
            client,
            auth,
            "wijkteam-charlois",
            "case_handover",
            [CHILD_1],
            {"type": "consent", "consent_id": cid},
        )
        assert ok.status_code == 200 and ok.json()["status"] == "released"
        assert (
            client.post(
                f"/v1/consents/{cid}/withdraw", headers=auth("wijkteam-charlois")
            ).status_code
            == 200
        )
        again = disclose(
            client,
            auth,
            "wijkteam-charlois",
            "case_handover",
            [CHILD_1],
            {"type": "consent", "consent_id": cid},
        )
        assert again.status_code == 403 and "withdrawn" in again.json()["detail"]
    history = client.post(
        "/v1/consents/lookup", json={"person": {"bsn": CHILD_1}}, headers=auth("wijkteam-charlois")
    ).json()
    assert [e["action"] for e in history["events"]] == ["recorded", "withdrawn"] * 3
    assert len(history["consents"]) == 3


def test_a_suspects_consent_releases_nothing_about_the_victim(client: TestClient, auth) -> None:
    register(
        client,
        auth,
        "vt-rr",
        "vt_report",
        [(MOTHER, "victim"), (FATHER, "suspect")],
        {"risk_level": "high", "safety_plan": "Mother stays with her sister"},
    )
    father_consent = consent(client, auth, "wijkteam-feijenoord", FATHER)
    response = disclose(
        client,
        auth,
        "wijkteam-feijenoord",
        "case_handover",
        [MOTHER, FATHER],
        {"type": "consent", "consent_id": father_consent},
    )
    assert response.status_code == 403
    assert "sister" not in response.text
    log = client.get(
        "/v1/log/entries?event_type=refusal", headers=auth("wijkteam-feijenoord", "privacy_officer")
    ).json()
    assert log["total"] >= 1


def test_serious_danger_override_releases_at_once_and_is_reviewed(client: TestClient, auth) -> None:
    register(
        client,
        auth,
        "politie-rr",
        "police_dv_incident",
        [(MOTHER, "victim"), (FATHER, "suspect")],
        {"firearm_known": True, "risk_level": "acute", "prior_incidents": 4},
    )
    register(client, auth, "blijf-groep", "shelter_stay", [(MOTHER, "victim")])
    response = disclose(
        client,
        auth,
        "wijkteam-feijenoord",
        "acute_safety",
        [MOTHER],
        {"type": "serious_danger", "override": OVERRIDE},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "released" and result["override_id"]
    [item] = result["items"]  # the shelter stay is never released, not even on an override
    assert item["source"]["id"] == "politie-rr"
    assert item["fields"] == {"firearm_known": True, "risk_level": "acute"}
    for org in ("wijkteam-feijenoord", "politie-rr"):
        kinds = [
            n["kind"] for n in client.get("/v1/notifications", headers=auth(org)).json()["items"]
        ]
        assert "override" in kinds
    assert (
        client.get("/v1/overrides?status=pending", headers=auth("wijkteam-feijenoord")).status_code
        == 403
    )
    assert (
        client.get("/v1/overrides?status=pending", headers=auth("vt-rr", "privacy_officer")).json()
        == []
    )
    queue = client.get(
        "/v1/overrides?status=pending", headers=auth("politie-rr", "privacy_officer")
    ).json()
    assert [o["id"] for o in queue] == [result["override_id"]]
    assert queue[0]["justification"]["danger"].startswith("Mother and child")
    review = client.post(
        f"/v1/overrides/{result['override_id']}/review",
        json={"justified": True, "note": "Acute threat, correct call."},
        headers=auth("wijkteam-feijenoord", "privacy_officer"),
    )
    assert review.status_code == 200 and review.json()["status"] == "justified"
    again = client.post(
        f"/v1/overrides/{result['override_id']}/review",
        json={"justified": False, "note": "second opinion"},
        headers=auth("politie-rr", "privacy_officer"),
    )
    assert again.status_code == 409
    counts = client.get(
        "/v1/overrides/counts", headers=auth("wijkteam-feijenoord", "privacy_officer")
    ).json()
    assert counts == [{"user": "user-1", "total": 1, "justified": 1}]
    empty = dict(OVERRIDE, tried="")
    bad = disclose(
        client,
        auth,
        "wijkteam-feijenoord",
        "acute_safety",
        [MOTHER],
        {"type": "serious_danger", "override": empty},
    )
    assert bad.status_code == 422 and bad.json()["missing"] == ["tried"]


def test_overdue_override_reviews_escalate(client: TestClient, auth, clean: Container) -> None:
    register(
        client,
        auth,
        "politie-rr",
        "police_dv_incident",
        [(FATHER, "suspect")],
        {"firearm_known": False},
    )
    result = disclose(
        client,
        auth,
        "vt-rr",
        "acute_safety",
        [FATHER],
        {"type": "serious_danger", "override": OVERRIDE},
    ).json()
    with clean.engine.begin() as conn:
        conn.execute(
            text("UPDATE override SET deadline = :d"), {"d": datetime.now(UTC) - timedelta(hours=1)}
        )
    from broker.transaction import transaction

    with transaction(clean.engine, clean.log) as session:
        assert escalate_overdue(session, clean) == 1
    queue = client.get(
        "/v1/overrides?status=pending", headers=auth("vt-rr", "privacy_officer")
    ).json()
    assert queue[0]["overdue"] is True and queue[0]["escalated_at"]
    alerts = client.get("/v1/alerts", headers=auth("vt-rr", "privacy_officer")).json()
    assert "override_review_overdue" in {a["kind"] for a in alerts}
    assert result["override_id"] == queue[0]["id"]


def test_source_refusal_is_recorded_and_visible(client: TestClient, auth) -> None:
    register(
        client,
        auth,
        "politie-rr",
        "police_dv_incident",
        [(MOTHER, "victim")],
        {"risk_level": "low"},
    )
    result = disclose(
        client,
        auth,
        "wijkteam-feijenoord",
        "home_visit_risk_check",
        [MOTHER],
        {"type": "proportionality", "answers": ANSWERS},
    ).json()
    [request] = client.get("/v1/release-requests", headers=auth("politie-rr", "coordinator")).json()
    client.post(
        f"/v1/release-requests/{request['item_id']}/decision",
        json={"decision": "refuse", "reason": "Investigation would be compromised."},
        headers=auth("politie-rr", "coordinator"),
    )
    final = client.get(
        f"/v1/disclosures/{result['id']}", headers=auth("wijkteam-feijenoord")
    ).json()
    assert final["items"][0]["status"] == "refused"
    assert final["items"][0]["reason"] == "Investigation would be compromised."
    for org in ("wijkteam-feijenoord", "politie-rr"):
        log = client.get(
            "/v1/log/entries?event_type=refusal", headers=auth(org, "privacy_officer")
        ).json()
        assert any(e["outcome"] == "refused_by_source" for e in log["items"])


def test_release_security_ladder_and_purpose_binding(client: TestClient, auth) -> None:
    basis = {"type": "proportionality", "answers": ANSWERS}
    assert client.post("/v1/disclosures", json={}).status_code == 401
    assert (
        disclose(
            client,
            auth,
            "wijkteam-feijenoord",
            "home_visit_risk_check",
            [MOTHER],
            basis,
            role="privacy_officer",
        ).status_code
        == 403
    )
    assert disclose(client, auth, "wijkteam-feijenoord", "nosy", [MOTHER], basis).status_code == 422
    register(
        client,
        auth,
        "politie-rr",
        "police_dv_incident",
        [(MOTHER, "victim")],
        {"risk_level": "low"},
    )
    outside = disclose(client, auth, "wijkteam-feijenoord", "monitoring", [MOTHER], basis)
    assert outside.status_code == 403 and "purpose binding" in outside.json()["detail"]
    nothing = disclose(
        client, auth, "wijkteam-feijenoord", "home_visit_risk_check", [CHILD_1], basis
    )
    assert nothing.json()["status"] == "nothing_to_release"
