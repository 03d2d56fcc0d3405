"""An alert already raised in its window is not looked up again by the same process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from broker.alerts.models import Alert
from broker.alerts.service import raise_alert
from broker.container import Container
from broker.db import unit_of_work

WINDOW_END = datetime(2026, 11, 24, 21, 10, tzinfo=UTC)


def raise_burst(container: Container, session: Session) -> Alert | None:
    return raise_alert(
        session,
        org_id="wijkteam-feijenoord",
        user_id="u1",
        kind="burst",
        window=(WINDOW_END - timedelta(minutes=10), WINDOW_END),
        details={"queries": 21},
        memo=container.alert_memo,
    )


def alerts(container: Container) -> int:
    with Session(container.engine) as session:
        return session.exec(select(func.count()).select_from(Alert)).one()


def test_a_raised_alert_is_remembered_once_committed(clean: Container) -> None:
    with unit_of_work(clean.engine) as session:
        assert raise_burst(clean, session) is not None
    sent: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        sent.append(statement)

    event.listen(clean.engine, "before_cursor_execute", seen)
    try:
        with unit_of_work(clean.engine) as session:
            assert raise_burst(clean, session) is None
    finally:
        event.remove(clean.engine, "before_cursor_execute", seen)
    assert not [s for s in sent if "alert" in s]
    assert alerts(clean) == 1
    # Another process (an empty memo) asks the database, which says it exists.
    clean.alert_memo.clear()
    with unit_of_work(clean.engine) as session:
        assert raise_burst(clean, session) is None
    assert alerts(clean) == 1


def test_an_alert_rolled_back_is_raised_again(clean: Container) -> None:
    with pytest.raises(RuntimeError), unit_of_work(clean.engine) as session:
        assert raise_burst(clean, session) is not None
        raise RuntimeError("the request failed after the alert")
    assert alerts(clean) == 0
    with unit_of_work(clean.engine) as session:
        assert raise_burst(clean, session) is not None
    assert alerts(clean) == 1
