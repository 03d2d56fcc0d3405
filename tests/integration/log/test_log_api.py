"""The disclosure log over HTTP: the security ladder, scoping, filters, export and proofs."""

from __future__ import annotations

import base64
import csv
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from broker.clock import FrozenClock
from broker.container import Container
from broker.db import unit_of_work
from broker.disclosure_log.endpoints import CSV_FIELDS
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import DisclosureLog, record
from broker.disclosure_log.signer import KeystoreSigner
from broker.ledger import (
    Checkpoint,
    canonical_json,
    leaf_hash,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from broker.transaction import transaction
from keys import BsnIdentifier
from tests.identities import CHILD_1, FATHER, MOTHER, STRANGER, eleven_check

Auth = Callable[..., dict[str, str]]
VT, WIJKTEAM, POLICE = "vt-rr", "wijkteam-feijenoord", "politie-rr"
PROBLEM_JSON = "application/problem+json"
OLD_ENTRY_AGE = timedelta(days=21)


@dataclass(frozen=True)
class Seeded:
    """The entries every test starts from, by index."""

    now: datetime
    old: int  # the one entry written three weeks ago
    persons: dict[str, str]  # BSN -> log pseudonym

    @property
    def count(self) -> int:
        """Number of seeded entries; indices 0..count-1."""
        return self.old + 1


def log_pseudonym(container: Container, bsn: str) -> str:
    """The pseudonym the log stores for ``bsn``, computed as the capabilities do."""
    pseudonymiser = container.pseudonymiser
    return pseudonymiser.log_pseudonym(pseudonymiser.matching_pseudonym(BsnIdentifier(bsn)))


def event(
    event_type: EventType,
    outcome: str,
    *,
    org: str,
    user: str,
    parties: tuple[str, ...],
    persons: tuple[str, ...] = (),
    purpose: str | None = None,
    legal_basis: str | None = None,
) -> LogEvent:
    return LogEvent(
        event_type=event_type,
        outcome=outcome,
        org_id=org,
        user_id=user,
        role="professional",
        purpose=purpose,
        legal_basis=legal_basis,
        persons=persons,
        parties=parties,
    )


@pytest.fixture
def seeded(client: TestClient, clean: Container) -> Seeded:
    """Six entries now, one three weeks ago, spread over three organisations.

    Visible to vt-rr: 0, 1, 2, 4. To wijkteam-feijenoord: 1, 5. To politie-rr: 2, 3, 4, 6.
    """
    p = {bsn: log_pseudonym(clean, bsn) for bsn in (MOTHER, FATHER, CHILD_1)}
    now_events = [
        # 0: Veilig Thuis queries the mother and finds nothing.
        event(
            EventType.QUERY,
            "no_hit",
            org=VT,
            user="a.jansen",
            parties=(VT,),
            persons=(p[MOTHER],),
            purpose="safety_assessment",
        ),
        # 1: the neighbourhood team queries and hits at Veilig Thuis (a source).
        event(
            EventType.QUERY,
            "hit",
            org=WIJKTEAM,
            user="w.bakker",
            parties=(WIJKTEAM, VT),
            purpose="home_visit_risk_check",
        ),
        # 2: Veilig Thuis receives a release from the police for mother and child.
        event(
            EventType.RELEASE,
            "success",
            org=VT,
            user="a.jansen",
            parties=(VT, POLICE),
            persons=(p[MOTHER], p[CHILD_1]),
            purpose="safety_assessment",
            legal_basis="serious_danger",
        ),
        # 3: a police refusal that concerns nobody else.
        event(
            EventType.REFUSAL,
            "denied",
            org=POLICE,
            user="p.de.wit",
            parties=(POLICE,),
            purpose="monitoring",
            legal_basis="consent",
        ),
        # 4: the police query the father and hit at Veilig Thuis.
        event(
            EventType.QUERY,
            "hit",
            org=POLICE,
            user="p.de.wit",
            parties=(POLICE, VT),
            persons=(p[FATHER],),
            purpose="acute_safety",
        ),
        # 5: the neighbourhood team overrides for the child; only it is party.
        event(
            EventType.OVERRIDE,
            "success",
            org=WIJKTEAM,
            user="w.bakker",
            parties=(WIJKTEAM,),
            persons=(p[CHILD_1],),
            purpose="acute_safety",
            legal_basis="serious_danger",
        ),
    ]
    with transaction(clean.engine, clean.log) as session:
        for item in now_events:
            record(session, item)
    now = clean.clock.now()
    # 6: written three weeks ago, through a log whose clock stands still there.
    past = DisclosureLog(
        engine=clean.engine,
        clock=FrozenClock(now - OLD_ENTRY_AGE),
        signer=KeystoreSigner(clean.keystore, clean.settings.log_origin),
        origin=clean.settings.log_origin,
    )
    with transaction(clean.engine, past) as session:
        record(
            session,
            event(
                EventType.RELEASE,
                "success",
                org=POLICE,
                user="p.de.wit",
                parties=(POLICE,),
                purpose="case_conference",
                legal_basis="covenant",
            ),
        )
    return Seeded(now=now, old=len(now_events), persons=p)


def officer(auth: Auth, org: str, user: str = "fg-1") -> dict[str, str]:
    return auth(org, "privacy_officer", user=user)


def dpo(auth: Auth) -> dict[str, str]:
    return auth("broker", "privacy_officer", user="broker-fg")


def indices(response: Response, *, below: int | None = None) -> list[int]:
    """Indices of a page, newest first; ``below`` drops later entries (the log's own searches)."""
    assert response.status_code == 200, response.text
    found = [item["index"] for item in response.json()["items"]]
    return [i for i in found if below is None or i < below]


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def b64d(value: str) -> bytes:
    return base64.b64decode(value)


# --- the security ladder ---------------------------------------------------------------

ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/log/entries", None),
    ("POST", "/v1/log/entries/search", {"person": {"bsn": MOTHER}}),
    ("GET", "/v1/log/entries/0", None),
    ("GET", "/v1/log/entries/0/proof", None),
    ("GET", "/v1/log/checkpoint", None),
    ("POST", "/v1/log/checkpoint", None),
    ("GET", "/v1/log/consistency?old_size=1&new_size=2", None),
    ("GET", "/v1/log/statistics", None),
]
ENDPOINT_IDS = [f"{method} {path.split('?')[0]}" for method, path, _ in ENDPOINTS]
ADMIN_READABLE = {"/v1/log/checkpoint", "/v1/log/consistency"}


def call(
    client: TestClient,
    endpoint: tuple[str, str, dict[str, Any] | None],
    headers: dict[str, str] | None = None,
) -> Response:
    method, path, body = endpoint
    return client.request(method, path, json=body, headers=headers or {})


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_no_token_is_401_problem(client: TestClient, seeded: Seeded, endpoint: Any) -> None:
    body = assert_problem(call(client, endpoint), 401)
    assert body["type"] == "urn:dv-broker:problem:not-authenticated"
    bad = call(client, endpoint, {"Authorization": "Bearer not-a-token"})
    assert_problem(bad, 401)


@pytest.mark.parametrize("roles", [("professional",), ("coordinator",)])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_professionals_see_nothing_of_the_log(
    client: TestClient, seeded: Seeded, auth: Auth, endpoint: Any, roles: tuple[str, ...]
) -> None:
    for org in (VT, "broker"):
        body = assert_problem(call(client, endpoint, auth(org, *roles)), 403)
        assert body["type"] == "urn:dv-broker:problem:forbidden"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_admin_reads_checkpoints_and_proofs_of_consistency_only(
    client: TestClient, seeded: Seeded, auth: Auth, endpoint: Any
) -> None:
    response = call(client, endpoint, auth(VT, "admin"))
    if endpoint[1].split("?")[0] in ADMIN_READABLE:
        assert response.status_code == 200, response.text
        assert "items" not in response.json()
    else:
        assert_problem(response, 403)


def test_refused_reads_of_the_log_leave_the_log_unread(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    # A refused caller must not have caused a log search to be recorded as if it happened.
    client.get("/v1/log/entries", headers=auth(VT, "professional"))
    client.get("/v1/log/entries", headers=auth(VT, "admin"))
    response = client.get("/v1/log/entries?event_type=log_search", headers=dpo(auth))
    assert indices(response) == []


# --- another organisation's entries -----------------------------------------------------


def test_other_organisations_entries_are_not_found(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    headers = partial(officer, auth, WIJKTEAM)
    for index in (0, 2, 3, 4, seeded.old):  # vt-rr and politie-rr only
        body = assert_problem(client.get(f"/v1/log/entries/{index}", headers=headers()), 404)
        assert "vt-rr" not in str(body)
        assert_problem(client.get(f"/v1/log/entries/{index}/proof", headers=headers()), 404)
    # A nonexistent entry looks exactly the same as a hidden one.
    missing = client.get("/v1/log/entries/999999", headers=headers())
    hidden = client.get("/v1/log/entries/0", headers=headers())
    assert missing.json()["detail"] == hidden.json()["detail"]
    for index in (1, 5):
        assert client.get(f"/v1/log/entries/{index}", headers=headers()).status_code == 200


def test_other_organisations_entries_are_absent_from_searches(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    headers = partial(officer, auth, WIJKTEAM)
    listed = client.get("/v1/log/entries", headers=headers())
    assert indices(listed) == [5, 1]
    assert listed.json()["total"] == 2
    filtered = client.get(f"/v1/log/entries?organisation={VT}", headers=headers())
    assert indices(filtered) == []
    for bsn in (MOTHER, FATHER):  # concerned only by entries it is no party to
        found = client.post(
            "/v1/log/entries/search", json={"person": {"bsn": bsn}}, headers=headers()
        )
        assert indices(found) == [] and found.json()["total"] == 0
    child = client.post(
        "/v1/log/entries/search", json={"person": {"bsn": CHILD_1}}, headers=headers()
    )
    assert indices(child) == [5]


def test_other_organisations_entries_are_absent_from_statistics(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    response = client.get("/v1/log/statistics?weeks=8", headers=officer(auth, WIJKTEAM))
    assert response.status_code == 200, response.text
    weeks = response.json()["weeks"]
    assert len(weeks) == 1  # the three-week-old police entry is not counted
    counts = weeks[0]["counts"]
    assert counts["event:query"] == 1 and counts["event:override"] == 1
    assert not {"event:release", "event:refusal", "basis:consent", "basis:covenant"} & set(counts)
    assert counts["basis:serious_danger"] == 1


# --- success: an officer sees their own organisation's entries; the broker's DPO all ----


def test_officer_sees_entries_where_the_organisation_is_requester_or_source(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    headers = partial(officer, auth, VT)
    listed = client.get("/v1/log/entries", headers=headers())
    assert indices(listed) == [4, 2, 1, 0]
    assert listed.json()["total"] == 4
    entry = client.get("/v1/log/entries/4", headers=headers())  # vt-rr is the source here
    assert entry.status_code == 200, entry.text
    body = entry.json()
    assert body["event_type"] == "query" and body["outcome"] == "hit"
    assert body["body"]["org"] == POLICE and VT in body["body"]["parties"]
    assert body["body"]["persons"] == [seeded.persons[FATHER]]
    assert body["redacted"] is False


def test_broker_dpo_sees_every_entry(client: TestClient, seeded: Seeded, auth: Auth) -> None:
    listed = client.get("/v1/log/entries", headers=dpo(auth))
    assert indices(listed) == list(reversed(range(seeded.count)))
    for index in range(seeded.count):
        assert client.get(f"/v1/log/entries/{index}", headers=dpo(auth)).status_code == 200


def test_an_officer_of_another_organisation_type_is_not_the_broker_dpo(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    # Only the broker organisation's privacy officer reviews everything.
    both_roles = auth(POLICE, "privacy_officer", "admin")
    assert indices(client.get("/v1/log/entries", headers=both_roles)) == [
        seeded.old,
        4,
        3,
        2,
    ]


# --- filters, paging, export --------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"organisation={POLICE}", [6, 4, 3]),
        ("user=a.jansen", [2, 0]),
        ("purpose=acute_safety", [5, 4]),
        ("legal_basis=serious_danger", [5, 2]),
        ("event_type=release", [6, 2]),
        ("outcome=hit", [4, 1]),
        ("event_type=query&outcome=hit", [4, 1]),
        (f"event_type=query&organisation={VT}", [0]),
        ("event_type=refusal&outcome=success", []),
    ],
)
def test_filters(
    client: TestClient, seeded: Seeded, auth: Auth, query: str, expected: list[int]
) -> None:
    response = client.get(f"/v1/log/entries?{query}", headers=dpo(auth))
    assert indices(response) == expected
    assert response.json()["total"] == len(expected)


def test_period_filter(client: TestClient, seeded: Seeded, auth: Auth) -> None:
    cut = (seeded.now - timedelta(days=1)).isoformat()
    recent = client.get("/v1/log/entries", params={"since": cut}, headers=dpo(auth))
    assert indices(recent, below=seeded.count) == [5, 4, 3, 2, 1, 0]
    older = client.get("/v1/log/entries", params={"until": cut}, headers=dpo(auth))
    assert indices(older) == [seeded.old]
    window = {
        "since": (seeded.now - OLD_ENTRY_AGE - timedelta(hours=1)).isoformat(),
        "until": (seeded.now - OLD_ENTRY_AGE + timedelta(hours=1)).isoformat(),
    }
    assert indices(client.get("/v1/log/entries", params=window, headers=dpo(auth))) == [seeded.old]
    bad = client.get("/v1/log/entries", params={"since": "yesterday"}, headers=dpo(auth))
    assert_problem(bad, 422)


def test_paging(client: TestClient, seeded: Seeded, auth: Auth) -> None:
    def page(offset: int, limit: int) -> dict[str, Any]:
        response = client.get(
            "/v1/log/entries",
            params={"event_type": "query", "offset": offset, "limit": limit},
            headers=dpo(auth),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    first, second, beyond = page(0, 2), page(2, 2), page(10, 2)
    assert [i["index"] for i in first["items"]] == [4, 1]
    assert [i["index"] for i in second["items"]] == [0]
    assert beyond["items"] == []
    assert first["total"] == second["total"] == beyond["total"] == 3
    assert (first["offset"], first["limit"], second["offset"]) == (0, 2, 2)
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        response = client.get("/v1/log/entries", params=params, headers=dpo(auth))
        assert_problem(response, 422)


def test_csv_export(client: TestClient, seeded: Seeded, auth: Auth) -> None:
    response = client.get(
        "/v1/log/entries", params={"format": "csv", "event_type": "release"}, headers=dpo(auth)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(response.text))
    assert reader.fieldnames == CSV_FIELDS
    rows = list(reader)
    assert [row["index"] for row in rows] == [str(seeded.old), "2"]
    assert rows[1]["legal_basis"] == "serious_danger" and rows[1]["org"] == VT
    assert seeded.persons[MOTHER] in rows[1]["persons"]
    # The export is scoped like the JSON view.
    scoped = client.get("/v1/log/entries?format=csv", headers=officer(auth, WIJKTEAM))
    exported = [row["index"] for row in csv.DictReader(io.StringIO(scoped.text))]
    assert exported == ["5", "1"]


# --- search by person --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bsn", "expected"),
    [(MOTHER, [2, 0]), (FATHER, [4]), (CHILD_1, [5, 2]), (STRANGER, [])],
    ids=["mother", "father", "child", "stranger"],
)
def test_search_by_person_finds_exactly_their_entries(
    client: TestClient, seeded: Seeded, auth: Auth, bsn: str, expected: list[int]
) -> None:
    response = client.post(
        "/v1/log/entries/search", json={"person": {"bsn": bsn}}, headers=dpo(auth)
    )
    assert indices(response) == expected
    assert response.json()["total"] == len(expected)
    assert bsn not in response.text


def test_search_by_person_is_scoped_and_filtered(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    child = {"person": {"bsn": CHILD_1}}
    assert indices(
        client.post("/v1/log/entries/search", json=child, headers=officer(auth, VT))
    ) == [2]
    released = {**child, "event_type": "release"}
    found = client.post("/v1/log/entries/search", json=released, headers=dpo(auth))
    assert indices(found) == [2]
    later = {**child, "since": (seeded.now + timedelta(hours=1)).isoformat()}
    assert indices(client.post("/v1/log/entries/search", json=later, headers=dpo(auth))) == []


def _invalid_bsn() -> str:
    digits = MOTHER[:-1] + str((int(MOTHER[-1]) + 1) % 10)
    assert not eleven_check(digits)
    return digits


@pytest.mark.parametrize(
    "bsn",
    [_invalid_bsn(), MOTHER[:7], MOTHER + "1", MOTHER[:8] + "x"],
    ids=["checksum", "short", "long", "letter"],
)
def test_malformed_bsn_is_422_without_echo(
    client: TestClient, seeded: Seeded, auth: Auth, bsn: str
) -> None:
    response = client.post(
        "/v1/log/entries/search", json={"person": {"bsn": bsn}}, headers=dpo(auth)
    )
    assert_problem(response, 422)
    assert bsn not in response.text
    assert MOTHER[:7] not in response.text


def test_search_body_must_name_exactly_one_person_form(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    for body in ({}, {"person": {}}, {"person": {"bsn": MOTHER, "pseudonym": "lp_x"}}):
        response = client.post("/v1/log/entries/search", json=body, headers=dpo(auth))
        assert_problem(response, 422)
        assert MOTHER not in response.text


def test_authentication_comes_before_validation(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    malformed = {"person": {"bsn": _invalid_bsn()}}
    assert_problem(client.post("/v1/log/entries/search", json=malformed), 401)
    refused = client.post(
        "/v1/log/entries/search", json=malformed, headers=auth(VT, "professional")
    )
    assert_problem(refused, 403)


# --- searching the log is itself logged --------------------------------------------------


def test_searching_the_log_is_logged(client: TestClient, seeded: Seeded, auth: Auth) -> None:
    client.get("/v1/log/entries?format=csv", headers=officer(auth, VT, user="fg.vt"))
    client.post(
        "/v1/log/entries/search",
        json={"person": {"bsn": MOTHER}},
        headers=officer(auth, VT, user="fg.vt"),
    )
    response = client.get("/v1/log/entries?event_type=log_search", headers=dpo(auth))
    searches = response.json()["items"]
    assert len(searches) == 2
    by_person, listing = (item["body"] for item in searches)
    assert listing["org"] == VT and listing["user"] == "fg.vt"
    assert listing["role"] == "privacy_officer" and listing["purpose"] == "oversight"
    assert listing["details"] == {"results": 4, "format": "csv"}
    assert by_person["details"] == {"results": 2, "by": "person"}
    assert by_person["persons"] == [seeded.persons[MOTHER]]
    assert MOTHER not in response.text
    # The officer sees their own searches; the person's search now shows who looked.
    own = client.get("/v1/log/entries?event_type=log_search", headers=officer(auth, VT))
    assert len(indices(own)) >= 2
    mother = client.post(
        "/v1/log/entries/search", json={"person": {"bsn": MOTHER}}, headers=dpo(auth)
    )
    assert mother.json()["items"][0]["event_type"] == "log_search"


# --- checkpoints and proofs ----------------------------------------------------------------


def verified_checkpoint(body: dict[str, Any]) -> Checkpoint:
    return verify_checkpoint(body["note"], verifiers=body["verifier_keys"])


def test_checkpoint_note_verifies(client: TestClient, seeded: Seeded, auth: Auth) -> None:
    response = client.get("/v1/log/checkpoint", headers=officer(auth, VT))
    assert response.status_code == 200, response.text
    body = response.json()
    cp = verified_checkpoint(body)
    assert cp.size == body["size"] == seeded.count
    assert base64.b64encode(cp.root_hash).decode() == body["root_hash"]
    # Unchanged log, unchanged checkpoint: the same note is served again.
    again = client.get("/v1/log/checkpoint", headers=auth(VT, "admin")).json()
    assert again["note"] == body["note"]


def served_verifiers(client: TestClient, auth: Auth) -> list[str]:
    keys: list[str] = client.get("/v1/log/checkpoint", headers=dpo(auth)).json()["verifier_keys"]
    return keys


def test_inclusion_proofs_verify_against_the_checkpoint(
    client: TestClient, seeded: Seeded, auth: Auth
) -> None:
    headers = partial(officer, auth, VT)
    for index in (0, 1, 2, 4):
        entry = client.get(f"/v1/log/entries/{index}", headers=headers()).json()
        response = client.get(f"/v1/log/entries/{index}/proof", headers=headers())
        assert response.status_code == 200, response.text
        proof = response.json()
        cp = verify_checkpoint(proof["checkpoint"], verifiers=served_verifiers(client, auth))
        assert proof["tree_size"] == cp.size and proof["index"] == index
        # The served body is what was hashed into the tree.
        assert b64d(proof["leaf_hash"]) == leaf_hash(canonical_json(entry["body"]))
        assert verify_inclusion(
            b64d(proof["leaf_hash"]),
            index=index,
            size=cp.size,
            proof=[b64d(p) for p in proof["proof"]],
            root=cp.root_hash,
        )
        tampered = leaf_hash(canonical_json({**entry["body"], "outcome": "tampered"}))
        assert not verify_inclusion(
            tampered,
            index=index,
            size=cp.size,
            proof=[b64d(p) for p in proof["proof"]],
            root=cp.root_hash,
        )


def test_inclusion_proof_in_an_earlier_tree(client: TestClient, seeded: Seeded, auth: Auth) -> None:
    old = client.post("/v1/log/checkpoint", headers=auth(VT, "admin")).json()
    old_cp = verified_checkpoint(old)
    # The log grows by the officer's searches; the proof still refers to the old tree.
    for _ in range(3):
        client.get("/v1/log/entries", headers=dpo(auth))
    response = client.get(
        "/v1/log/entries/2/proof", params={"tree_size": old["size"]}, headers=dpo(auth)
    )
    assert response.status_code == 200, response.text
    proof = response.json()
    assert proof["checkpoint"] is None and proof["tree_size"] == old["size"]
    assert verify_inclusion(
        b64d(proof["leaf_hash"]),
        index=2,
        size=old_cp.size,
        proof=[b64d(p) for p in proof["proof"]],
        root=old_cp.root_hash,
    )
    head = client.get("/v1/log/checkpoint", headers=dpo(auth)).json()
    beyond = client.get(
        "/v1/log/entries/2/proof", params={"tree_size": head["size"] + 1}, headers=dpo(auth)
    )
    assert_problem(beyond, 422)
    before = client.get("/v1/log/entries/4/proof", params={"tree_size": 4}, headers=dpo(auth))
    assert_problem(before, 404)


def test_concurrent_signers_serve_one_checkpoint(seeded: Seeded, clean: Container) -> None:
    # Each broker process signs periodically and GET /v1/log/checkpoint signs on demand:
    # two of them at the same size must both succeed and agree, not fail on the key.
    barrier = threading.Barrier(2)

    def sign() -> str:
        with unit_of_work(clean.engine) as session:
            barrier.wait(timeout=10)
            return clean.log.latest(session).note

    for _ in range(5):
        with ThreadPoolExecutor(max_workers=2) as pool:
            notes = [f.result() for f in [pool.submit(sign) for _ in range(2)]]
        assert notes[0] == notes[1]
        assert verify_checkpoint(notes[0], verifiers=clean.log.verifier_keys()).size > 0
        with transaction(clean.engine, clean.log) as session:
            record(session, event(EventType.QUERY, "no_hit", org=VT, user="u", parties=(VT,)))


def test_consistency_proof_verifies(client: TestClient, seeded: Seeded, auth: Auth) -> None:
    headers = partial(auth, VT, "admin")
    old = client.post("/v1/log/checkpoint", headers=headers()).json()
    for _ in range(5):
        client.get("/v1/log/entries", headers=dpo(auth))
    new = client.get("/v1/log/checkpoint", headers=headers()).json()
    old_cp, new_cp = verified_checkpoint(old), verified_checkpoint(new)
    assert new_cp.size == old_cp.size + 5
    response = client.get(
        "/v1/log/consistency",
        params={"old_size": old_cp.size, "new_size": new_cp.size},
        headers=headers(),
    )
    assert response.status_code == 200, response.text
    proof = [b64d(p) for p in response.json()["proof"]]
    assert verify_consistency(
        old_cp.size,
        new_size=new_cp.size,
        old_root=old_cp.root_hash,
        new_root=new_cp.root_hash,
        proof=proof,
    )
    assert not verify_consistency(
        old_cp.size,
        new_size=new_cp.size,
        old_root=leaf_hash(b"forged"),
        new_root=new_cp.root_hash,
        proof=proof,
    )
    for params in (
        {"old_size": new_cp.size, "new_size": old_cp.size},
        {"old_size": 1, "new_size": new_cp.size + 1},
        {"old_size": -1, "new_size": 2},
    ):
        assert_problem(client.get("/v1/log/consistency", params=params, headers=headers()), 422)


# --- statistics --------------------------------------------------------------------------


def test_weekly_statistics(client: TestClient, seeded: Seeded, auth: Auth) -> None:
    response = client.get("/v1/log/statistics", params={"weeks": 8}, headers=dpo(auth))
    assert response.status_code == 200, response.text
    weeks = {week["week"]: week["counts"] for week in response.json()["weeks"]}
    year, number, _ = seeded.now.isocalendar()
    old_year, old_number, _ = (seeded.now - OLD_ENTRY_AGE).isocalendar()
    this_week, old_week = f"{year}-W{number:02d}", f"{old_year}-W{old_number:02d}"
    assert set(weeks) == {this_week, old_week}
    assert weeks[old_week] == {
        "basis:covenant": 1,
        "event:release": 1,
        "outcome:release:success": 1,
    }
    now = weeks[this_week]
    assert now["event:query"] == 3 and now["outcome:query:hit"] == 2
    assert now["outcome:query:no_hit"] == 1
    assert now["event:release"] == now["event:refusal"] == now["event:override"] == 1
    assert now["basis:serious_danger"] == 2 and now["basis:consent"] == 1
    recent = client.get("/v1/log/statistics", params={"weeks": 1}, headers=dpo(auth))
    assert [week["week"] for week in recent.json()["weeks"]] == [this_week]
    vt = client.get("/v1/log/statistics", headers=officer(auth, VT)).json()["weeks"]
    assert len(vt) == 1 and vt[0]["counts"]["event:query"] == 3
    assert "event:refusal" not in vt[0]["counts"]
    for weeks_param in (0, 105):
        bad = client.get("/v1/log/statistics", params={"weeks": weeks_param}, headers=dpo(auth))
        assert_problem(bad, 422)
