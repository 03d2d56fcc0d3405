"""Helpers for subject-access tests: registering, asking and releasing through HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

Auth = Callable[..., dict[str, str]]
POLICE, VT, SHELTER, DPO = "politie-rr", "vt-rr", "blijf-groep", "broker"
WIJKTEAM = "wijkteam-feijenoord"
VERIFIED = {"method": "id_document_in_person", "reference": "Passport checked at the desk"}
ANSWERS = {
    "purpose": "Home visit tomorrow; need to know whether it is safe to go alone.",
    "need_to_know": "Only whether a weapon or acute risk is known at the address.",
    "subsidiarity": "The family does not answer the phone; no less intrusive way today.",
    "proportionality": "Two fields, no history, for one visit: proportionate to the risk.",
    "effectiveness": "With this we decide to visit with the community officer or not.",
}
OVERRIDE = {
    "danger": "Mother at risk of serious violence from the father tonight.",
    "why_now": "Father released this afternoon and threatened to come to the house.",
    "tried": "Mother cannot be reached safely; asking consent would alert the father.",
    "needed": "Whether a firearm is known and the current police risk level.",
}


def register(
    client: TestClient,
    auth: Auth,
    org: str,
    category: str,
    persons: list[tuple[str, str]],
    **extra: Any,
) -> str:
    body = {
        "category": category,
        "persons": [{"person": {"bsn": b}, "role": r} for b, r in persons],
        **extra,
    }
    response = client.post("/v1/signals", json=body, headers=auth(org, "professional"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def ask(client: TestClient, auth: Auth, org: str, purpose: str, bsn: str) -> None:
    response = client.post(
        "/v1/hits",
        json={"purpose": purpose, "persons": [{"bsn": bsn}]},
        headers=auth(org, "professional"),
    )
    assert response.status_code == 200, response.text


def disclose(
    client: TestClient, auth: Auth, org: str, purpose: str, bsn: str, basis: dict[str, Any]
) -> dict[str, Any]:
    response = client.post(
        "/v1/disclosures",
        json={"purpose": purpose, "persons": [{"bsn": bsn}], "legal_basis": basis},
        headers=auth(org, "professional"),
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def approve_pending(client: TestClient, auth: Auth, source: str) -> None:
    for request in client.get("/v1/release-requests", headers=auth(source, "coordinator")).json():
        response = client.post(
            f"/v1/release-requests/{request['item_id']}/decision",
            json={"decision": "approve", "reason": "risk is real, share"},
            headers=auth(source, "coordinator"),
        )
        assert response.status_code == 200, response.text


def report(client: TestClient, auth: Auth, org: str, bsn: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/subject-access/reports",
        json={"person": {"bsn": bsn}, "verification": VERIFIED, **extra},
        headers=auth(org, "privacy_officer"),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
