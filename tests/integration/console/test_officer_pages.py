"""The privacy officer's pages without a browser: log, verify, overrides, alerts, consents."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from broker.container import Container
from tests.identities import MOTHER
from tests.integration.console.helpers import post, register, sign_in
from tests.integration.log.helpers import append_events

OVERRIDE = {
    "danger": "Mother at risk of serious violence tonight.",
    "why_now": "Father released this afternoon, threatened to come.",
    "tried": "Mother cannot be reached safely; asking alerts him.",
    "needed": "Whether a firearm is known and the risk level.",
}


def file_override(client: TestClient, auth) -> str:
    register(
        client,
        auth,
        "politie-rr",
        "police_dv_incident",
        [(MOTHER, "victim")],
        {"risk_level": "high"},
    )
    response = client.post(
        "/v1/disclosures",
        headers=auth("wijkteam-feijenoord", "professional"),
        json={
            "purpose": "acute_safety",
            "persons": [{"bsn": MOTHER}],
            "legal_basis": {"type": "serious_danger", "override": OVERRIDE},
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["override_id"]


def test_log_search_pages_and_keeps_filters(client: TestClient, token, clean: Container) -> None:
    append_events(clean, 30, org="vt-rr")
    sign_in(client, token, "vt-rr", "privacy_officer", "fg")
    first = client.get("/console/log?event_type=query&purpose=safety_assessment")
    assert first.status_code == 200 and "30 resultaten" in first.text
    assert "Pagina 1 van 2" in first.text
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")
    assert "event_type=query" in next_link and "page=2" in next_link
    second = client.get(next_link)
    assert "Pagina 2 van 2" in second.text and second.text.count("/console/log/entries/") == 5
    bad = client.get("/console/log?since=yesterday")
    assert bad.status_code == 200 and "Een datum is ongeldig." in bad.text


def test_csv_export_of_the_selection(client: TestClient, token, clean: Container) -> None:
    append_events(clean, 3, org="vt-rr")
    sign_in(client, token, "vt-rr", "privacy_officer", "fg")
    response = client.get("/console/log/export?event_type=query")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("index,time,event") and len(lines) == 4


def test_verify_checks_the_entry_against_the_signed_checkpoint(
    client: TestClient, token, clean: Container
) -> None:
    append_events(clean, 5, org="vt-rr")
    csrf = sign_in(client, token, "vt-rr", "privacy_officer", "fg")
    entry = client.get("/console/log/entries/2")
    assert entry.status_code == 200 and "Verifiëren" in entry.text
    verified = post(client, "/console/log/entries/2/verify", {"csrf": csrf})
    assert verified.status_code == 200 and "Geverifieerd" in verified.text
    assert "ongewijzigd in het logboek" in verified.text


def test_another_organisations_entry_is_invisible(
    client: TestClient, token, clean: Container
) -> None:
    append_events(clean, 2, org="vt-rr")
    csrf = sign_in(client, token, "politie-rr", "privacy_officer", "fg")
    assert client.get("/console/log/entries/1").status_code == 404
    assert post(client, "/console/log/entries/1/verify", {"csrf": csrf}).status_code == 404


def test_search_by_person_stays_in_the_post_body(client: TestClient, auth, token) -> None:
    register(client, auth, "politie-rr", "police_dv_incident", [(MOTHER, "victim")])
    csrf = sign_in(client, token, "politie-rr", "privacy_officer", "fg")
    response = post(client, "/console/log/person", {"csrf": csrf, "p0_bsn": MOTHER})
    assert response.status_code == 200 and MOTHER not in response.text
    assert re.search(r"[1-9]\d* resultaten", response.text)


def test_override_review_in_the_queue(client: TestClient, auth, token) -> None:
    override_id = file_override(client, auth)
    csrf = sign_in(client, token, "wijkteam-feijenoord", "privacy_officer", "fg")
    queue = client.get("/console/overrides")
    assert f"/console/overrides/{override_id}" in queue.text
    detail = client.get(f"/console/overrides/{override_id}")
    assert OVERRIDE["danger"] in detail.text and 'name="justified"' in detail.text
    incomplete = post(
        client, f"/console/overrides/{override_id}/review", {"csrf": csrf, "note": "ok ok"}
    )
    assert incomplete.status_code == 422
    done = post(
        client,
        f"/console/overrides/{override_id}/review",
        {"csrf": csrf, "justified": "no", "note": "A call to the police desk would have done."},
    )
    assert done.status_code == 200 and "De toetsing is vastgelegd." in done.text
    assert "Onterecht" in done.text
    assert (
        f"/console/overrides/{override_id}"
        in client.get("/console/overrides?status=unjustified").text
    )


def test_another_organisations_override_is_invisible(client: TestClient, auth, token) -> None:
    override_id = file_override(client, auth)
    csrf = sign_in(client, token, "wijkteam-charlois", "privacy_officer", "fg")
    assert override_id not in client.get("/console/overrides").text
    assert client.get(f"/console/overrides/{override_id}").status_code == 404
    review = post(
        client,
        f"/console/overrides/{override_id}/review",
        {"csrf": csrf, "justified": "yes", "note": "not mine to judge"},
    )
    assert review.status_code == 404


def test_alerts_are_listed_and_resolved(client: TestClient, auth, token, clean: Container) -> None:
    from broker.alerts.service import raise_alert
    from broker.db import unit_of_work

    now = datetime.now(UTC)
    with unit_of_work(clean.engine) as session:
        alert = raise_alert(
            session,
            org_id="vt-rr",
            user_id="a.jansen",
            kind="burst",
            window=(now - timedelta(minutes=10), now),
            details={"queries": 40},
        )
        assert alert is not None
        alert_id = alert.id
    csrf = sign_in(client, token, "vt-rr", "privacy_officer", "fg")
    page = client.get("/console/alerts")
    assert "Veel vragen in korte tijd" in page.text and "a.jansen" in page.text
    resolved = post(
        client,
        f"/console/alerts/{alert_id}/resolve",
        {"csrf": csrf, "note": "Checked with the team lead."},
    )
    assert resolved.status_code == 200 and "De signalering is afgehandeld." in resolved.text
    assert "Checked with the team lead." in client.get("/console/alerts?show=all").text


def test_consent_lookup_shows_own_consents_and_history(client: TestClient, auth, token) -> None:
    now = datetime.now(UTC)
    response = client.post(
        "/v1/consents",
        headers=auth("wijkteam-delfshaven", "professional"),
        json={
            "person": {"bsn": MOTHER},
            "given_by": "subject",
            "age_band": "16_plus",
            "recipient_types": ["wijkteam"],
            "purposes": ["case_handover"],
            "categories": ["vt_report"],
            "valid_from": (now - timedelta(days=1)).isoformat(),
            "valid_until": (now + timedelta(days=90)).isoformat(),
            "obtained_how": "written",
        },
    )
    consent_id = response.json()["id"]
    csrf = sign_in(client, token, "wijkteam-delfshaven", "privacy_officer", "fg")
    found = post(client, "/console/consents", {"csrf": csrf, "p0_bsn": MOTHER})
    assert found.status_code == 200 and consent_id in found.text and "recorded" in found.text
    assert MOTHER not in found.text
    client.cookies.clear()
    csrf = sign_in(client, token, "wijkteam-charlois", "privacy_officer", "fg")
    other = post(client, "/console/consents", {"csrf": csrf, "p0_bsn": MOTHER})
    assert consent_id not in other.text and "0 toestemmingen gevonden" in other.text


def test_weekly_charts_are_inline_svg_with_tables(
    client: TestClient, token, clean: Container
) -> None:
    append_events(clean, 4, org="vt-rr")
    sign_in(client, token, "vt-rr", "privacy_officer", "fg")
    page = client.get("/console/statistics?weeks=4")
    assert page.status_code == 200
    assert page.text.count('<svg xmlns="http://www.w3.org/2000/svg"') == 6
    assert 'role="img"' in page.text and "<desc" in page.text and "<table>" in page.text
    assert "Vragen per week" in page.text and ": 4." in page.text


def test_subject_access_report(client: TestClient, auth, token) -> None:
    register(client, auth, "politie-rr", "police_dv_incident", [(MOTHER, "victim")])
    csrf = sign_in(client, token, "politie-rr", "privacy_officer", "fg")
    form = client.get("/console/subject-access")
    assert 'name="reference"' in form.text
    incomplete = post(client, "/console/subject-access", {"csrf": csrf, "p0_bsn": MOTHER})
    assert incomplete.status_code == 422
    report = post(
        client,
        "/console/subject-access",
        {"csrf": csrf, "p0_bsn": MOTHER, "method": "digid", "reference": "case 2024-17"},
    )
    assert report.status_code == 200 and "Overzicht gemaakt" in report.text
    assert MOTHER not in report.text
