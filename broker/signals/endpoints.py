"""HTTP endpoints for signals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, status

from broker.auth.principal import Principal
from broker.dependencies import ContainerDep, SessionDep, require_role
from broker.signals.schemas import (
    BulkCreated,
    SignalBulk,
    SignalCreate,
    SignalCreated,
    SignalList,
    SignalPublic,
)
from broker.signals.service import (
    collector_paused,
    list_own,
    public,
    register_signals,
    remember,
    replay_or_none,
    request_fingerprint,
    withdraw,
)
from broker.types import Role

router = APIRouter(prefix="/v1/signals", tags=["signals"])
ProfessionalDep = Annotated[Principal, Depends(require_role(Role.PROFESSIONAL, Role.COORDINATOR))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SignalCreated)
def create_signal(
    body: SignalCreate, principal: ProfessionalDep, session: SessionDep, container: ContainerDep
) -> SignalCreated:
    """Register the organisation's involvement with a person or family."""
    prepared, matches = register_signals(session, container, principal, [body])
    signal = prepared[0].signal
    return SignalCreated(id=signal.id, expires_at=signal.expires_at, matches=matches)


@router.post("/bulk", status_code=status.HTTP_201_CREATED, response_model=BulkCreated)
def create_signals(
    body: SignalBulk,
    principal: ProfessionalDep,
    session: SessionDep,
    container: ContainerDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Any:
    """Register up to 10,000 signals at once: all or nothing, with per-row errors."""
    with collector_paused():
        fingerprint = request_fingerprint(body.items)
        if idempotency_key:
            previous = replay_or_none(session, principal, idempotency_key, fingerprint)
            if previous is not None:
                return previous
        prepared, matches = register_signals(session, container, principal, body.items)
        response = BulkCreated(
            created=len(prepared), ids=[p.signal.id for p in prepared], matches=matches
        ).model_dump(mode="json")
        if idempotency_key:
            remember(
                session,
                principal,
                idempotency_key,
                fingerprint,
                response,
                now=container.clock.now(),
            )
        return response


@router.get("", response_model=SignalList)
def list_signals(
    principal: ProfessionalDep,
    session: SessionDep,
    container: ContainerDep,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SignalList:
    """The organisation's own signals."""
    items, total = list_own(session, container, principal, offset=offset, limit=limit)
    return SignalList(items=items, total=total)


@router.post("/{signal_id}/withdraw", response_model=SignalPublic)
def withdraw_signal(
    signal_id: str, principal: ProfessionalDep, session: SessionDep, container: ContainerDep
) -> SignalPublic:
    """Withdraw one of the organisation's own signals."""
    signal = withdraw(session, container, principal, signal_id)
    return public(container, signal, persons=0)
