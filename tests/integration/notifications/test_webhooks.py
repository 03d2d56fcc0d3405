"""Webhook delivery of the outbox to a real receiver, signed as Standard Webhooks specifies."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from broker.container import Container
from broker.disclosure_log.models import LogEntry
from broker.matches.delivery import (
    CHUNK,
    LEASE,
    RETRY_WINDOW,
    DeliveryReport,
    deliver_due,
)
from broker.matches.models import Notification
from broker.matches.service import queue_notification
from broker.tasks import TaskRunner, default_tasks
from broker.transaction import transaction
from tests.conftest import BACKEND
from tests.identities import BSNS, MOTHER, NORMALISED_NAME_FRAGMENTS
from tests.integration.notifications.conftest import set_webhook
from tests.integration.notifications.receiver import Receiver


def cause_match(client: TestClient, auth) -> None:
    """Police, then Veilig Thuis, register a signal on the same person: both are told."""
    for org, category in (("politie-rr", "police_dv_incident"), ("vt-rr", "vt_report")):
        body = {"category": category, "persons": [{"person": {"bsn": MOTHER}, "role": "victim"}]}
        response = client.post("/v1/signals", json=body, headers=auth(org, "professional"))
        assert response.status_code == 201, response.text


def inbox(client: TestClient, auth, org: str) -> list[dict]:
    return client.get("/v1/notifications", headers=auth(org)).json()["items"]


def rows(container: Container) -> list[Notification]:
    with Session(container.engine) as session:
        return list(session.exec(select(Notification).order_by(col(Notification.org_id))).all())


def aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def webhook_events(container: Container) -> list[dict]:
    with Session(container.engine) as session:
        entries = session.exec(
            select(LogEntry)
            .where(LogEntry.event_type == "notification", col(LogEntry.outcome) != "queued")
            .order_by(col(LogEntry.index))
        ).all()
    return [json.loads(e.body or "{}") for e in entries]


def due_at(container: Container) -> datetime:
    """When the last pending notification falls due."""
    pending = [r.webhook_next_at for r in rows(container) if r.webhook_next_at is not None]
    return max(aware(moment) for moment in pending)


def next_round(container: Container) -> datetime:
    """A delivery round just after every pending notification is due."""
    return due_at(container) + timedelta(seconds=1)


def assert_no_personal_data(text: str) -> None:
    assert not any(bsn in text for bsn in BSNS)
    assert not any(fragment in text.lower() for fragment in NORMALISED_NAME_FRAGMENTS)


def test_a_match_is_delivered_once_signed_and_without_bsn(
    client: TestClient, auth, clean: Container, receiver: Receiver, hooks
) -> None:
    hooks("vt-rr")
    cause_match(client, auth)
    [note] = inbox(client, auth, "vt-rr")
    now = clean.clock.now()

    assert deliver_due(clean, now=now) == DeliveryReport(delivered=1)

    [got] = receiver.received
    assert got.accepted and (got.org, got.msg_id) == ("vt-rr", note["id"])
    assert abs(got.timestamp - now.timestamp()) < 5
    payload = json.loads(got.body)
    assert payload["type"] == "notification.match" and payload["data"] == note["body"]
    assert_no_personal_data(got.body.decode())
    assert deliver_due(clean, now=now + timedelta(days=2)) == DeliveryReport()
    assert len(receiver.received) == 1
    police, vt = rows(clean)
    # Police has no webhook: its notification stays in the inbox only.
    assert (police.webhook_next_at, police.webhook_attempts) == (None, 0)
    assert vt.webhook_delivered_at is not None and vt.webhook_attempts == 1
    [event] = webhook_events(clean)
    assert (event["outcome"], event["parties"], event["org"]) == ("delivered", ["vt-rr"], None)
    assert event["details"]["notification_id"] == note["id"] and event["details"]["status"] == 200
    assert_no_personal_data(json.dumps(event))


def test_retries_with_backoff_while_down_then_delivers_each_exactly_once(
    client: TestClient, auth, clean: Container, receiver: Receiver, hooks
) -> None:
    hooks("vt-rr")
    hooks("politie-rr")
    cause_match(client, auth)
    start = clean.clock.now()
    receiver.status = 500
    assert deliver_due(clean, now=start) == DeliveryReport(retried=2)
    assert deliver_due(clean, now=start + timedelta(seconds=10)) == DeliveryReport()
    receiver.stop()  # connections are refused from now on

    delays: list[float] = []
    while (moment := next_round(clean)) < start + timedelta(hours=1):
        assert deliver_due(clean, now=moment) == DeliveryReport(retried=2)
        delays.append((due_at(clean) - moment).total_seconds())

    assert [round(d) for d in delays] == [60, 120, 240, 480, 960, 1920]
    assert {r.webhook_attempts for r in rows(clean)} == {7}
    assert len(receiver.received) == 2  # the two answered with 500; the rest were refused

    receiver.status = 200
    receiver.start()
    assert deliver_due(clean, now=start + timedelta(hours=1)) == DeliveryReport()  # not yet due
    assert deliver_due(clean, now=next_round(clean)) == DeliveryReport(delivered=2)
    for later in (1, 2, 24, 48):
        assert deliver_due(clean, now=start + timedelta(hours=later)) == DeliveryReport()

    assert Counter(d.msg_id for d in receiver.accepted) == {r.id: 1 for r in rows(clean)}
    assert all(d.valid for d in receiver.received)
    outcomes = Counter(e["outcome"] for e in webhook_events(clean))
    assert outcomes == {"retry": 14, "delivered": 2}
    refused = [e["details"] for e in webhook_events(clean) if e["details"]["status"] is None]
    assert refused and all(d["error"] == "ConnectError" for d in refused)


def test_gives_up_after_a_day_of_failures_and_logs_it(
    client: TestClient,
    auth,
    clean: Container,
    receiver: Receiver,
    hooks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hooks("vt-rr")
    cause_match(client, auth)
    receiver.status = 500
    moment = clean.clock.now()
    delays: list[float] = []
    caplog.set_level(logging.WARNING, logger="broker.webhooks")
    for _ in range(100):
        report = deliver_due(clean, now=moment)
        if report.given_up:
            break
        assert report == DeliveryReport(retried=1)
        delays.append((due_at(clean) - moment).total_seconds())
        moment = next_round(clean)

    assert report == DeliveryReport(given_up=1)
    [vt] = [r for r in rows(clean) if r.org_id == "vt-rr"]
    deadline = aware(vt.created_at) + RETRY_WINDOW
    assert deadline <= aware(vt.webhook_given_up_at) < deadline + timedelta(seconds=5)
    assert vt.webhook_next_at is None and vt.webhook_attempts == len(delays) + 1
    assert max(delays) == pytest.approx(3600, abs=1)  # the backoff is capped at an hour
    assert webhook_events(clean)[-1]["outcome"] == "given_up"
    assert any(r.getMessage() == "webhook delivery given up" for r in caplog.records)

    receiver.status = 200
    sent = len(receiver.received)
    assert deliver_due(clean, now=moment + timedelta(days=2)) == DeliveryReport()
    assert len(receiver.received) == sent and receiver.accepted == []


def test_a_claimed_notification_is_leased_not_sent_again(
    client: TestClient, auth, clean: Container, receiver: Receiver, hooks
) -> None:
    """A process that dies mid-send leaves a lease; only its expiry makes the row due again."""
    hooks("vt-rr")
    cause_match(client, auth)
    now = clean.clock.now()

    class Crash(Exception):
        pass

    def crash(request: httpx.Request) -> httpx.Response:
        raise Crash

    with httpx.Client(transport=httpx.MockTransport(crash)) as dying, pytest.raises(Crash):
        deliver_due(clean, now=now, client=dying)
    assert deliver_due(clean, now=now + LEASE - timedelta(seconds=1)) == DeliveryReport()
    assert deliver_due(clean, now=now + LEASE + timedelta(seconds=1)) == DeliveryReport(delivered=1)
    assert len(receiver.accepted) == 1


@pytest.mark.skipif(
    BACKEND != "postgres", reason="row locks need PostgreSQL; SQLite is the single-process mode"
)
def test_concurrent_deliverers_send_each_notification_once(
    clean: Container, receiver: Receiver, hooks
) -> None:
    hooks("vt-rr")
    now = clean.clock.now()
    with transaction(clean.engine, clean.log) as session:
        for number in range(60):
            queue_notification(session, clean, "vt-rr", "test", {"n": number}, now=now)
    receiver.delay = 0.005
    reports: list[DeliveryReport] = []

    def deliver() -> None:
        reports.append(deliver_due(clean, now=now + timedelta(seconds=1)))

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.delivered for r in reports) == 60
    assert sorted(Counter(d.msg_id for d in receiver.received).values()) == [1] * 60
    assert all(d.accepted for d in receiver.received)


def test_the_periodic_task_delivers(
    client: TestClient, auth, clean: Container, receiver: Receiver, hooks
) -> None:
    tasks = {task.name: task for task in default_tasks(clean)}
    assert (tasks["webhooks"].every_seconds, tasks["purge"].every_seconds) == (5, 3600)
    hooks("vt-rr")
    cause_match(client, auth)
    TaskRunner(clean, [tasks["webhooks"]]).run_due(0.0)
    assert len(receiver.accepted) == 1


def test_webhook_secret_security_ladder(client: TestClient, auth, clean: Container) -> None:
    path = "/v1/organisations/vt-rr/webhook-secret"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=auth("vt-rr", "professional")).status_code == 403
    assert client.get(path, headers=auth("politie-rr", "admin")).status_code == 404
    assert client.get(path, headers=auth("broker", "admin")).status_code == 404
    missing = "/v1/organisations/nobody/webhook-secret"
    assert client.get(missing, headers=auth("vt-rr", "admin")).status_code == 404
    response = client.get(path, headers=auth("vt-rr", "admin"))
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    shown = response.json()
    assert shown["organisation"] == "vt-rr" and shown["secret"].startswith("whsec_")
    other = client.get(
        "/v1/organisations/politie-rr/webhook-secret", headers=auth("politie-rr", "admin")
    ).json()
    assert other["secret"] != shown["secret"]


def queue_for_police_and_vt(container: Container, now: datetime) -> None:
    """More than a round's chunk of notifications for the police, and one for Veilig Thuis."""
    with transaction(container.engine, container.log) as session:
        for n in range(CHUNK * 3):
            queue_notification(session, container, "politie-rr", "match", {"n": n}, now=now)
        queue_notification(session, container, "vt-rr", "match", {"n": 0}, now=now)


def test_notifications_without_a_webhook_never_join_the_delivery_queue(
    clean: Container, receiver: Receiver, hooks
) -> None:
    hooks("vt-rr")
    now = clean.clock.now()
    queue_for_police_and_vt(clean, now)
    queued = [row for row in rows(clean) if row.webhook_next_at is not None]
    assert [row.org_id for row in queued] == ["vt-rr"]
    assert deliver_due(clean, now=now, limit=CHUNK) == DeliveryReport(delivered=1)
    assert len(receiver.received) == 1
    assert deliver_due(clean, now=now + timedelta(hours=1)) == DeliveryReport()


def test_one_round_takes_a_removed_webhooks_notifications_off_the_queue(
    clean: Container, receiver: Receiver, hooks
) -> None:
    # Queued while police had a webhook; then it was removed.
    hooks("vt-rr")
    hooks("politie-rr")
    now = clean.clock.now()
    queue_for_police_and_vt(clean, now)
    set_webhook(clean, "politie-rr", None, {})
    assert deliver_due(clean, now=now, limit=CHUNK) == DeliveryReport(
        delivered=1, inbox_only=CHUNK * 3
    )
    assert all(row.webhook_next_at is None for row in rows(clean))
    assert [got.org for got in receiver.received] == ["vt-rr"]
    assert deliver_due(clean, now=now + timedelta(hours=1)) == DeliveryReport()
