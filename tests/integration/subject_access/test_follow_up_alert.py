"""The "queries without follow-up" alert, from synthetic log entries to GET /v1/alerts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from broker.alerts.follow_up import KIND, flag_queries_without_follow_up
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.tasks import default_tasks
from broker.transaction import transaction
from tests.integration.subject_access.helpers import VT, WIJKTEAM, Auth


def queries(
    container: Container, user: str, count: int, *, org: str = WIJKTEAM, follow_up: bool = False
) -> None:
    """``count`` answered queries by one user, and optionally one registration."""
    with transaction(container.engine, container.log) as session:
        for number in range(count):
            record(
                session,
                LogEvent(
                    event_type=EventType.QUERY,
                    outcome="hit" if number % 2 else "no_hit",
                    org_id=org,
                    user_id=user,
                    role="professional",
                    purpose="home_visit_risk_check",
                    persons=(f"lp_synthetic_{user}_{number}",),
                    parties=(org,),
                ),
            )
        if follow_up:
            record(
                session,
                LogEvent(
                    event_type=EventType.REGISTRATION,
                    outcome="registered",
                    org_id=org,
                    user_id=user,
                    role="professional",
                    purpose="registration",
                    parties=(org,),
                ),
            )


def run_check(container: Container) -> int:
    with transaction(container.engine, container.log) as session:
        return flag_queries_without_follow_up(session, container, now=container.clock.now())


def test_queries_without_follow_up_raise_one_alert_with_a_link(
    client: TestClient, auth: Auth, clean: Container
) -> None:
    queries(clean, "w.curious", 12)
    queries(clean, "w.diligent", 12, follow_up=True)
    queries(clean, "w.occasional", 9)
    queries(clean, "v.curious", 3, org=VT)
    assert run_check(clean) == 1
    assert run_check(clean) == 0  # hourly runs do not repeat the alert
    alerts = client.get("/v1/alerts", headers=auth(WIJKTEAM, "privacy_officer")).json()
    [alert] = [a for a in alerts if a["kind"] == KIND]
    assert alert["user"] == "w.curious" and alert["organisation"] == WIJKTEAM
    assert alert["details"]["queries"] == 12 and alert["details"]["hits"] == 6
    linked = client.get(alert["entries"], headers=auth(WIJKTEAM, "privacy_officer")).json()
    indices = {e["index"] for e in linked["items"] if e["event_type"] == "query"}
    assert len(indices) == 12
    assert alert["details"]["first_entry"] == min(indices)
    assert alert["details"]["last_entry"] == max(indices)
    assert client.get("/v1/alerts", headers=auth(VT, "privacy_officer")).json() == []
    raised = client.get(
        "/v1/log/entries?event_type=alert", headers=auth(WIJKTEAM, "privacy_officer")
    ).json()
    assert raised["total"] == 1


def test_the_check_runs_hourly(clean: Container) -> None:
    [task] = [t for t in default_tasks(clean) if t.name == KIND]
    assert task.every_seconds == 3600
    queries(clean, "w.curious", 10)
    task.run(clean)
    with transaction(clean.engine, clean.log) as session:
        assert flag_queries_without_follow_up(session, clean, now=clean.clock.now()) == 0
