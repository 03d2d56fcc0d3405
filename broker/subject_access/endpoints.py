"""HTTP endpoints for subject-access reports and erasure requests (privacy officers only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from broker.auth.principal import Principal
from broker.dependencies import ContainerDep, SessionDep, require_role
from broker.subject_access.erasure import (
    decide_erasure_request,
    file_erasure_request,
    list_erasure_requests,
)
from broker.subject_access.schemas import (
    ErasureDecision,
    ErasureRequestCreate,
    ErasureRequestPublic,
    ErasureStatus,
    ReportRequest,
    SubjectAccessReportPublic,
)
from broker.subject_access.service import produce_report, read_report
from broker.types import Role

router = APIRouter(prefix="/v1/subject-access", tags=["subject access"])
OfficerDep = Annotated[Principal, Depends(require_role(Role.PRIVACY_OFFICER))]


@router.post("/reports", status_code=201, response_model=SubjectAccessReportPublic)
def create_report(
    body: ReportRequest, principal: OfficerDep, session: SessionDep, container: ContainerDep
) -> SubjectAccessReportPublic:
    """A readable report for a verified request; what could endanger someone is withheld."""
    return produce_report(session, container, principal, body)


@router.get("/reports/{report_id}", response_model=SubjectAccessReportPublic)
def get_report(
    report_id: str, principal: OfficerDep, session: SessionDep, container: ContainerDep
) -> SubjectAccessReportPublic:
    """A report produced by the officer's own organisation."""
    return read_report(session, container, principal, report_id)


@router.post("/erasure-requests", status_code=201, response_model=ErasureRequestPublic)
def create_erasure_request(
    body: ErasureRequestCreate, principal: OfficerDep, session: SessionDep, container: ContainerDep
) -> ErasureRequestPublic:
    """File an erasure request for review, with its safety check; nothing is erased."""
    return file_erasure_request(session, container, principal, body)


@router.get("/erasure-requests", response_model=list[ErasureRequestPublic])
def get_erasure_requests(
    principal: OfficerDep,
    session: SessionDep,
    container: ContainerDep,
    status: ErasureStatus | None = None,
) -> list[ErasureRequestPublic]:
    """The organisation's erasure requests."""
    return list_erasure_requests(session, container, principal, status=status)


@router.post("/erasure-requests/{request_id}/decision", response_model=ErasureRequestPublic)
def decide(
    request_id: str,
    body: ErasureDecision,
    principal: OfficerDep,
    session: SessionDep,
    container: ContainerDep,
) -> ErasureRequestPublic:
    """Approve (withdraw the organisation's own signals on the person) or reject."""
    return decide_erasure_request(session, container, principal, request_id, body)
