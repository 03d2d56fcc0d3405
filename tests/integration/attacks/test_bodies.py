"""Hostile request bodies: too large, malformed, mistyped, too deep, too many items.

Every refusal is a problem+json 4xx; none echoes a BSN that was inside the request.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.identities import BSNS, CHILD_1, FATHER, MOTHER
from tests.integration.attacks.leaks import assert_no_identifiers, assert_problem, fresh_user

POST_ENDPOINTS = [
    "/v1/signals",
    "/v1/signals/bulk",
    "/v1/hits",
    "/v1/consents",
    "/v1/disclosures",
    "/v1/consents/lookup",
]


def headers(token, org: str = "politie-rr", role: str = "professional") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(org, role, user=fresh_user())}"}


def signal(bsn: str, **extra: object) -> dict:
    return {
        "category": "police_dv_incident",
        "persons": [{"person": {"bsn": bsn}, "role": "victim"}],
        **extra,
    }


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_oversized_body_is_413(client: TestClient, token, broker_env, path: str) -> None:
    limit = broker_env.settings.max_body_bytes
    filler = MOTHER * (limit // len(MOTHER) + 1)
    raw = json.dumps({"purpose": "x", "note": filler}).encode()[: limit + 1]
    assert len(raw) == limit + 1
    response = client.post(
        path, content=raw, headers={**headers(token), "Content-Type": "application/json"}
    )
    assert_problem(response, 413)
    assert_no_identifiers(response.text)


def _deep(depth: int) -> str:
    return '{"persons": [{"person": {"bsn": "' + FATHER + '"}}], "p": ' + "[" * depth + "]" * depth


MALFORMED = {
    "truncated_json": '{"purpose": "safety_assessment", "persons": [{"bsn": "' + MOTHER + '"',
    "not_json": "bsn=" + MOTHER,
    "trailing_garbage": json.dumps({"persons": [{"bsn": MOTHER}]}) + "}}",
    "json_array": json.dumps([{"bsn": MOTHER}, {"bsn": FATHER}]),
    "json_string": json.dumps(MOTHER),
    "nan": '{"purpose": NaN, "persons": [{"bsn": "' + MOTHER + '"}]}',
    "deeply_nested_100": _deep(100),
    "deeply_nested_5000": _deep(5000),
    "deeply_nested_object": '{"persons": ' + '{"a": ' * 3000 + f'"{CHILD_1}"' + "}" * 3000 + "}",
}


def _malformed_cases() -> list:
    return [name for name in sorted(MALFORMED)]


def _post_raw(client: TestClient, token, path: str, raw: str):
    return client.post(
        path,
        content=raw.encode(),
        headers={**headers(token), "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("name", _malformed_cases())
@pytest.mark.parametrize("path", ["/v1/signals", "/v1/hits"])
def test_malformed_json_is_422_without_echo(client: TestClient, token, path, name) -> None:
    response = _post_raw(client, token, path, MALFORMED[name])
    assert_no_identifiers(response.text)
    assert_problem(response, 422)


@pytest.mark.parametrize("name", sorted(MALFORMED))
@pytest.mark.parametrize("path", ["/v1/signals", "/v1/hits"])
def test_malformed_json_is_never_5xx_nor_echoed(client: TestClient, token, path, name) -> None:
    # The safety floor that holds today even where the status is wrong (see TOO_DEEP).
    response = _post_raw(client, token, path, MALFORMED[name])
    assert_problem(response, 400, 422)
    assert_no_identifiers(response.text)


WRONG_SHAPES = {
    "bsn_as_number": {"purpose": "safety_assessment", "persons": [{"bsn": int(MOTHER)}]},
    "bsn_as_list": {"purpose": "safety_assessment", "persons": [{"bsn": [MOTHER, FATHER]}]},
    "persons_as_string": {"purpose": "safety_assessment", "persons": MOTHER},
    "persons_as_object": {"purpose": "safety_assessment", "persons": {"bsn": MOTHER}},
    "purpose_as_object": {"purpose": {"bsn": MOTHER}, "persons": [{"bsn": MOTHER}]},
    "unknown_top_level": {
        "purpose": "safety_assessment",
        "persons": [{"bsn": MOTHER}],
        "also": FATHER,
    },
    "unknown_in_person": {"purpose": "safety_assessment", "persons": [{"bsn": MOTHER, "x": 1}]},
    "bsn_fails_11_proef": {
        "purpose": "safety_assessment",
        "persons": [{"bsn": MOTHER[:-1] + str((int(MOTHER[-1]) + 1) % 10)}],
    },
    "bsn_too_long": {"purpose": "safety_assessment", "persons": [{"bsn": MOTHER + FATHER}]},
    "too_many_persons": {
        "purpose": "safety_assessment",
        "persons": [{"bsn": b} for b in BSNS[:13]],
    },
    "empty_persons": {"purpose": "safety_assessment", "persons": []},
    "missing_purpose": {"persons": [{"bsn": MOTHER}]},
}


@pytest.mark.parametrize("name", sorted(WRONG_SHAPES))
def test_wrong_types_and_unknown_fields_are_422_without_echo(client: TestClient, token, name):
    body = WRONG_SHAPES[name]
    response = client.post("/v1/hits", json=body, headers=headers(token, "vt-rr"))
    assert_problem(response, 422)
    sent = [b for b in BSNS if b in json.dumps(body)]
    sent += [MOTHER[:-1] + str((int(MOTHER[-1]) + 1) % 10), str(int(MOTHER))]
    assert_no_identifiers(response.text, sent)


SIGNAL_SHAPES = {
    "unknown_field": signal(MOTHER, secret_note=FATHER),
    "severity_wrong": signal(MOTHER, severity={"level": FATHER}),
    "payload_as_list": signal(MOTHER, payload=[MOTHER, FATHER]),
    "too_many_persons": {
        "category": "police_dv_incident",
        "persons": [{"person": {"bsn": b}, "role": "victim"} for b in BSNS[:21]],
    },
    "role_wrong": {
        "category": "police_dv_incident",
        "persons": [{"person": {"bsn": MOTHER}, "role": ["victim", FATHER]}],
    },
}


@pytest.mark.parametrize("name", sorted(SIGNAL_SHAPES))
def test_wrong_signal_bodies_are_422_without_echo(client: TestClient, token, name) -> None:
    body = SIGNAL_SHAPES[name]
    response = client.post("/v1/signals", json=body, headers=headers(token))
    assert_problem(response, 422)
    assert_no_identifiers(response.text)


def test_bulk_of_10001_items_is_422_without_echo(client: TestClient, token) -> None:
    items = [signal(BSNS[n % len(BSNS)]) for n in range(10_001)]
    response = client.post("/v1/signals/bulk", json={"items": items}, headers=headers(token))
    assert_problem(response, 413, 422)
    assert_no_identifiers(response.text)
    listed = client.get("/v1/signals", headers=headers(token)).json()
    assert listed["items"] == []  # nothing of the refused bulk was stored


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_wrong_content_type_is_refused(client: TestClient, token, content_type: str) -> None:
    raw = json.dumps({"purpose": "safety_assessment", "persons": [{"bsn": MOTHER}]})
    response = client.post(
        "/v1/hits",
        content=raw.encode(),
        headers={**headers(token, "vt-rr"), "Content-Type": content_type},
    )
    assert_problem(response, 415, 422)
    assert_no_identifiers(response.text)


def test_empty_body_is_422(client: TestClient, token) -> None:
    response = client.post(
        "/v1/hits",
        content=b"",
        headers={**headers(token, "vt-rr"), "Content-Type": "application/json"},
    )
    assert_problem(response, 422)
