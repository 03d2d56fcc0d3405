"""``broker keys rotate``: hits before, during and after re-keying; retirement; old checkpoints.

The session's keystore is shared, so every test here leaves exactly one live version behind:
later tests run on a rotated keystore, which must work just as well.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, col, select

from broker.container import Container
from broker.db import unit_of_work
from broker.disclosure_log.verify import verify_log
from broker.disclosures.models import ProportionalityAnswers
from broker.rotation.commands import run_keys_command
from broker.rotation.inventory import HEADER_BYTES, field_header, take_inventory
from broker.rotation.rekey import plan_persons, plan_signals, rekey_batch
from broker.rotation.service import rekey_all, reload_keys, rotate_keys
from broker.signals.models import Signal, SignalPerson
from tests.identities import CHILD_1, FATHER, MOTHER, OTHER_ADULT, OTHER_CHILD, STRANGER

EVERYONE = (MOTHER, FATHER, CHILD_1, OTHER_ADULT, OTHER_CHILD, STRANGER)


def register(client: TestClient, auth, *bsns: str, risk: str = "high") -> None:
    body = {
        "category": "police_dv_incident",
        "persons": [{"person": {"bsn": b}, "role": "victim"} for b in bsns],
        "payload": {"risk_level": risk, "firearm_known": True},
        "contact_note": "wijkagent Feijenoord",
    }
    response = client.post("/v1/signals", json=body, headers=auth("politie-rr", "professional"))
    assert response.status_code == 201, response.text


def is_known(client: TestClient, auth, bsn: str) -> bool:
    response = client.post(
        "/v1/hits",
        json={"purpose": "safety_assessment", "persons": [{"bsn": bsn}]},
        headers=auth("vt-rr", "professional"),
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["known"])


def person_versions(container: Container) -> list[int]:
    with Session(container.engine) as session:
        return sorted(session.exec(select(SignalPerson.key_version)).all())


def payload_versions(container: Container) -> list[int]:
    with Session(container.engine) as session:
        payloads = session.exec(select(Signal.payload_enc)).all()
    return sorted(container.fields.key_version(blob) for blob in payloads)


def checkpoint_note(container: Container) -> str:
    with unit_of_work(container.engine) as session:
        return container.log.checkpoint(session).note


def test_a_hit_is_found_before_during_and_after_rotation(
    client: TestClient, auth, clean: Container
) -> None:
    keystore = clean.keystore
    register(client, auth, MOTHER, FATHER, risk="high")
    register(client, auth, CHILD_1, risk="medium")
    register(client, auth, OTHER_ADULT, OTHER_CHILD, risk="low")
    assert all(is_known(client, auth, bsn) for bsn in EVERYONE[:5])
    signed_before = checkpoint_note(clean)
    old = keystore.active_version

    new = rotate_keys(clean)
    assert keystore.live_versions[:2] == (new, old)
    assert all(is_known(client, auth, bsn) for bsn in EVERYONE[:5])  # nothing moved yet
    register(client, auth, STRANGER)  # written under the new version at once
    with unit_of_work(clean.engine) as session:
        for plan in (plan_persons, plan_signals):  # one person, then one signal's fields
            batch = rekey_batch(session, clean, batch_size=1, plan=plan)
            while batch.rows == 0 and batch.next is not None:  # pages emptied by earlier tests
                batch = rekey_batch(session, clean, batch_size=1, cursor=batch.next, plan=plan)
            assert batch.rows == 1
    assert set(person_versions(clean)) == {old, new}  # halfway
    assert set(payload_versions(clean)) == {old, new}
    assert all(is_known(client, auth, bsn) for bsn in EVERYONE)

    report = rekey_all(clean, batch_size=2, settle=timedelta(0))
    assert old in report.retired and report.kept == {}
    assert keystore.live_versions == (new,)
    assert set(person_versions(clean)) == {new}
    assert all(is_known(client, auth, bsn) for bsn in EVERYONE)
    with Session(clean.engine) as session:
        for signal in session.exec(select(Signal)).all():
            assert signal.payload_enc[:HEADER_BYTES] == field_header(new)
            assert signal.contact_enc is not None
            assert signal.contact_enc[:HEADER_BYTES] == field_header(new)
        assert take_inventory(session).left(old) == 0
    own = client.get("/v1/signals", headers=auth("politie-rr")).json()["items"]
    assert sorted(s["payload"]["risk_level"] for s in own) == ["high", "high", "low", "medium"]

    signed_after = checkpoint_note(clean)
    assert f"/v{old} " in signed_before and f"/v{new} " in signed_after
    with Session(clean.engine) as session:
        verified = verify_log(
            session, verifier_keys=clean.log.verifier_keys(), origin=clean.settings.log_origin
        )
    assert verified.ok, verified.problems
    assert verified.checkpoints >= 2


def test_field_header_matches_field_cipher(container: Container) -> None:
    blob = container.fields.encrypt(b"x", aad=b"test")
    assert blob[:HEADER_BYTES] == field_header(container.keystore.active_version)


def test_rekeying_waits_until_every_process_can_read_the_new_version(clean: Container) -> None:
    rotate_keys(clean)
    waits: list[float] = []
    rekey_all(clean, batch_size=10, settle=timedelta(seconds=15), wait=waits.append)
    assert len(waits) == 1 and 10 < waits[0] <= 15
    assert len(clean.keystore.live_versions) == 1


def test_a_version_is_kept_while_any_ciphertext_uses_it(clean: Container) -> None:
    old = clean.keystore.active_version
    answers = ProportionalityAnswers(
        id=uuid.uuid4().hex,
        org_id="vt-rr",
        user_id="user-1",
        answers_enc=clean.fields.encrypt(b"{}", aad=b"proportionality_answers:test"),
        created_at=clean.clock.now(),
    )
    with unit_of_work(clean.engine) as session:
        session.add(answers)
    new = rotate_keys(clean)
    report = rekey_all(clean, batch_size=10, settle=timedelta(0))
    assert report.retired == () and report.kept == {old: 1}
    assert clean.keystore.live_versions == (new, old)
    with unit_of_work(clean.engine) as session:
        session.exec(
            delete(ProportionalityAnswers).where(col(ProportionalityAnswers.id) == answers.id)
        )
    assert rekey_all(clean, batch_size=10, settle=timedelta(0)).retired == (old,)


def test_cli_rotation_is_picked_up_by_other_processes(
    client: TestClient, auth, clean: Container, broker_env, capsys
) -> None:
    register(client, auth, MOTHER)
    old = clean.keystore.active_version
    settings = broker_env.settings
    assert run_keys_command("rotate", settings, batch_size=1, settle=timedelta(0)) == 0
    out = capsys.readouterr().out
    assert "batch 1: 1 rows" in out and "re-keyed 2 rows in 2 batches" in out  # person, signal
    assert f"retired version {old}" in out
    assert clean.keystore.active_version == old  # this process has not looked yet
    assert reload_keys(clean) is True
    assert reload_keys(clean) is False  # unchanged file: no costly unlock
    new = clean.keystore.active_version
    assert new == old + 1 and clean.keystore.live_versions == (new,)
    assert is_known(client, auth, MOTHER)
    assert run_keys_command("status", settings, batch_size=1) == 0
    status = capsys.readouterr().out
    assert f"active version: {new}" in status
    assert f"v{old} retired" in status and f"v{new} active" in status
    assert run_keys_command("retire-old", settings, batch_size=1, settle=timedelta(0)) == 0
    assert "re-keyed 0 rows" in capsys.readouterr().out
