"""HTTP endpoints of the hit service and the blind pseudonymisation path."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from broker.auth.principal import Principal
from broker.dependencies import ContainerDep, SessionDep, require_role
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.errors import InvalidRequest
from broker.hits.schemas import HitAnswer, HitQuery
from broker.hits.service import find_hits
from broker.persons import decode_b64url
from broker.transaction import transaction
from broker.types import Role
from keys import InvalidElement

router = APIRouter(prefix="/v1", tags=["hits"])
ProfessionalDep = Annotated[Principal, Depends(require_role(Role.PROFESSIONAL, Role.COORDINATOR))]


class BlindEvaluation(BaseModel):
    """Blinded group elements (base64url), one per person, from the client's OPRF step."""

    elements: list[str] = Field(min_length=1, max_length=10_000)


class BlindEvaluated(BaseModel):
    """The broker's evaluations, in the same order."""

    evaluated: list[str]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return decode_b64url(text)
    except ValueError as exc:
        raise InvalidRequest("An element is not base64url.") from exc


@router.post("/hits", response_model=HitAnswer)
def query_hits(body: HitQuery, principal: ProfessionalDep, container: ContainerDep) -> Response:
    """Is this family known elsewhere, and whom do I call? Never content."""
    # The transaction (``SessionDep``'s, opened here) runs in this endpoint's worker thread:
    # a generator dependency would cost two more thread-pool hops on the busiest endpoint.
    with transaction(container.engine, container.log) as session:
        answer = find_hits(
            session, container, principal, purpose=body.purpose, persons=body.persons
        )
    # Built by the broker itself a moment ago: serialised once, not validated again.
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post("/pseudonyms/evaluate", response_model=BlindEvaluated)
def evaluate_blinded(
    body: BlindEvaluation, principal: ProfessionalDep, session: SessionDep, container: ContainerDep
) -> BlindEvaluated:
    """Evaluate the OPRF on blinded elements; the broker never sees the identifiers.

    Rate limited and logged per organisation: the BSN space is small enough to enumerate.
    """
    container.limiter.hit(
        f"blind:{principal.org_id}",
        amount=len(body.elements),
        limit=container.settings.blind_limit_per_org_minute,
        window_seconds=60,
    )
    try:
        evaluated = [container.pseudonymiser.evaluate_blinded(_unb64(e)) for e in body.elements]
    except InvalidElement as exc:
        raise InvalidRequest("An element is not a valid blinded group element.") from exc
    record(
        session,
        LogEvent.by(
            principal,
            EventType.BLIND_EVALUATION,
            "evaluated",
            details={"elements": len(body.elements)},
        ),
    )
    return BlindEvaluated(evaluated=[_b64(e) for e in evaluated])
