"""Bulk registration written set-based: what it stores, matches and logs equals one by one."""

from __future__ import annotations

import base64
import dataclasses
import gc
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from broker.container import Container
from broker.disclosure_log.models import LogEntry
from broker.matches.service import find_involvements, person_aad
from broker.persons import PersonRef
from broker.signals.models import Signal, SignalPerson
from broker.signals.repository import NewPerson, NewSignal
from broker.signals.service import collector_paused, signal_aad
from broker.transaction import transaction
from keys import MatchingPseudonym
from tests.identities import BSNS, CHILD_1, FATHER, MOTHER
from tests.integration.hits.test_signals_and_hits import ask, register, signal


def oprf_person(y: bytes, role: str = "victim") -> dict:
    return {
        "person": {"oprf_output": base64.urlsafe_b64encode(y).rstrip(b"=").decode()},
        "role": role,
    }


def test_new_rows_name_every_column_of_their_tables() -> None:
    # The set-based insert writes exactly these columns: a column added to the model and
    # forgotten here would silently be left to its database default.
    assert [f.name for f in dataclasses.fields(NewSignal)] == list(Signal.__table__.columns.keys())
    assert [f.name for f in dataclasses.fields(NewPerson)] == list(
        SignalPerson.__table__.columns.keys()
    )


def test_bulk_rows_are_stored_encrypted_and_bound_to_their_row(
    client: TestClient, auth, clean: Container
) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    items = [
        signal(
            "police_dv_incident",
            (BSNS[20 + n], "victim"),
            (BSNS[30 + n], "suspect"),
            payload={"risk_level": "high", "prior_incidents": n},
            contact_note=f"desk note {n}\twith a tab, a \\ and a newline\n",
            desk="hg-desk",
            severity="high",
            expires_at=expires.isoformat(),
        )
        for n in range(3)
    ]
    created = client.post("/v1/signals/bulk", json={"items": items}, headers=auth("politie-rr"))
    assert created.status_code == 201, created.text
    ids = created.json()["ids"]

    listed = client.get("/v1/signals", headers=auth("politie-rr")).json()["items"]
    by_id = {s["id"]: s for s in listed}
    for n, signal_id in enumerate(ids):
        shown = by_id[signal_id]
        assert shown["payload"] == {"risk_level": "high", "prior_incidents": n}
        assert (shown["persons"], shown["desk"], shown["severity"]) == (2, "hg-desk", "high")
        assert datetime.fromisoformat(shown["expires_at"]) == expires
        assert shown["withdrawn_at"] is None

    fields, pseudonymiser = clean.fields, clean.pseudonymiser
    with Session(clean.engine) as session:
        signals = {s.id: s for s in session.exec(select(Signal)).all()}
        persons = session.exec(select(SignalPerson).order_by(col(SignalPerson.position))).all()
    for n, signal_id in enumerate(ids):
        note = fields.decrypt(
            signals[signal_id].contact_enc or b"", aad=signal_aad(signal_id, "contact")
        )
        assert note.decode() == f"desk note {n}\twith a tab, a \\ and a newline\n"
    assert len(persons) == 6
    for person in persons:
        y = MatchingPseudonym(fields.decrypt(person.y_enc, aad=person_aad(person)))
        assert person.index_token == pseudonymiser.index_token(y, version=person.key_version)
        n = ids.index(person.signal_id)
        bsn = BSNS[20 + n] if person.position == 0 else BSNS[30 + n]
        assert y == PersonRef(bsn=bsn).pseudonym(pseudonymiser)
        assert person.role == ("victim" if person.position == 0 else "suspect")
        assert bsn.encode() not in person.y_enc + person.index_token


def test_bulk_matches_other_organisations_and_logs_every_registration(
    client: TestClient, auth, clean: Container
) -> None:
    register(client, auth, "vt-rr", signal("vt_report", (MOTHER, "victim"), (CHILD_1, "child")))
    items = [
        signal("police_dv_incident", (MOTHER, "victim")),  # direct match with vt-rr
        signal("police_dv_incident", (FATHER, "suspect")),  # nobody else knows him
        signal("police_dv_incident", (CHILD_1, "child")),  # direct match again
    ]
    created = client.post("/v1/signals/bulk", json={"items": items}, headers=auth("politie-rr"))
    assert created.status_code == 201, created.text
    # Each new match tells both sides once a day: one pair, two persons, two notices each.
    assert created.json()["matches"] == 4
    assert ask(client, auth, "vt-rr", "safety_assessment", FATHER)["known"] is True
    with Session(clean.engine) as session:
        clean.log.catch_up()
        entries = session.exec(select(LogEntry).order_by(col(LogEntry.index))).all()
    registered = [e for e in entries if (e.event_type, e.outcome) == ("registration", "registered")]
    assert len(registered) == 4  # vt-rr's one, and one per item of the bulk request


def test_own_signals_link_family_but_are_not_involvements(
    client: TestClient, auth, clean: Container
) -> None:
    # Police knows mother and father together; VT knows the father only.
    register(
        client,
        auth,
        "politie-rr",
        signal("police_dv_incident", (MOTHER, "victim"), (FATHER, "suspect")),
    )
    register(client, auth, "vt-rr", signal("vt_report", (FATHER, "suspect")))
    y = PersonRef(bsn=MOTHER).pseudonym(clean.pseudonymiser)
    with transaction(clean.engine, clean.log) as session:
        now = clean.clock.now()
        every = find_involvements(session, clean, [y], now=now)
        lean = find_involvements(session, clean, [y], now=now, exclude_org="politie-rr")
    assert sorted((i.signal.org_id, i.via_family) for i in every) == [
        ("politie-rr", False),
        ("vt-rr", True),
    ]
    assert [(i.person, i.signal.id, i.via_family) for i in lean] == [
        (i.person, i.signal.id, i.via_family) for i in every if i.signal.org_id != "politie-rr"
    ]


def test_large_blind_path_bulk_is_one_request(client: TestClient, auth) -> None:
    items = [
        {
            "category": "police_dv_incident",
            "persons": [oprf_person(bytes([n % 256, n // 256]) * 16)],
        }
        for n in range(1500)
    ]
    created = client.post(
        "/v1/signals/bulk",
        json={"items": items},
        headers={**auth("politie-rr"), "Idempotency-Key": "big"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["created"] == 1500 and len(set(created.json()["ids"])) == 1500
    assert client.get("/v1/signals", headers=auth("politie-rr")).json()["total"] == 1500
    assert gc.isenabled()


def test_the_collector_is_paused_only_during_a_bulk_request() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # an overlapping request leaves it to the first
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    try:
        with collector_paused():
            raise ValueError("refused")
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_refused_bulk_request_leaves_the_collector_on(client: TestClient, auth) -> None:
    bad = [signal("police_dv_incident", (BSNS[5], "victim"), payload={"risk_level": "x"})]
    assert (
        client.post("/v1/signals/bulk", json={"items": bad}, headers=auth("politie-rr")).status_code
        == 422
    )
    assert gc.isenabled()
