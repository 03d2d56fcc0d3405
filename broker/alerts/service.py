"""Raising, listing and resolving alerts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from broker.alerts.models import Alert
from broker.auth.principal import Principal
from broker.disclosure_log.search import require_reviewer
from broker.errors import NotFound
from broker.memo import Memo


def raise_alert(
    session: Session,
    *,
    org_id: str,
    user_id: str | None,
    kind: str,
    window: tuple[datetime, datetime],
    details: dict[str, Any],
    memo: Memo[str, bool] | None = None,
) -> Alert | None:
    """Create an alert unless the same one exists for this user, kind and window.

    A pattern past its threshold asks again on every further query of its window: with a
    ``memo`` (``Container.alert_memo``) the process asks the database only once.
    """
    dedupe = f"{org_id}:{user_id}:{kind}:{window[0].isoformat()}"
    if memo is not None and memo.get(dedupe):
        return None
    exists = session.exec(select(Alert).where(Alert.dedupe_key == dedupe)).first() is not None
    if memo is not None:
        memo.add_after_commit(session, [(dedupe, True)])
    if exists:
        return None
    alert = Alert(
        id=uuid.uuid4().hex,
        org_id=org_id,
        user_id=user_id,
        kind=kind,
        dedupe_key=dedupe,
        created_at=window[1],
        window_start=window[0],
        window_end=window[1],
        details=json.dumps(details, sort_keys=True),
    )
    session.add(alert)
    session.flush()
    return alert


def list_alerts(session: Session, principal: Principal, *, open_only: bool) -> Sequence[Alert]:
    """Alerts of the officer's organisation (every organisation for the broker's DPO)."""
    require_reviewer(principal)
    query = select(Alert).order_by(col(Alert.created_at).desc()).limit(500)
    if not principal.is_broker_dpo:
        query = query.where(Alert.org_id == principal.org_id)
    if open_only:
        query = query.where(col(Alert.resolved_at).is_(None))
    return session.exec(query).all()


def resolve_alert(
    session: Session, principal: Principal, alert_id: str, *, note: str, now: datetime
) -> Alert:
    """Mark an alert as handled, with the officer's note."""
    require_reviewer(principal)
    alert = session.get(Alert, alert_id)
    if alert is None or not (principal.is_broker_dpo or alert.org_id == principal.org_id):
        raise NotFound("No such alert.")
    alert.resolved_at, alert.resolved_by, alert.resolution = now, principal.user, note
    session.add(alert)
    return alert
