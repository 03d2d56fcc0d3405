"""HTTP endpoints of the disclosure log (privacy officers) and its proofs."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from broker.auth.principal import Principal
from broker.dependencies import ContainerDep, SessionDep, require_role
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.schemas import (
    CheckpointPublic,
    ConsistencyProofPublic,
    InclusionProofPublic,
    LogEntryPublic,
    LogPage,
    PersonSearch,
    WeeklyStatistics,
)
from broker.disclosure_log.search import (
    LogFilter,
    search_entries,
    visible_entry,
    weekly_statistics,
)
from broker.disclosure_log.service import b64, record
from broker.errors import InvalidRequest
from broker.types import Role

router = APIRouter(prefix="/v1/log", tags=["disclosure log"])
OfficerDep = Annotated[Principal, Depends(require_role(Role.PRIVACY_OFFICER))]
AuditorDep = Annotated[Principal, Depends(require_role(Role.PRIVACY_OFFICER, Role.ADMIN))]
# Indices beyond any real log size are refused before they reach the database.
LogIndex = Annotated[int, Path(ge=0, le=2**62)]
CSV_FIELDS = [
    "index",
    "time",
    "event",
    "outcome",
    "org",
    "user",
    "acting_for",
    "role",
    "purpose",
    "legal_basis",
    "basis_ref",
    "rule",
    "persons",
    "parties",
    "details",
]


def _page(
    items: list[LogEntryPublic], total: int, offset: int, limit: int, fmt: str
) -> LogPage | Response:
    if fmt == "json":
        return LogPage(items=items, total=total, offset=offset, limit=limit)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for item in items:
        row = dict(
            item.body
            or {
                "index": item.index,
                "event": item.event_type,
                "outcome": item.outcome,
                "time": item.time.isoformat(),
            }
        )
        for key in ("rule", "persons", "parties", "details"):
            row[key] = "" if row.get(key) is None else str(row[key])
        writer.writerow(row)
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="disclosure-log.csv"'},
    )


@router.get(
    "/entries",
    response_model=LogPage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def list_entries(
    principal: OfficerDep,
    session: SessionDep,
    since: datetime | None = None,
    until: datetime | None = None,
    organisation: str | None = None,
    user: str | None = None,
    purpose: str | None = None,
    legal_basis: str | None = None,
    event_type: str | None = None,
    outcome: str | None = None,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    format: Literal["json", "csv"] = "json",
) -> LogPage | Response:
    """Search the entries the officer's organisation is party to (all for the broker's DPO)."""
    flt = LogFilter(
        since=since,
        until=until,
        organisation=organisation,
        user=user,
        purpose=purpose,
        legal_basis=legal_basis,
        event_type=event_type,
        outcome=outcome,
    )
    rows, total = search_entries(session, principal, flt, offset=offset, limit=limit)
    record(
        session,
        LogEvent.by(
            principal,
            EventType.LOG_SEARCH,
            "success",
            purpose="oversight",
            details={"results": total, "format": format},
        ),
    )
    return _page([LogEntryPublic.of(r) for r in rows], total, offset, limit, format)


@router.post("/entries/search", response_model=LogPage)
def search_by_person(
    body: PersonSearch, principal: OfficerDep, session: SessionDep, container: ContainerDep
) -> LogPage | Response:
    """Entries concerning one person; the broker pseudonymises the identifier."""
    y = body.person.pseudonym(container.pseudonymiser)
    person = container.pseudonymiser.log_pseudonym(y)
    flt = LogFilter(since=body.since, until=body.until, event_type=body.event_type, person=person)
    rows, total = search_entries(session, principal, flt, offset=body.offset, limit=body.limit)
    record(
        session,
        LogEvent.by(
            principal,
            EventType.LOG_SEARCH,
            "success",
            purpose="oversight",
            persons=(person,),
            details={"results": total, "by": "person"},
        ),
    )
    return _page([LogEntryPublic.of(r) for r in rows], total, body.offset, body.limit, "json")


@router.get("/entries/{index}", response_model=LogEntryPublic)
def get_entry(index: LogIndex, principal: OfficerDep, session: SessionDep) -> LogEntryPublic:
    """One visible entry."""
    return LogEntryPublic.of(visible_entry(session, principal, index))


@router.get("/entries/{index}/proof", response_model=InclusionProofPublic)
def entry_proof(
    index: LogIndex,
    principal: OfficerDep,
    session: SessionDep,
    container: ContainerDep,
    tree_size: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> InclusionProofPublic:
    """Inclusion proof of a visible entry against the latest (or a given) signed checkpoint."""
    visible_entry(session, principal, index)
    head = container.log.latest(session)
    size = tree_size or head.size
    if size > head.size:
        raise InvalidRequest("tree_size is beyond the latest checkpoint.")
    entry, proof = container.log.inclusion(session, index, size=size)
    note = head.note if size == head.size else None
    return InclusionProofPublic(
        index=index,
        tree_size=size,
        leaf_hash=b64(entry.leaf_hash),
        proof=[b64(p) for p in proof],
        checkpoint=note,
    )


@router.get("/checkpoint", response_model=CheckpointPublic)
def checkpoint(
    principal: AuditorDep, session: SessionDep, container: ContainerDep
) -> CheckpointPublic:
    """The latest signed checkpoint (signed now if the log has grown since the last one)."""
    head = container.log.latest(session)
    return CheckpointPublic(
        size=head.size,
        root_hash=b64(head.root),
        note=head.note,
        verifier_keys=container.log.verifier_keys(),
    )


@router.post("/checkpoint", response_model=CheckpointPublic)
def sign_now(
    principal: AuditorDep, session: SessionDep, container: ContainerDep
) -> CheckpointPublic:
    """Sign a checkpoint of the current tree on demand."""
    head = container.log.checkpoint(session)
    return CheckpointPublic(
        size=head.size,
        root_hash=b64(head.root),
        note=head.note,
        verifier_keys=container.log.verifier_keys(),
    )


@router.get("/consistency", response_model=ConsistencyProofPublic)
def consistency(
    principal: AuditorDep,
    session: SessionDep,
    container: ContainerDep,
    old_size: Annotated[int, Query(ge=0, le=2**62)],
    new_size: Annotated[int, Query(ge=1, le=2**62)],
) -> ConsistencyProofPublic:
    """Proof that the log of ``new_size`` entries extends the one of ``old_size``."""
    head = container.log.latest(session)
    if not old_size <= new_size <= head.size:
        raise InvalidRequest("Sizes must satisfy old_size <= new_size <= the latest checkpoint.")
    proof = container.log.consistency(session, old_size, new_size)
    return ConsistencyProofPublic(
        old_size=old_size, new_size=new_size, proof=[b64(p) for p in proof]
    )


@router.get("/statistics", response_model=WeeklyStatistics)
def statistics(
    principal: OfficerDep,
    session: SessionDep,
    container: ContainerDep,
    weeks: Annotated[int, Query(ge=1, le=104)] = 8,
) -> WeeklyStatistics:
    """Weekly counts of queries, hits, releases per legal basis, overrides and refusals."""
    return WeeklyStatistics(
        weeks=weekly_statistics(session, principal, now=container.clock.now(), weeks=weeks)
    )
