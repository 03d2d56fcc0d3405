"""``broker purge`` against the session's database, configured through the environment."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from broker.cli import main
from broker.container import Container
from broker.db import unit_of_work
from broker.disclosure_log.models import LogEntry
from broker.signals.models import Signal, SignalTombstone
from tests.identities import CHILD_1, FATHER, MOTHER


def register(client: TestClient, auth, *bsns: str) -> str:
    body = {
        "category": "police_dv_incident",
        "persons": [{"person": {"bsn": bsn}, "role": "victim"} for bsn in bsns],
    }
    response = client.post("/v1/signals", json=body, headers=auth("politie-rr"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def purge(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["purge"]) == 0
    return capsys.readouterr().out.strip()


def purge_events(container: Container) -> list[dict]:
    with Session(container.engine) as session:
        entries = session.exec(
            select(LogEntry).where(LogEntry.event_type == "purge").order_by(col(LogEntry.index))
        ).all()
    return [json.loads(e.body or "{}")["details"] for e in entries]


def test_purge_removes_ended_signals_then_old_tombstones(
    cli: Container, client: TestClient, auth, capsys: pytest.CaptureFixture[str]
) -> None:
    withdrawn = register(client, auth, MOTHER, FATHER)
    active = register(client, auth, CHILD_1)
    response = client.post(f"/v1/signals/{withdrawn}/withdraw", headers=auth("politie-rr"))
    assert response.status_code == 200

    assert purge(capsys) == "purged signals: 1, tombstones: 0"
    with Session(cli.engine) as session:
        assert [s.id for s in session.exec(select(Signal)).all()] == [active]
        tombstones = session.exec(select(SignalTombstone)).all()
    assert {(t.signal_id, t.position) for t in tombstones} == {(withdrawn, 0), (withdrawn, 1)}

    # Five years on, the tombstones go too.
    past = cli.clock.now() - timedelta(seconds=1)
    with unit_of_work(cli.engine) as session:
        session.execute(update(SignalTombstone).values(purge_after=past))
    assert purge(capsys) == "purged signals: 0, tombstones: 2"
    assert purge(capsys) == "purged signals: 0, tombstones: 0"
    # Each purge that removed something is on the record; an idle one is not.
    assert purge_events(cli) == [{"signals": 1, "tombstones": 0}, {"signals": 0, "tombstones": 2}]
