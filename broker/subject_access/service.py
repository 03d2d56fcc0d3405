"""Producing and reading subject-access reports (GDPR art. 15; NEN 7513's readable overview)."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from broker.auth.principal import Principal
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.errors import Forbidden, NotFound
from broker.subject_access.models import SubjectAccessReport
from broker.subject_access.report import ReportBuilder, Scope
from broker.subject_access.repository import SubjectRepository
from broker.subject_access.schemas import ReportRequest, SubjectAccessReportPublic
from broker.subject_access.text import WITHHELD, render
from broker.types import Role

PURPOSE = "subject_access"


def require_officer(principal: Principal) -> None:
    """Only privacy officers handle requests of data subjects."""
    if not principal.has_role(Role.PRIVACY_OFFICER):
        raise Forbidden("Only privacy officers handle subject access and erasure requests.")


def report_aad(report_id: str) -> bytes:
    """Associated data binding a stored report to its row."""
    return f"subject_access_report:{report_id}:report".encode()


def produce_report(
    session: Session, container: Container, principal: Principal, request: ReportRequest
) -> SubjectAccessReportPublic:
    """Build, store (encrypted) and log a report on the person for a verified request."""
    require_officer(principal)
    y = request.person.pseudonym(container.pseudonymiser)
    person_key = container.pseudonymiser.log_pseudonym(y)
    now = container.clock.now()
    scope = Scope.of(principal, request.period)
    builder = ReportBuilder(session, container, principal, scope=scope, now=now)
    sections = builder.sections(y, person_key)
    withheld = WITHHELD if builder.withheld else None
    report = SubjectAccessReportPublic(
        id=uuid.uuid4().hex,
        created_at=now,
        scope="chain" if scope.org_id is None else "organisation",
        period=request.period,
        verification_method=request.verification.method,
        sections=sections,
        withheld=withheld,
        text=render(
            sections,
            withheld=withheld,
            chain_wide=scope.org_id is None,
            period=request.period,
            created_at=now,
        ),
    )
    sealed = {
        "report": report.model_dump(mode="json"),
        "verification_reference": request.verification.reference,
    }
    session.add(
        SubjectAccessReport(
            id=report.id,
            org_id=principal.org_id,
            requested_by=principal.user,
            person_key=person_key,
            scope=report.scope,
            verification_method=request.verification.method.value,
            created_at=now,
            report_enc=container.fields.seal_json(sealed, aad=report_aad(report.id)),
        )
    )
    record(
        session,
        LogEvent.by(
            principal,
            EventType.SUBJECT_ACCESS,
            "report_produced",
            purpose=PURPOSE,
            legal_basis="gdpr_art_15",
            persons=(person_key,),
            details={
                "report_id": report.id,
                "scope": report.scope,
                "verification": request.verification.method.value,
                "registrations": len(sections.registrations),
                "queries": len(sections.queries),
                "receipts": len(sections.receipts),
                "withheld": withheld is not None,
            },
        ),
    )
    return report


def read_report(
    session: Session, container: Container, principal: Principal, report_id: str
) -> SubjectAccessReportPublic:
    """A stored report, for the officers of the organisation that produced it."""
    require_officer(principal)
    row = SubjectRepository(session).report(principal.org_id, report_id)
    if row is None:
        raise NotFound("No such report.")
    sealed = container.fields.open_json(row.report_enc, aad=report_aad(row.id))
    record(
        session,
        LogEvent.by(
            principal,
            EventType.SUBJECT_ACCESS,
            "report_read",
            purpose=PURPOSE,
            legal_basis="gdpr_art_15",
            persons=(row.person_key,),
            details={"report_id": row.id},
        ),
    )
    return SubjectAccessReportPublic.model_validate(sealed["report"])
