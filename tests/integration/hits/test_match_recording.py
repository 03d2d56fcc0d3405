"""Recording matches: once per pair, person and day, and safe when brokers race."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlmodel import Session, col, func, select

from broker.clock import FrozenClock
from broker.container import Container
from broker.disclosure_log.models import LogEntry
from broker.matches.models import Match, MatchNotice, MatchParty, Notification
from broker.matches.service import Actor, _match_ids, find_involvements, notify_matches
from broker.persons import PersonRef
from broker.transaction import transaction
from broker.types import OrgType
from tests.conftest import BACKEND
from tests.identities import FATHER, MOTHER
from tests.integration.hits.test_signals_and_hits import ask, register, signal


def count(container: Container, model: type) -> int:
    with Session(container.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def inbox(client: TestClient, auth, org: str) -> list[dict]:
    return client.get("/v1/notifications", headers=auth(org)).json()["items"]


def log_events(container: Container) -> list[tuple[str, str]]:
    with Session(container.engine) as session:
        entries = session.exec(select(LogEntry).order_by(col(LogEntry.index))).all()
    return [(e.event_type, e.outcome) for e in entries]


def query(container: Container, org: str, org_type: OrgType, bsn: str) -> int:
    """What a hit query records, in a transaction of its own; return notifications queued."""
    y = PersonRef(bsn=bsn).pseudonym(container.pseudonymiser)
    with transaction(container.engine, container.log) as session:
        found = find_involvements(session, container, [y], now=container.clock.now())
        return notify_matches(
            session,
            container,
            actor=Actor(org_id=org, org_type=org_type, desk=None, hidden=False),
            ys=[y],
            involvements=[inv for inv in found if inv.signal.org_id != org],
            cause="query",
        )


def test_a_repeated_query_the_same_day_queues_no_second_notification(
    client: TestClient, auth, clean: Container
) -> None:
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))
    for _ in range(3):
        assert ask(client, auth, "vt-rr", "safety_assessment", MOTHER)["known"] is True
    police, vt = inbox(client, auth, "politie-rr"), inbox(client, auth, "vt-rr")
    assert len(police) == 1 and len(vt) == 1
    assert police[0]["body"]["match_id"] == vt[0]["body"]["match_id"]
    assert police[0]["body"]["counterpart"]["organisation"]["id"] == "vt-rr"
    assert vt[0]["body"]["counterpart"]["organisation"]["id"] == "politie-rr"
    assert (count(clean, Match), count(clean, MatchParty), count(clean, MatchNotice)) == (1, 2, 2)
    events = log_events(clean)
    assert events.count(("match", "matched")) == 3
    assert events.count(("notification", "queued")) == 2

    # The next day the same pair is told again, about the same match.
    tomorrow = replace(clean, clock=FrozenClock(clean.clock.now() + timedelta(days=1)))
    assert query(tomorrow, "vt-rr", OrgType.VEILIG_THUIS, MOTHER) == 2
    assert query(tomorrow, "vt-rr", OrgType.VEILIG_THUIS, MOTHER) == 0
    assert len(inbox(client, auth, "politie-rr")) == 2 and len(inbox(client, auth, "vt-rr")) == 2
    assert (count(clean, Match), count(clean, MatchParty), count(clean, MatchNotice)) == (1, 2, 4)


class Statements:
    """The SQL a block of code sends, as the database receives it."""

    def __init__(self, container: Container) -> None:
        self.engine, self.sent = container.engine, []

    def _seen(self, conn, cursor, statement, params, context, executemany) -> None:
        self.sent.append(statement)

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self.sent

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def touching(sent: list[str], *tables: str) -> list[str]:
    return [s for s in sent if any(f" {t} " in f" {s} " or f" {t}(" in s for t in tables)]


def test_a_sighting_repeated_the_same_day_writes_only_its_log_entry(
    client: TestClient, auth, clean: Container
) -> None:
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))
    assert query(clean, "vt-rr", OrgType.VEILIG_THUIS, MOTHER) == 2
    with Statements(clean) as sent:
        assert query(clean, "vt-rr", OrgType.VEILIG_THUIS, MOTHER) == 0
    assert touching(sent, "match", "match_party", "match_notice", "notification") == []
    assert touching(sent, "signal_person"), "the look-ups are still made"
    assert log_events(clean).count(("match", "matched")) == 2
    # Another process (an empty memo) writes again, and the database keeps it right.
    clean.match_memo.clear()
    with Statements(clean) as sent:
        assert query(clean, "vt-rr", OrgType.VEILIG_THUIS, MOTHER) == 0
    assert touching(sent, "match_notice")
    assert (count(clean, Match), count(clean, MatchParty), count(clean, MatchNotice)) == (1, 2, 2)
    assert log_events(clean).count(("match", "matched")) == 3


def test_a_sighting_that_rolled_back_is_not_remembered(
    client: TestClient, auth, clean: Container
) -> None:
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))

    class Abandoned(Exception):
        pass

    y = PersonRef(bsn=MOTHER).pseudonym(clean.pseudonymiser)
    with pytest.raises(Abandoned), transaction(clean.engine, clean.log) as session:
        found = find_involvements(session, clean, [y], now=clean.clock.now())
        sent = notify_matches(
            session,
            clean,
            actor=Actor(org_id="vt-rr", org_type=OrgType.VEILIG_THUIS, desk=None, hidden=False),
            ys=[y],
            involvements=[inv for inv in found if inv.signal.org_id != "vt-rr"],
            cause="query",
        )
        assert sent == 2
        raise Abandoned
    assert (count(clean, Match), count(clean, MatchNotice)) == (0, 0)
    # Nothing was remembered either: the next sighting writes and tells both sides.
    assert query(clean, "vt-rr", OrgType.VEILIG_THUIS, MOTHER) == 2
    assert (count(clean, Match), count(clean, MatchNotice)) == (1, 2)


def test_one_party_twice_in_a_query_is_one_row_and_once_hidden_stays_hidden(
    client: TestClient, auth, clean: Container
) -> None:
    register(client, auth, "politie-rr", signal("police_investigation", (MOTHER, "victim")))
    register(
        client,
        auth,
        "politie-rr",
        signal("police_investigation", (MOTHER, "victim"), embargo=True),
    )
    assert ask(client, auth, "vt-rr", "safety_assessment", MOTHER)["known"] is True
    # Both signals name the police: one notice per side, one party row, and it is hidden.
    police, vt = inbox(client, auth, "politie-rr"), inbox(client, auth, "vt-rr")
    assert len(police) == 1 and len(vt) == 1
    with Session(clean.engine) as session:
        parties = {p.org_id: p.hidden for p in session.exec(select(MatchParty)).all()}
    assert parties == {"vt-rr": False, "politie-rr": True}
    seen = client.get(f"/v1/matches/{vt[0]['body']['match_id']}", headers=auth("vt-rr")).json()
    assert [p["id"] for p in seen["parties"]] == ["vt-rr"]
    assert log_events(clean).count(("match", "matched")) == 2


def test_one_bulk_request_records_its_matches_in_order(
    client: TestClient, auth, clean: Container
) -> None:
    register(client, auth, "vt-rr", signal("vt_report", (MOTHER, "victim")))
    register(client, auth, "vt-rr", signal("vt_report", (FATHER, "suspect")))
    start = len(log_events(clean))
    items = [
        signal("police_investigation", (MOTHER, "victim")),
        signal("police_investigation", (FATHER, "suspect"), embargo=True),
    ]
    response = client.post("/v1/signals/bulk", json={"items": items}, headers=auth("politie-rr"))
    assert response.status_code == 201, response.text
    assert response.json()["matches"] == 4
    vt = inbox(client, auth, "vt-rr")
    assert len(inbox(client, auth, "politie-rr")) == 2 and len(vt) == 2
    # The embargoed signal's registrant is shown to nobody.
    shown = sorted(str(n["body"]["counterpart"]["organisation"]) for n in vt)
    assert shown[0] == "None" and "politie-rr" in shown[1]
    with Session(clean.engine) as session:
        parties = sorted((p.org_id, p.hidden) for p in session.exec(select(MatchParty)).all())
    # A match per person: the police are hidden only in the embargoed signal's match.
    assert parties == [
        ("politie-rr", False),
        ("politie-rr", True),
        ("vt-rr", False),
        ("vt-rr", False),
    ]
    # Each signal's match events come just before its registration, as one by one.
    assert log_events(clean)[start:] == [
        ("notification", "queued"),
        ("notification", "queued"),
        ("match", "matched"),
        ("registration", "registered"),
        ("notification", "queued"),
        ("notification", "queued"),
        ("match", "matched"),
        ("registration", "registered"),
    ]


def test_queued_notifications_are_logged_with_their_ids(
    client: TestClient, auth, clean: Container
) -> None:
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))
    register(client, auth, "vt-rr", signal("vt_report", (MOTHER, "victim")))
    with Session(clean.engine) as session:
        stored = {(n.id, n.org_id) for n in session.exec(select(Notification)).all()}
        logged = {
            (json.loads(e.body or "{}")["details"]["notification_id"], e.org_id)
            for e in session.exec(select(LogEntry).where(LogEntry.event_type == "notification"))
        }
        parties = {
            json.loads(e.body or "{}")["details"]["notification_id"]: json.loads(e.body or "{}")[
                "parties"
            ]
            for e in session.exec(select(LogEntry).where(LogEntry.event_type == "notification"))
        }
    assert {org for _, org in stored} == {"politie-rr", "vt-rr"}
    assert {nid for nid, _ in stored} == {nid for nid, _ in logged}
    assert all(parties[nid] == [org] for nid, org in stored)


def test_match_ids_for_thousands_of_persons_at_once(clean: Container) -> None:
    # More keys than one statement may bind: the reads and inserts go in chunks.
    keys = {f"lp_test_{number:05d}" for number in range(2500)}
    now = clean.clock.now()
    with transaction(clean.engine, clean.log) as session:
        first = _match_ids(session, set(list(keys)[:1000]), now=now)
    with transaction(clean.engine, clean.log) as session:
        ids = _match_ids(session, keys, now=now)
    assert set(ids) == keys and len(set(ids.values())) == 2500
    assert all(ids[key] == match_id for key, match_id in first.items())
    with transaction(clean.engine, clean.log) as session:
        assert _match_ids(session, keys, now=now) == ids
    assert count(clean, Match) == 2500


pg_only = pytest.mark.skipif(
    BACKEND != "postgres", reason="concurrent writers need PostgreSQL; SQLite has one writer"
)


def wait_for_lock_waiter(container: Container, *, timeout: float = 10.0) -> None:
    """Return once some session of this database waits for a lock; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    with container.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.02)
    pytest.fail("the second recording never waited for the first")


@pg_only
def test_a_second_broker_recording_the_same_match_waits_and_does_not_fail(
    client: TestClient, auth, clean: Container
) -> None:
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))
    y = PersonRef(bsn=MOTHER).pseudonym(clean.pseudonymiser)
    actor = Actor(org_id="vt-rr", org_type=OrgType.VEILIG_THUIS, desk=None, hidden=False)
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            outcome["sent"] = query(clean, "vt-rr", OrgType.VEILIG_THUIS, MOTHER)
        except Exception as exc:  # reported below, with the test's own assertion
            outcome["error"] = exc

    # The first recording holds its new match row uncommitted while the second one starts.
    with transaction(clean.engine, clean.log) as session:
        found = find_involvements(session, clean, [y], now=clean.clock.now())
        assert (
            notify_matches(session, clean, actor=actor, ys=[y], involvements=found, cause="query")
            == 2
        )
        racer = threading.Thread(target=second)
        racer.start()
        wait_for_lock_waiter(clean)
    racer.join(timeout=30)
    assert not racer.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["sent"] == 0
    assert (count(clean, Match), count(clean, MatchParty), count(clean, MatchNotice)) == (1, 2, 2)
    assert count(clean, Notification) == 2


@pg_only
def test_many_brokers_racing_on_one_person_record_one_match(
    client: TestClient, auth, clean: Container
) -> None:
    register(client, auth, "politie-rr", signal("police_dv_incident", (MOTHER, "victim")))
    askers = [("vt-rr", OrgType.VEILIG_THUIS), ("wijkteam-feijenoord", OrgType.WIJKTEAM)] * 4
    start = threading.Barrier(len(askers))
    sent: list[int] = []
    errors: list[Exception] = []

    def race(org: str, org_type: OrgType) -> None:
        start.wait()
        try:
            sent.append(query(clean, org, org_type, MOTHER))
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=race, args=asker) for asker in askers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(sent) == [0] * 6 + [2, 2]
    assert (count(clean, Match), count(clean, MatchParty), count(clean, MatchNotice)) == (1, 3, 4)
    assert count(clean, Notification) == 4
