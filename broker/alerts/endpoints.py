"""Alerts for privacy officers."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from broker.alerts.models import Alert
from broker.alerts.service import list_alerts, resolve_alert
from broker.auth.principal import Principal
from broker.dependencies import ContainerDep, SessionDep, require_role
from broker.types import Role

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
OfficerDep = Annotated[Principal, Depends(require_role(Role.PRIVACY_OFFICER))]


class AlertPublic(BaseModel):
    """An alert with a link to the log entries behind it."""

    id: str
    organisation: str
    user: str | None
    kind: str
    created_at: datetime
    details: dict[str, Any]
    entries: str
    resolved_at: datetime | None
    resolution: str | None

    @classmethod
    def of(cls, alert: Alert) -> AlertPublic:
        """From a row; ``entries`` is the log search that shows what triggered it."""
        link = (
            f"/v1/log/entries?user={alert.user_id or ''}&organisation={alert.org_id}"
            f"&since={alert.window_start.isoformat()}&until={alert.window_end.isoformat()}"
        )
        return cls(
            id=alert.id,
            organisation=alert.org_id,
            user=alert.user_id,
            kind=alert.kind,
            created_at=alert.created_at,
            details=json.loads(alert.details),
            entries=link.replace("+", "%2B"),
            resolved_at=alert.resolved_at,
            resolution=alert.resolution,
        )


class Resolution(BaseModel):
    """How the officer handled the alert."""

    note: str = Field(min_length=3, max_length=1000)


@router.get("", response_model=list[AlertPublic])
def get_alerts(
    principal: OfficerDep, session: SessionDep, open_only: bool = True
) -> list[AlertPublic]:
    """Alerts of the officer's organisation."""
    return [AlertPublic.of(a) for a in list_alerts(session, principal, open_only=open_only)]


@router.post("/{alert_id}/resolve", response_model=AlertPublic)
def resolve(
    alert_id: str,
    body: Resolution,
    principal: OfficerDep,
    session: SessionDep,
    container: ContainerDep,
) -> AlertPublic:
    """Record how an alert was handled."""
    return AlertPublic.of(
        resolve_alert(session, principal, alert_id, note=body.note, now=container.clock.now())
    )
