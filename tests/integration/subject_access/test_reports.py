"""Subject-access reports through HTTP (DOMAIN.md scenario 9): never leading to a victim."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text as sql

from broker.container import Container
from broker.subject_access.text import WITHHELD
from keys import BsnIdentifier
from tests.identities import FATHER, MOTHER, OTHER_ADULT
from tests.integration.subject_access.helpers import (
    ANSWERS,
    DPO,
    OVERRIDE,
    POLICE,
    SHELTER,
    VERIFIED,
    VT,
    WIJKTEAM,
    Auth,
    approve_pending,
    ask,
    disclose,
    register,
    report,
)

POLICE_NAME = "Politie Eenheid Rotterdam, team huiselijk geweld"
VT_NAME = "Veilig Thuis Rotterdam Rijnmond"
WIJKTEAM_NAME = "Wijkteam Feijenoord"
SHELTER_NAME = "Vrouwenopvang Rotterdam-Rijnmond"
WHEREABOUTS = ("blijf", "shelter", "opvang", SHELTER_NAME.lower())


def log_pseudonym(container: Container, bsn: str) -> str:
    pseudonymiser = container.pseudonymiser
    return pseudonymiser.log_pseudonym(pseudonymiser.matching_pseudonym(BsnIdentifier(bsn)))


def chain_around_the_mother(client: TestClient, auth: Auth) -> None:
    """Police and VT register, a shelter takes her in, and several organisations ask."""
    register(
        client,
        auth,
        POLICE,
        "police_dv_incident",
        [(MOTHER, "victim"), (FATHER, "suspect")],
        payload={"firearm_known": True, "risk_level": "high", "violence_type": "physical"},
    )
    register(client, auth, VT, "vt_report", [(MOTHER, "victim")], payload={"risk_level": "high"})
    register(client, auth, SHELTER, "shelter_stay", [(MOTHER, "victim")])
    ask(client, auth, SHELTER, "acute_safety", MOTHER)
    ask(client, auth, WIJKTEAM, "home_visit_risk_check", MOTHER)
    pending = disclose(
        client,
        auth,
        WIJKTEAM,
        "home_visit_risk_check",
        MOTHER,
        {"type": "proportionality", "answers": ANSWERS},
    )
    assert pending["status"] == "pending"
    approve_pending(client, auth, POLICE)
    # The shelter receives police data on a serious-danger override: never in a report.
    override = disclose(
        client,
        auth,
        SHELTER,
        "acute_safety",
        MOTHER,
        {"type": "serious_danger", "override": OVERRIDE},
    )
    assert override["status"] == "released"


def test_report_lists_who_registered_asked_and_received(
    client: TestClient, auth: Auth, clean: Container
) -> None:
    chain_around_the_mother(client, auth)
    result = report(client, auth, DPO, MOTHER)
    sections = result["sections"]
    assert result["scope"] == "chain"
    assert {
        (r["organisation"], r["category"]["en"], r["status"]) for r in sections["registrations"]
    } == {
        (POLICE_NAME, "Police domestic-violence incident", "active"),
        (VT_NAME, "Veilig Thuis report", "active"),
    }
    assert all(len(r["month"]) == 7 for r in sections["registrations"])
    assert [(q["organisation"], q["purpose"]["en"], q["outcome"]) for q in sections["queries"]] == [
        (WIJKTEAM_NAME, "Home-visit risk check", "known")
    ]
    [receipt] = sections["receipts"]
    assert receipt["organisation"] == WIJKTEAM_NAME and receipt["source"] == POLICE_NAME
    assert receipt["fields"] == ["firearm_known", "risk_level"]
    assert receipt["legal_basis"]["en"] == "weighing without consent (the five questions)"
    text = result["text"]
    assert "Overzicht van uw gegevens" in text and "Overview of your data" in text
    assert POLICE_NAME in text and WIJKTEAM_NAME in text and "firearm_known" in text
    assert MOTHER not in text and "physical" not in text and "high" not in text


def test_shelter_stay_and_shelter_queries_are_withheld_with_the_ground(
    client: TestClient, auth: Auth, clean: Container
) -> None:
    chain_around_the_mother(client, auth)
    response = client.post(
        "/v1/subject-access/reports",
        json={"person": {"bsn": MOTHER}, "verification": VERIFIED},
        headers=auth(DPO, "privacy_officer"),
    )
    assert response.status_code == 201, response.text
    everything = response.text.lower()
    for word in WHEREABOUTS:
        assert word not in everything, word
    result = response.json()
    assert "Information was withheld to protect the safety of a person" in result["text"]
    assert "art. 41 UAVG" in result["text"] and "veiligheid van een persoon" in result["text"]
    assert result["withheld"]["legal_reference"] == "art. 23 AVG / art. 41 UAVG"
    # No count, no kind: the notice reads the same whatever and however much was withheld.
    assert result["withheld"] == WITHHELD.model_dump()
    stored = client.get(
        f"/v1/subject-access/reports/{result['id']}", headers=auth(DPO, "privacy_officer")
    )
    assert stored.status_code == 200 and stored.json() == result


def test_embargoed_investigation_is_absent(
    client: TestClient, auth: Auth, clean: Container
) -> None:
    register(client, auth, POLICE, "police_investigation", [(FATHER, "suspect")], embargo=True)
    register(client, auth, POLICE, "police_dv_incident", [(FATHER, "suspect")])
    result = report(client, auth, DPO, FATHER)
    assert [r["category"]["en"] for r in result["sections"]["registrations"]] == [
        "Police domestic-violence incident"
    ]
    text = result["text"].lower()
    assert "opsporingsonderzoek" not in text and "police investigation" not in text
    assert result["withheld"] == WITHHELD.model_dump()


def test_nothing_withheld_means_no_notice(client: TestClient, auth: Auth, clean: Container) -> None:
    register(client, auth, VT, "vt_report", [(OTHER_ADULT, "victim")])
    result = report(client, auth, DPO, OTHER_ADULT)
    assert result["withheld"] is None and "withheld" not in result["text"]
    assert len(result["sections"]["registrations"]) == 1


def test_report_is_stored_encrypted_and_logged_for_the_officer_only(
    client: TestClient, auth: Auth, clean: Container
) -> None:
    register(client, auth, VT, "vt_report", [(MOTHER, "victim")])
    result = report(client, auth, VT, MOTHER)
    person = log_pseudonym(clean, MOTHER)
    entries = client.get(
        "/v1/log/entries?event_type=subject_access", headers=auth(VT, "privacy_officer")
    ).json()["items"]
    [entry] = entries
    assert entry["body"]["parties"] == [VT] and entry["body"]["persons"] == [person]
    assert entry["body"]["details"]["report_id"] == result["id"]
    assert MOTHER not in str(entries) and VERIFIED["reference"] not in str(entries)
    police_view = client.get(
        "/v1/log/entries?event_type=subject_access", headers=auth(POLICE, "privacy_officer")
    ).json()
    assert police_view["total"] == 0
    with clean.engine.connect() as conn:
        blob = conn.execute(sql("SELECT report_enc FROM subject_access_report")).scalar_one()
    assert b"Veilig Thuis" not in bytes(blob) and b"Passport" not in bytes(blob)


def test_security_ladder_and_organisation_scope(
    client: TestClient, auth: Auth, clean: Container
) -> None:
    body = {"person": {"bsn": MOTHER}, "verification": VERIFIED}
    assert client.post("/v1/subject-access/reports", json=body).status_code == 401
    professional = client.post(
        "/v1/subject-access/reports", json=body, headers=auth(VT, "professional")
    )
    assert professional.status_code == 403
    assert professional.headers["content-type"] == "application/problem+json"
    bad = client.post(
        "/v1/subject-access/reports",
        json={**body, "verification": {"method": "phone_call", "reference": "said so"}},
        headers=auth(VT, "privacy_officer"),
    )
    assert bad.status_code == 422
    register(client, auth, POLICE, "police_dv_incident", [(MOTHER, "victim")])
    register(client, auth, VT, "vt_report", [(MOTHER, "victim")])
    ask(client, auth, WIJKTEAM, "home_visit_risk_check", MOTHER)
    own = report(client, auth, VT, MOTHER)
    assert own["scope"] == "organisation"
    assert [r["organisation"] for r in own["sections"]["registrations"]] == [VT_NAME]
    # The wijkteam's query named Veilig Thuis, so Veilig Thuis is a party to it.
    assert [q["organisation"] for q in own["sections"]["queries"]] == [WIJKTEAM_NAME]
    assert POLICE_NAME not in own["text"]
    path = f"/v1/subject-access/reports/{own['id']}"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=auth(VT, "professional")).status_code == 403
    assert client.get(path, headers=auth(POLICE, "privacy_officer")).status_code == 404
    assert client.get(path, headers=auth(DPO, "privacy_officer")).status_code == 404
    assert client.get(path, headers=auth(VT, "privacy_officer")).json()["id"] == own["id"]
    charlois = report(client, auth, "wijkteam-charlois", MOTHER)
    assert charlois["sections"] == {"registrations": [], "queries": [], "receipts": []}


def test_period_limits_the_report(client: TestClient, auth: Auth, clean: Container) -> None:
    register(client, auth, VT, "vt_report", [(MOTHER, "victim")])
    past = report(client, auth, DPO, MOTHER, period={"since": "2001-01-01", "until": "2001-12-31"})
    assert past["sections"]["registrations"] == []
    backwards = client.post(
        "/v1/subject-access/reports",
        json={
            "person": {"bsn": MOTHER},
            "verification": VERIFIED,
            "period": {"since": "2002-01-01", "until": "2001-01-01"},
        },
        headers=auth(DPO, "privacy_officer"),
    )
    assert backwards.status_code == 422
