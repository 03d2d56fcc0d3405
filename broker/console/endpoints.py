"""The web console under ``/console``: sign-in, the start page, styles, and both role areas.

Pages are rendered on the server; there is no JavaScript. The console calls the same
service functions as the API, with the same principal, so purpose binding, scoping and
logging are identical. See docs/console.md.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from broker.alerts.service import list_alerts
from broker.console import inbox, officer, officer_log, officer_reports, professional
from broker.console.csrf import (
    SIGN_IN_COOKIE,
    SIGN_IN_SECONDS,
    check_sign_in_form,
    check_sign_in_state,
    new_sign_in_nonce,
    sign_in_token,
)
from broker.console.problems import PageNotFound
from broker.console.session import (
    ConsoleIdentityProvider,
    ConsoleSession,
    DevelopmentTokenProvider,
    SignInRequired,
)
from broker.console.web import (
    SIGN_IN_PATH,
    STATIC_DIR,
    CheckedForm,
    ConsoleRoute,
    SignedIn,
    codec_of,
    current_session,
    field,
    is_secure,
    message_of,
    render,
)
from broker.dependencies import SessionDep, container_of
from broker.disclosures.approvals import pending_for
from broker.disclosures.overrides import list_overrides
from broker.errors import NotAuthenticated
from broker.types import Role

router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)
HOME_PATH = "/console/home"


def identity_provider(request: Request) -> ConsoleIdentityProvider | None:
    """``app.state.console_identity``, else development tokens (never in production)."""
    configured: ConsoleIdentityProvider | None = getattr(
        request.app.state, "console_identity", None
    )
    if configured is not None:
        return configured
    container = container_of(request)
    if container.settings.is_production:
        return None
    return DevelopmentTokenProvider(container.verifier)


@router.get("")
def start(request: Request) -> Response:
    """Signed in: the start page; otherwise the sign-in page."""
    try:
        current_session(request)
    except SignInRequired:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    return RedirectResponse(HOME_PATH, status_code=303)


def _sign_in_page(request: Request, *, problem: str | None = None, status: int = 200) -> Response:
    provider = identity_provider(request)
    nonce = new_sign_in_nonce()
    state = sign_in_token(codec_of(request), nonce)
    response = render(
        request,
        "sign_in.html",
        status=status,
        provider_kind=provider.kind if provider else None,
        provider_url=provider.begin(state=state) if provider else None,
        sign_in_csrf=state,
        problem=problem,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        max_age=SIGN_IN_SECONDS,
        path="/console",
        httponly=True,
        secure=is_secure(request),
        samesite="lax",
    )
    return response


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    """The sign-in page (a token form in development)."""
    return _sign_in_page(request)


def _signed_in(
    request: Request,
    provider: ConsoleIdentityProvider,
    credentials: dict[str, str],
    *,
    after_redirect: bool = False,
) -> Response:
    principal = provider.authenticate(credentials)
    request.state.console_session = ConsoleSession.start(
        principal, now=container_of(request).clock.now()
    )
    response = (
        render(request, "signed_in.html")
        if after_redirect
        else RedirectResponse(HOME_PATH, status_code=303)
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/console")
    return response


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Verify the pasted token once and start a console session."""
    provider = identity_provider(request)
    if provider is None or provider.kind != "development-token":
        return _sign_in_page(request, status=403)
    form = await request.form()
    check_sign_in_form(request, form, codec_of(request))
    try:
        return _signed_in(request, provider, {"token": field(form, "token", limit=8000)})
    except NotAuthenticated as exc:
        return _sign_in_page(request, problem=message_of(request, exc), status=401)


@router.get("/sign-in/callback")
def sign_in_callback(request: Request) -> Response:
    """Where an OpenID Connect provider sends the browser back with ``code`` and ``state``."""
    provider = identity_provider(request)
    if provider is None or provider.kind == "development-token":
        return _sign_in_page(request, status=404)
    params = dict(request.query_params)
    check_sign_in_state(request, params.get("state", ""), codec_of(request))
    try:
        return _signed_in(request, provider, params, after_redirect=True)
    except NotAuthenticated as exc:
        return _sign_in_page(request, problem=message_of(request, exc), status=401)


@router.post("/sign-out")
def sign_out(request: Request, form: CheckedForm) -> Response:
    """End the session: the cookie is removed."""
    request.state.console_signed_out = True
    return RedirectResponse(SIGN_IN_PATH, status_code=303)


@router.get("/home")
def home(request: Request, session: SignedIn, db: SessionDep) -> Response:
    """The start page: what this person can do, with counts of what waits."""
    principal = session.principal()
    members = session.has_any_role(Role.PROFESSIONAL, Role.COORDINATOR)
    officers = session.has_any_role(Role.PRIVACY_OFFICER)
    return render(
        request,
        "home.html",
        organisation=session.org_id,
        pending=len(pending_for(db, principal)) if members else 0,
        overrides_pending=len(list_overrides(db, principal, status="pending")) if officers else 0,
        alerts_open=len(list_alerts(db, principal, open_only=True)) if officers else 0,
    )


@lru_cache(maxsize=4)
def _static(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


@router.get("/static/console.css")
def stylesheet() -> Response:
    """The console's only stylesheet (CSP ``style-src 'self'``)."""
    return Response(_static("console.css"), media_type="text/css; charset=utf-8")


router.include_router(professional.router)
router.include_router(inbox.router)
router.include_router(officer_log.router)
router.include_router(officer.router)
router.include_router(officer_reports.router)


@router.api_route("/{rest:path}", methods=["GET", "POST"])
def not_found(request: Request, rest: str) -> Response:
    """Any other console address: a 404 page with the console's headers."""
    raise PageNotFound()
