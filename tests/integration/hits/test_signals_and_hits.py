"""Signals and the hit service through HTTP, following DOMAIN.md's scenarios."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from broker.container import Container
from broker.db import unit_of_work
from broker.signals.purge import purge_expired
from keys import oprf
from tests.identities import BSNS, CHILD_1, CHILD_2, FATHER, MOTHER, OTHER_ADULT, STRANGER


def signal(category: str, *persons: tuple[str, str], **extra: object) -> dict:
    return {
        "category": category,
        "persons": [{"person": {"bsn": b}, "role": r} for b, r in persons],
        **extra,
    }


def register(client: TestClient, auth, org: str, body: dict, role: str = "professional") -> dict:
    response = client.post("/v1/signals", json=body, headers=auth(org, role))
    assert response.status_code == 201, response.text
    return response.json()


def ask(client: TestClient, auth, org: str, purpose: str, *bsns: str) -> dict:
    response = client.post(
        "/v1/hits",
        json={"purpose": purpose, "persons": [{"bsn": b} for b in bsns]},
        headers=auth(org, "professional"),
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_signal_security_ladder(client: TestClient, auth) -> None:
    body = signal("police_dv_incident", (MOTHER, "victim"))
    assert client.post("/v1/signals", json=body).status_code == 401
    assert (
        client.post(
            "/v1/signals", json=body, headers=auth("politie-rr", "privacy_officer")
        ).status_code
        == 403
    )
    refused = client.post(
        "/v1/signals", json=body, headers=auth("wijkteam-feijenoord", "professional")
    )
    assert (
        refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    )
    created = register(client, auth, "politie-rr", body)
    assert created["id"]
    own = client.get("/v1/signals", headers=auth("politie-rr")).json()
    assert [s["id"] for s in own["items"]] == [created["id"]]
    assert client.get("/v1/signals", headers=auth("vt-rr")).json()["items"] == []
    other = client.post(f"/v1/signals/{created['id']}/withdraw", headers=auth("vt-rr"))
    assert other.status_code == 404


def test_invalid_bsn_is_422_without_echo(client: TestClient, auth) -> None:
    wrong = MOTHER[:-1] + str((int(MOTHER[-1]) + 1) % 10)
    response = client.post(
        "/v1/hits",
        json={"purpose": "safety_assessment", "persons": [{"bsn": wrong}]},
        headers=auth("vt-rr"),
    )
    assert response.status_code == 422 and wrong not in response.text
    assert "11-proef" in response.text


def test_family_known_elsewhere_with_desks_never_content(client: TestClient, auth) -> None:
    register(
        client,
        auth,
        "politie-rr",
        signal(
            "police_dv_incident",
            (MOTHER, "victim"),
            (FATHER, "suspect"),
            (CHILD_1, "child"),
            severity="high",
            payload={"firearm_known": True, "risk_level": "high"},
        ),
    )
    register(
        client,
        auth,
        "vt-rr",
        signal(
            "vt_report",
            (MOTHER, "victim"),
            (CHILD_1, "child"),
            payload={"risk_level": "high", "safety_plan": "plan"},
        ),
    )
    answer = ask(client, auth, "wijkteam-feijenoord", "home_visit_risk_check", MOTHER, CHILD_2)
    assert answer["known"] is True
    assert answer["persons"] == [{"person": 0, "known": True}, {"person": 1, "known": False}]
    by_org = {h["organisation"]["id"]: h for h in answer["organisations"]}
    assert set(by_org) == {"politie-rr", "vt-rr"}
    assert by_org["vt-rr"]["category"] == "vt_report"
    assert by_org["politie-rr"]["category"] is None  # not visible to a wijkteam
    assert by_org["politie-rr"]["contact"]["phone"].startswith("+31")
    text = str(answer).lower()
    assert "firearm" not in text and "high" not in text and "plan" not in text


def test_no_hit_says_it_is_not_a_safety_assessment(client: TestClient, auth) -> None:
    answer = ask(client, auth, "vt-rr", "safety_assessment", STRANGER)
    assert answer["known"] is False and answer["organisations"] == []
    assert "not an assessment of safety" in answer["notice"]


def test_shelter_stay_never_reveals_the_shelter(client: TestClient, auth) -> None:
    register(client, auth, "blijf-groep", signal("shelter_stay", (MOTHER, "victim")))
    answer = ask(client, auth, "politie-rr", "acute_safety", MOTHER)
    assert answer["known"] is True
    [hit] = answer["organisations"]
    assert hit["organisation"] is None and hit["contact"]["organisation"] == "vt-rr"
    assert "blijf" not in str(answer).lower() and "shelter" not in str(answer).lower()
    police_inbox = client.get("/v1/notifications", headers=auth("politie-rr")).json()["items"]
    assert "blijf" not in str(police_inbox).lower()
    shelter_inbox = client.get("/v1/notifications", headers=auth("blijf-groep")).json()["items"]
    assert (
        shelter_inbox
        and shelter_inbox[0]["body"]["counterpart"]["organisation"]["id"] == "politie-rr"
    )


def test_a_shelter_asking_is_not_revealed_to_others(client: TestClient, auth) -> None:
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))
    ask(client, auth, "blijf-groep", "acute_safety", MOTHER)
    inbox = client.get("/v1/notifications", headers=auth("politie-rr")).json()["items"]
    assert inbox and inbox[0]["body"]["counterpart"]["organisation"] is None
    assert "blijf" not in str(inbox).lower()


def test_embargoed_investigation_is_invisible_but_registrant_learns(
    client: TestClient, auth
) -> None:
    register(
        client,
        auth,
        "politie-rr",
        signal("police_investigation", (FATHER, "suspect"), embargo=True),
    )
    answer = ask(client, auth, "wijkteam-charlois", "home_visit_risk_check", FATHER)
    assert answer["known"] is False
    police = client.get("/v1/notifications", headers=auth("politie-rr")).json()["items"]
    assert [n["body"]["counterpart"]["organisation"]["id"] for n in police] == ["wijkteam-charlois"]
    assert client.get("/v1/notifications", headers=auth("wijkteam-charlois")).json()["items"] == []


def test_matches_notify_both_sides_once_a_day(client: TestClient, auth) -> None:
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))
    created = register(client, auth, "vt-rr", signal("vt_report", (MOTHER, "victim")))
    assert created["matches"] == 2
    police = client.get("/v1/notifications", headers=auth("politie-rr")).json()["items"]
    vt = client.get("/v1/notifications", headers=auth("vt-rr")).json()["items"]
    assert len(police) == 1 and len(vt) == 1
    # Per-recipient pseudonyms: the same person, different pseudonyms at each recipient.
    assert police[0]["body"]["person"] != vt[0]["body"]["person"]
    ask(client, auth, "vt-rr", "safety_assessment", MOTHER)
    assert len(client.get("/v1/notifications", headers=auth("politie-rr")).json()["items"]) == 1
    match_id = vt[0]["body"]["match_id"]
    response = client.post(
        f"/v1/matches/{match_id}/coordinator",
        json={"organisation": "vt-rr", "desk": "overdracht"},
        headers=auth("vt-rr", "coordinator"),
    )
    assert response.status_code == 200, response.text
    seen = client.get(f"/v1/matches/{match_id}", headers=auth("politie-rr")).json()
    assert seen["coordinator"]["organisation"]["id"] == "vt-rr"
    assert client.get(f"/v1/matches/{match_id}", headers=auth("jbrr")).status_code == 404


def test_family_members_give_a_family_match(client: TestClient, auth) -> None:
    register(client, auth, "vt-rr", signal("vt_report", (CHILD_1, "child"), (MOTHER, "other")))
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))
    answer = ask(client, auth, "jbrr", "support_planning" if False else "case_handover", CHILD_1)
    by_org = {h["organisation"]["id"]: h for h in answer["organisations"]}
    assert by_org["vt-rr"]["via_family"] is False
    assert by_org["politie-rr"]["via_family"] is True


def test_bulk_is_all_or_nothing_and_idempotent(client: TestClient, auth) -> None:
    items = [signal("police_dv_incident", (b, "victim")) for b in BSNS[10:13]]
    bad = [*items[:2], {**items[2], "payload": {"risk_level": "catastrophic"}}]
    refused = client.post("/v1/signals/bulk", json={"items": bad}, headers=auth("politie-rr"))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["row"] == 2 and "catastrophic" not in refused.text
    assert client.get("/v1/signals", headers=auth("politie-rr")).json()["total"] == 0
    key = {"Idempotency-Key": "import-2026-03-01"}
    first = client.post(
        "/v1/signals/bulk", json={"items": items}, headers={**auth("politie-rr"), **key}
    )
    again = client.post(
        "/v1/signals/bulk", json={"items": items}, headers={**auth("politie-rr"), **key}
    )
    assert first.status_code == 201 and again.json() == first.json()
    assert client.get("/v1/signals", headers=auth("politie-rr")).json()["total"] == 3
    other = client.post(
        "/v1/signals/bulk", json={"items": items[:1]}, headers={**auth("politie-rr"), **key}
    )
    assert other.status_code == 409


def test_withdrawn_and_expired_signals_stop_matching(
    client: TestClient, auth, clean: Container
) -> None:
    created = register(
        client, auth, "politie-rr", signal("police_dv_incident", (OTHER_ADULT, "victim"))
    )
    assert ask(client, auth, "vt-rr", "safety_assessment", OTHER_ADULT)["known"] is True
    assert (
        client.post(f"/v1/signals/{created['id']}/withdraw", headers=auth("politie-rr")).status_code
        == 200
    )
    assert ask(client, auth, "vt-rr", "safety_assessment", OTHER_ADULT)["known"] is False
    register(client, auth, "politie-rr", signal("restraining_order", (OTHER_ADULT, "suspect")))
    with unit_of_work(clean.engine) as session:
        purged, _ = purge_expired(session, clean, now=clean.clock.now() + timedelta(days=91))
    assert purged == 2
    assert ask(client, auth, "vt-rr", "safety_assessment", OTHER_ADULT)["known"] is False


def test_purge_takes_withdrawn_signals_before_they_expire(
    client: TestClient, auth, clean: Container
) -> None:
    withdrawn = register(
        client, auth, "politie-rr", signal("police_dv_incident", (OTHER_ADULT, "victim"))
    )
    kept = register(client, auth, "politie-rr", signal("restraining_order", (STRANGER, "suspect")))
    path = f"/v1/signals/{withdrawn['id']}/withdraw"
    assert client.post(path, headers=auth("politie-rr")).status_code == 200
    with unit_of_work(clean.engine) as session:
        assert purge_expired(session, clean, now=clean.clock.now()) == (1, 0)
    with unit_of_work(clean.engine) as session:
        assert purge_expired(session, clean, now=clean.clock.now()) == (0, 0)
    own = client.get("/v1/signals", headers=auth("politie-rr")).json()
    assert [item["id"] for item in own["items"]] == [kept["id"]]


def test_purpose_binding_and_reciprocity(client: TestClient, auth) -> None:
    unknown = client.post(
        "/v1/hits",
        json={"purpose": "curiosity", "persons": [{"bsn": MOTHER}]},
        headers=auth("wijkteam-delfshaven"),
    )
    assert unknown.status_code == 422
    outside = client.post(
        "/v1/hits",
        json={"purpose": "case_conference", "persons": [{"bsn": MOTHER}]},
        headers=auth("wijkteam-delfshaven"),
    )
    assert outside.status_code == 403
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))
    refused = client.post(
        "/v1/hits",
        json={"purpose": "support_planning", "persons": [{"bsn": MOTHER}]},
        headers=auth("wijkteam-delfshaven"),
    )
    assert refused.status_code == 403 and "reciprocity" in refused.json()["detail"]
    register(client, auth, "wijkteam-delfshaven", signal("wijkteam_support", (MOTHER, "victim")))
    assert ask(client, auth, "wijkteam-delfshaven", "support_planning", MOTHER)["known"] is True
    log = client.get(
        "/v1/log/entries?event_type=refusal", headers=auth("wijkteam-delfshaven", "privacy_officer")
    )
    assert log.json()["total"] >= 1


def test_every_query_is_logged_hit_or_not(client: TestClient, auth) -> None:
    ask(client, auth, "vt-rr", "safety_assessment", STRANGER)
    entries = client.get(
        "/v1/log/entries?event_type=query", headers=auth("vt-rr", "privacy_officer")
    ).json()
    assert entries["items"][0]["outcome"] == "no_hit"
    body = entries["items"][0]["body"]
    assert body["persons"][0].startswith("lp_") and STRANGER not in str(entries)


def test_sequential_identifiers_raise_an_alert(client: TestClient, auth) -> None:
    block = [b for b in BSNS if int(b) // 1000 == int(BSNS[0]) // 1000][:4]
    assert len(block) >= 3
    for bsn in block:
        ask(client, auth, "wijkteam-feijenoord", "home_visit_risk_check", bsn)
    alerts = client.get("/v1/alerts", headers=auth("wijkteam-feijenoord", "privacy_officer")).json()
    assert "sequential_identifiers" in {a["kind"] for a in alerts}
    assert client.get("/v1/alerts", headers=auth("vt-rr", "privacy_officer")).json() == []
    assert (
        client.get("/v1/alerts", headers=auth("wijkteam-feijenoord", "professional")).status_code
        == 403
    )


def test_blind_path_matches_the_plain_path(client: TestClient, auth) -> None:
    register(client, auth, "politie-rr", signal("police_dv_incident", (CHILD_2, "child")))
    canonical = f"bsn:{CHILD_2}".encode()
    blinded = oprf.blind(canonical)
    element = base64.urlsafe_b64encode(blinded.element).rstrip(b"=").decode()
    response = client.post(
        "/v1/pseudonyms/evaluate", json={"elements": [element]}, headers=auth("vt-rr")
    )
    assert response.status_code == 200, response.text
    evaluated = response.json()["evaluated"][0]
    unblinded = oprf.unblind(
        blinded.blind, base64.urlsafe_b64decode(evaluated + "=" * (-len(evaluated) % 4))
    )
    output = base64.urlsafe_b64encode(oprf.finalize(canonical, unblinded)).rstrip(b"=").decode()
    answer = client.post(
        "/v1/hits",
        json={"purpose": "safety_assessment", "persons": [{"oprf_output": output}]},
        headers=auth("vt-rr"),
    ).json()
    assert answer["known"] is True
    bad = client.post("/v1/pseudonyms/evaluate", json={"elements": ["AAAA"]}, headers=auth("vt-rr"))
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/v1/hits",
        "/v1/pseudonyms/evaluate",
        "/v1/signals",
        "/v1/notifications",
        "/v1/matches",
        "/v1/alerts",
    ],
)
def test_every_endpoint_requires_a_token(client: TestClient, path: str) -> None:
    reads = {"/v1/notifications", "/v1/matches", "/v1/alerts", "/v1/signals"}
    response = client.request(
        "GET" if path in reads else "POST", path, json=None if path in reads else {}
    )
    assert response.status_code == 401
