"""The professional's pages without a browser: identifiers stay in POST bodies, forms recover."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.identities import CHILD_1, FATHER, MOTHER
from tests.integration.console.helpers import (
    NONCE,
    PERSONS_REF,
    hidden,
    post,
    register,
    sign_in,
)

ANSWERS = {
    "answer_purpose": "Home visit tomorrow; is it safe to go alone?",
    "answer_need_to_know": "Only whether a weapon or acute risk is known.",
    "answer_subsidiarity": "The family does not answer; nothing lighter today.",
    "answer_proportionality": "Two fields, no history, for one visit.",
    "answer_effectiveness": "Decides whether we go with the community officer.",
}


def test_a_no_hit_says_it_is_not_a_safety_assessment(client: TestClient, token) -> None:
    csrf = sign_in(client, token, "wijkteam-feijenoord", "professional", "w")
    page = client.get("/console/check")
    assert page.text.count('autocomplete="off"') >= 8
    response = post(
        client,
        "/console/check",
        {"csrf": csrf, "purpose": "home_visit_risk_check", "p0_bsn": MOTHER},
    )
    assert response.status_code == 200
    assert "Geen treffer betekent niet dat het gezin veilig is." in response.text
    assert MOTHER not in response.text


def test_a_hit_names_whom_to_call_and_never_echoes_the_persons(
    client: TestClient, auth, token
) -> None:
    register(client, auth, "politie-rr", "police_dv_incident", [(MOTHER, "victim")])
    csrf = sign_in(client, token, "wijkteam-feijenoord", "professional", "w")
    response = post(
        client,
        "/console/check",
        {"csrf": csrf, "purpose": "home_visit_risk_check", "p0_bsn": MOTHER, "p1_bsn": CHILD_1},
    )
    assert response.status_code == 200
    assert "Elders bekend" in response.text and "+31 10 555 0101" in response.text
    assert "Persoon 1: <strong>elders bekend</strong>" in response.text
    assert MOTHER not in response.text and CHILD_1 not in response.text
    assert str(response.url.path) == "/console/check"


def test_an_invalid_bsn_is_named_by_row_not_echoed(client: TestClient, token) -> None:
    csrf = sign_in(client, token, "wijkteam-feijenoord", "professional", "w")
    wrong = MOTHER[:-1] + str((int(MOTHER[-1]) + 1) % 10)
    response = post(
        client, "/console/check", {"csrf": csrf, "purpose": "acute_safety", "p1_bsn": wrong}
    )
    assert response.status_code == 422 and "Persoon 2" in response.text
    assert wrong not in response.text


def test_release_on_five_questions_from_a_hit_check(client: TestClient, auth, token) -> None:
    register(
        client,
        auth,
        "politie-rr",
        "police_dv_incident",
        [(MOTHER, "victim"), (FATHER, "suspect")],
        {"firearm_known": True, "risk_level": "high", "violence_type": "physical"},
    )
    csrf = sign_in(client, token, "wijkteam-feijenoord", "professional", "w")
    result = post(
        client,
        "/console/check",
        {"csrf": csrf, "purpose": "home_visit_risk_check", "p0_bsn": MOTHER},
    )
    form = post(
        client,
        "/console/release/start",
        {
            "csrf": csrf,
            "purpose": "home_visit_risk_check",
            "persons_ref": hidden(PERSONS_REF, result.text),
        },
    )
    assert "1 personen uit uw vorige stap." in form.text and MOTHER not in form.text
    short = {**ANSWERS, "answer_subsidiarity": "no"}
    data = {"csrf": csrf, "purpose": "home_visit_risk_check"}
    retry = post(
        client,
        "/console/release",
        {
            **data,
            **short,
            "nonce": hidden(NONCE, form.text),
            "persons_ref": hidden(PERSONS_REF, form.text),
        },
    )
    assert retry.status_code == 422
    assert re.search(r'id="answer_subsidiarity"[^>]*aria-invalid="true"', retry.text)
    assert ANSWERS["answer_purpose"] in retry.text  # what was typed is kept
    final = {
        **data,
        **ANSWERS,
        "nonce": hidden(NONCE, retry.text),
        "persons_ref": hidden(PERSONS_REF, retry.text),
    }
    done = post(client, "/console/release", final)
    assert done.status_code == 200 and "In afwachting" in done.text
    assert post(client, "/console/release", final).status_code == 409  # sent twice


def test_a_carried_person_list_from_another_session_is_refused(client: TestClient, token) -> None:
    csrf = sign_in(client, token, "wijkteam-feijenoord", "professional", "w")
    result = post(
        client, "/console/check", {"csrf": csrf, "purpose": "acute_safety", "p0_bsn": MOTHER}
    )
    ref = hidden(PERSONS_REF, result.text)
    other = TestClient(client.app)
    other_csrf = sign_in(other, token, "wijkteam-feijenoord", "professional", "x")
    stolen = post(
        other,
        "/console/release/start",
        {"csrf": other_csrf, "purpose": "acute_safety", "persons_ref": ref},
    )
    assert stolen.status_code == 422 and "verlopen" in stolen.text


def test_override_releases_at_once_and_inbox_shows_it(client: TestClient, auth, token) -> None:
    register(
        client,
        auth,
        "politie-rr",
        "police_dv_incident",
        [(MOTHER, "victim")],
        {"firearm_known": True, "risk_level": "acute"},
    )
    csrf = sign_in(client, token, "wijkteam-feijenoord", "professional", "w")
    form = client.get("/console/override")
    statement = {
        "danger": "Mother at risk of serious violence tonight.",
        "why_now": "Father released this afternoon, threatened to come.",
        "tried": "Mother cannot be reached safely; asking alerts him.",
        "needed": "Whether a firearm is known and the risk level.",
    }
    done = post(
        client,
        "/console/override",
        {"csrf": csrf, "p0_bsn": MOTHER, "nonce": hidden(NONCE, form.text), **statement},
    )
    assert done.status_code == 200, done.text
    assert "Doorbraak vastgelegd" in done.text and "Vuurwapen bekend" in done.text
    assert "rp_" in done.text and MOTHER not in done.text
    inbox = client.get("/console/inbox")
    assert inbox.status_code == 200 and "Doorbraak" in inbox.text


def test_a_coordinator_decides_a_release_request_in_the_inbox(
    client: TestClient, auth, token
) -> None:
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
            "purpose": "home_visit_risk_check",
            "persons": [{"bsn": MOTHER}],
            "legal_basis": {
                "type": "proportionality",
                "answers": {k.removeprefix("answer_"): v for k, v in ANSWERS.items()},
            },
        },
    )
    assert response.json()["status"] == "pending"
    csrf = sign_in(client, token, "politie-rr", "professional", "p")
    inbox = client.get("/console/inbox")
    assert "Een coördinator van uw organisatie beslist" in inbox.text
    assert 'name="item_id"' not in inbox.text
    client.cookies.clear()
    csrf = sign_in(client, token, "politie-rr", "coordinator", "c")
    inbox = client.get("/console/inbox")
    item_id = re.search(r'name="item_id" value="([0-9a-f]+)"', inbox.text).group(1)
    decided = post(
        client,
        "/console/inbox/decision",
        {"csrf": csrf, "item_id": item_id, "decision": "approve", "reason": "covenant, risk known"},
    )
    assert decided.status_code == 200 and "Uw besluit is vastgelegd." in decided.text
    again = post(
        client,
        "/console/inbox/decision",
        {"csrf": csrf, "item_id": item_id, "decision": "refuse", "reason": "second thoughts"},
    )
    assert again.status_code == 409
