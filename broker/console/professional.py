"""Professional pages: "known elsewhere?", a five-question release, a serious-danger override.

Identifiers arrive only in POST bodies and every result is rendered in the POST response
itself, never behind a redirect. A form with a mistake comes back with the person's
answers and the persons sealed (never echoed), so nothing has to be typed twice.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from broker.console.forms import PERSON_ROWS, new_nonce, persons_from, seal_persons, spend_nonce
from broker.console.problems import FormProblem
from broker.console.session import ConsoleSession
from broker.console.web import (
    CheckedForm,
    ConsoleRoute,
    MemberSession,
    field,
    message_of,
    render,
)
from broker.container import Container
from broker.dependencies import container_of
from broker.disclosures.models import Override
from broker.disclosures.schemas import (
    FIVE_QUESTIONS,
    DisclosureRequest,
    OverrideStatement,
    ProportionalityBasis,
    SeriousDangerBasis,
)
from broker.disclosures.service import request_release
from broker.errors import BrokerError, InvalidRequest, PolicyDenied
from broker.hits.service import find_hits
from broker.persons import PersonRef
from broker.policy import AccessRequest, Action
from broker.transaction import transaction

router = APIRouter(route_class=ConsoleRoute)
OVERRIDE_PURPOSE = "acute_safety"
STATEMENT_FIELDS = tuple(OverrideStatement.model_fields)
# Mistakes the person can correct on the same form; anything else is an error page.
CORRECTABLE = (InvalidRequest, PolicyDenied)


def allowed_purposes(container: Container, session: ConsoleSession, action: Action) -> list[str]:
    """Purposes for which any of the person's roles may take ``action`` (on any category)."""
    categories = ["*"] if action is Action.QUERY else sorted(container.catalogue.categories)
    return [
        name
        for name in container.catalogue.purposes
        if any(
            container.policy.decide(
                AccessRequest(session.org_type, role=role, purpose=name, action=action, category=c)
            ).allowed
            for role in session.roles
            for c in categories
        )
    ]


def _carried(
    persons: list[PersonRef] | None, container: Container, session: ConsoleSession
) -> dict[str, Any]:
    if not persons:
        return {"persons_ref": "", "persons_count": 0, "rows": PERSON_ROWS}
    ref = seal_persons(persons, container, session)
    return {"persons_ref": ref, "persons_count": len(persons), "rows": PERSON_ROWS}


# --- Known elsewhere? -------------------------------------------------------------------


def _check_form(
    request: Request,
    session: ConsoleSession,
    *,
    purpose: str = "",
    persons: list[PersonRef] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    container = container_of(request)
    return render(
        request,
        "check.html",
        status=status,
        purposes=allowed_purposes(container, session, Action.QUERY),
        purpose=purpose,
        problem=problem,
        **_carried(persons, container, session),
    )


@router.get("/check")
def check_page(request: Request, session: MemberSession) -> Response:
    """The "known elsewhere?" form: a purpose and up to four persons."""
    return _check_form(request, session, purpose="home_visit_risk_check")


@router.post("/check")
def check(request: Request, session: MemberSession, form: CheckedForm) -> Response:
    """Ask whether the family is known elsewhere; the answer is this response."""
    container = container_of(request)
    purpose = field(form, "purpose", limit=40)
    persons: list[PersonRef] | None = None
    try:
        persons = persons_from(form, container, session)
        with transaction(container.engine, container.log) as db:
            answer = find_hits(db, container, session.principal(), purpose=purpose, persons=persons)
        ref = seal_persons(persons, container, session)
    except CORRECTABLE as exc:
        return _check_form(
            request,
            session,
            purpose=purpose,
            persons=persons,
            problem=message_of(request, exc),
            status=exc.status,
        )
    return render(
        request,
        "check_result.html",
        answer=answer,
        purpose=purpose,
        persons_ref=ref,
    )


# --- Release on the five questions ------------------------------------------------------


def _person_form(
    request: Request,
    session: ConsoleSession,
    template: str,
    *,
    persons: list[PersonRef] | None,
    missing: list[str] | None,
    problem: str | None,
    status: int,
    **fields: Any,
) -> Response:
    """A form about persons (release, override): carried persons, a fresh nonce, problems."""
    container = container_of(request)
    return render(
        request,
        template,
        status=status,
        missing=missing or [],
        nonce=new_nonce(),
        problem=problem,
        **fields,
        **_carried(persons, container, session),
    )


def _release_form(
    request: Request,
    session: ConsoleSession,
    *,
    purpose: str = "",
    persons: list[PersonRef] | None = None,
    answers: dict[str, str] | None = None,
    missing: list[str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    return _person_form(
        request,
        session,
        "release.html",
        persons=persons,
        missing=missing,
        problem=problem,
        status=status,
        purposes=allowed_purposes(container_of(request), session, Action.REQUEST_RELEASE),
        purpose=purpose,
        questions=FIVE_QUESTIONS,
        answers=answers or {},
    )


@router.get("/release")
def release_page(request: Request, session: MemberSession) -> Response:
    """The five-question release form, persons typed in."""
    return _release_form(request, session)


@router.post("/release/start")
def release_from_check(request: Request, session: MemberSession, form: CheckedForm) -> Response:
    """The five-question form, with the persons of a hit check carried along."""
    container = container_of(request)
    return _release_form(
        request,
        session,
        purpose=field(form, "purpose", limit=40),
        persons=persons_from(form, container, session),
    )


def _missing(exc: BrokerError) -> list[str]:
    missing = exc.extensions.get("missing", [])
    return [str(name) for name in missing] if isinstance(missing, list) else []


@router.post("/release")
def release(request: Request, session: MemberSession, form: CheckedForm) -> Response:
    """Request a release on the five questions; the result is this response."""
    container = container_of(request)
    purpose = field(form, "purpose", limit=40)
    # Field names carry a prefix: question 1 is also called "purpose".
    answers = {q: field(form, f"answer_{q}") for q in FIVE_QUESTIONS}
    persons: list[PersonRef] | None = None
    try:
        persons = persons_from(form, container, session)
        spend_nonce(form, container, session)
        body = _disclosure(
            purpose, persons, ProportionalityBasis(type="proportionality", answers=answers)
        )
        with transaction(container.engine, container.log) as db:
            result = request_release(db, container, session.principal(), body)
    except CORRECTABLE as exc:
        return _release_form(
            request,
            session,
            purpose=purpose,
            persons=persons,
            answers=answers,
            missing=_missing(exc),
            problem=message_of(request, exc),
            status=exc.status,
        )
    return render(request, "disclosure_result.html", kind="release", result=result, override=None)


def _disclosure(purpose: str, persons: list[PersonRef], basis: Any) -> DisclosureRequest:
    try:
        return DisclosureRequest(purpose=purpose, persons=persons, legal_basis=basis)
    except ValidationError:
        raise FormProblem("form_incomplete") from None


# --- Serious danger ---------------------------------------------------------------------


def _override_form(
    request: Request,
    session: ConsoleSession,
    *,
    persons: list[PersonRef] | None = None,
    statement: dict[str, str] | None = None,
    missing: list[str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    return _person_form(
        request,
        session,
        "override.html",
        persons=persons,
        missing=missing,
        problem=problem,
        status=status,
        statement_fields=STATEMENT_FIELDS,
        statement=statement or {},
    )


@router.get("/override")
def override_page(request: Request, session: MemberSession) -> Response:
    """The serious-danger form, persons typed in."""
    return _override_form(request, session)


@router.post("/override/start")
def override_from_check(request: Request, session: MemberSession, form: CheckedForm) -> Response:
    """The serious-danger form, with the persons of a hit check carried along."""
    container = container_of(request)
    return _override_form(request, session, persons=persons_from(form, container, session))


@router.post("/override")
def override(request: Request, session: MemberSession, form: CheckedForm) -> Response:
    """Override in serious danger: released at once, reviewed by privacy officers later."""
    container = container_of(request)
    statement = {name: field(form, name) for name in STATEMENT_FIELDS}
    persons: list[PersonRef] | None = None
    try:
        persons = persons_from(form, container, session)
        nonce = spend_nonce(form, container, session)
        body = _override_request(persons, statement)
        with transaction(container.engine, container.log) as db:
            result = request_release(db, container, session.principal(action_id=nonce), body)
            opened = db.get(Override, result.override_id) if result.override_id else None
    except CORRECTABLE as exc:
        return _override_form(
            request,
            session,
            persons=persons,
            statement=statement,
            missing=_missing(exc),
            problem=message_of(request, exc),
            status=exc.status,
        )
    return render(
        request, "disclosure_result.html", kind="override", result=result, override=opened
    )


def _override_request(persons: list[PersonRef], statement: dict[str, str]) -> DisclosureRequest:
    try:
        basis = SeriousDangerBasis(
            type="serious_danger", override=OverrideStatement.model_validate(statement)
        )
    except ValidationError:
        raise FormProblem("form_incomplete") from None
    return _disclosure(OVERRIDE_PURPOSE, persons, basis)
