"""The console's web plumbing: templates, the error path, headers, cookies and who is signed in.

Every console route uses ``ConsoleRoute``: a broker error becomes an HTML page in the
person's language (never problem+json), a missing session becomes the sign-in page, and
every response gets the strict Content-Security-Policy and the refreshed session cookie.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.console.csrf import CSRF_FIELD, check_form
from broker.console.i18n import LANG_COOKIE, LANGUAGES, Words, choose_language
from broker.console.problems import RoleRequired, label_of
from broker.console.session import (
    SESSION_COOKIE,
    ConsoleSession,
    SessionCodec,
    SignInRequired,
)
from broker.dependencies import container_of
from broker.errors import (
    BrokerError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from broker.types import Role

logger = logging.getLogger("broker.console")

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
SIGN_IN_PATH = "/console/sign-in"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
MEMBER_ROLES = (Role.PROFESSIONAL, Role.COORDINATOR)
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@lru_cache(maxsize=1)
def templates() -> Environment:
    """The Jinja2 environment; autoescaping on, unknown variables are errors."""
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def codec_of(request: Request) -> SessionCodec:
    """The session codec over the application's keystore."""
    return SessionCodec(container_of(request).keystore)


def words_of(request: Request) -> Words:
    """Labels in the language chosen for this request."""
    return Words(choose_language(request), container_of(request).catalogue)


# POST-only addresses and the page a language switch from their result shows instead.
_POST_ONLY = [
    (re.compile(r"^(/console/(?:release|override))/start$"), r"\1"),
    (re.compile(r"^(/console/inbox)/decision$"), r"\1"),
    (re.compile(r"^(/console/log)/person$"), r"\1"),
    (re.compile(r"^(/console/log/entries/\d+)/verify$"), r"\1"),
    (re.compile(r"^(/console/overrides/[0-9a-f]+)/review$"), r"\1"),
    (re.compile(r"^(/console/alerts)/[0-9a-f]+/resolve$"), r"\1"),
]


def language_links(request: Request) -> dict[str, str]:
    """Where "Nederlands" and "English" lead: this page (filters kept) or its form page."""
    if request.method == "GET":
        urls = {lang: request.url.include_query_params(lang=lang) for lang in LANGUAGES}
        return {lang: f"{url.path}?{url.query}" for lang, url in urls.items()}
    path = request.url.path
    for pattern, target in _POST_ONLY:
        path = pattern.sub(target, path)
    return {lang: f"{path}?lang={lang}" for lang in LANGUAGES}


def render(request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``console/<name>`` with the language, the session and its CSRF token."""
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    words = words_of(request)
    html = (
        templates()
        .get_template(f"console/{name}")
        .render(
            t=words,
            lang=words.lang,
            session=session,
            csrf_field=CSRF_FIELD,
            csrf=session.csrf if session else "",
            path=request.url.path,
            language_links=language_links(request),
            is_member=bool(session and session.has_any_role(*MEMBER_ROLES)),
            is_officer=bool(session and session.has_any_role(Role.PRIVACY_OFFICER)),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, error: BrokerError) -> HTMLResponse:
    """A broker error as a page; only its title, status and explanation are shown."""
    return render(
        request, "error.html", status=error.status, error=error, message=message_of(request, error)
    )


def message_of(request: Request, error: BrokerError) -> str:
    """The error explained in the person's language where the console knows the words."""
    labelled = label_of(error)
    if labelled is None:
        return error.detail
    label, values = labelled
    return words_of(request)(label, **values)


def signed_out(request: Request, error: SignInRequired) -> Response:
    """Pages send the person to sign in; a form post gets a 401 page (its data is not kept)."""
    if request.method in ("GET", "HEAD"):
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    return error_page(request, error)


def is_secure(request: Request) -> bool:
    """Cookies are Secure over HTTPS and always in production (behind a TLS proxy)."""
    return request.url.scheme == "https" or container_of(request).settings.is_production


def finish(request: Request, response: Response) -> None:
    """Security headers, the refreshed session cookie and the language cookie."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    container = container_of(request)
    secure = is_secure(request)
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    if getattr(request.state, "console_signed_out", False):
        response.delete_cookie(
            SESSION_COOKIE, path="/console", secure=secure, httponly=True, samesite="strict"
        )
    elif session is not None:
        response.set_cookie(
            SESSION_COOKIE,
            SessionCodec(container.keystore).encode(session),
            path="/console",
            httponly=True,
            secure=secure,
            samesite="strict",
        )
    asked = request.query_params.get("lang")
    if asked is not None and asked == choose_language(request):
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=365 * 24 * 3600,
            path="/console",
            httponly=True,
            secure=secure,
            samesite="strict",
        )


class ConsoleRoute(APIRoute):
    """A console route: HTML errors, sign-in redirects and security headers."""

    def get_route_handler(self) -> Handler:
        """Wrap FastAPI's handler; the request's transaction has ended when it returns."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as exc:
                response = signed_out(request, exc)
            except BrokerError as exc:
                response = error_page(request, exc)
            except StarletteHTTPException as exc:
                response = error_page(request, _http_error(exc))
            except RequestValidationError:
                response = error_page(request, InvalidRequest("The form is incomplete."))
            except DBAPIError as exc:
                logger.warning("console: database error", extra={"error_class": type(exc).__name__})
                response = error_page(request, ServiceUnavailable())
            except Exception as exc:
                # The class name only: an exception message could carry personal data.
                logger.error("console: unhandled error", extra={"error_class": type(exc).__name__})
                response = error_page(request, BrokerError())
            finish(request, response)
            return response

        return handle


def _http_error(exc: StarletteHTTPException) -> BrokerError:
    # The framework's own errors (an oversized body while the form is read, for one).
    known: dict[int, type[BrokerError]] = {
        404: NotFound,
        405: MethodNotAllowed,
        413: PayloadTooLarge,
    }
    return known.get(exc.status_code, BrokerError)()


def current_session(request: Request) -> ConsoleSession:
    """The signed-in person, with the idle clock restarted; else ``SignInRequired``."""
    container = container_of(request)
    value = request.cookies.get(SESSION_COOKIE, "")
    session = SessionCodec(container.keystore).decode(value) if value else None
    now = container.clock.now()
    if session is None or session.is_expired(now):
        raise SignInRequired("Sign in to use the console.")
    session = session.touched(now)
    request.state.console_session = session
    return session


SignedIn = Annotated[ConsoleSession, Depends(current_session)]


def member(session: SignedIn) -> ConsoleSession:
    """Professionals and coordinators: the pages about families."""
    if not session.has_any_role(*MEMBER_ROLES):
        raise RoleRequired("member_only")
    return session


def officer(session: SignedIn) -> ConsoleSession:
    """Privacy officers: the oversight pages."""
    if not session.has_any_role(Role.PRIVACY_OFFICER):
        raise RoleRequired("officer_only")
    return session


MemberSession = Annotated[ConsoleSession, Depends(member)]
OfficerSession = Annotated[ConsoleSession, Depends(officer)]


async def checked_form(request: Request, session: SignedIn) -> FormData:
    """The posted form, after the same-origin and CSRF-token checks."""
    form = await request.form()
    check_form(request, form, expected=session.csrf)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def field(form: FormData, name: str, *, limit: int = 4000) -> str:
    """A text field of the form, stripped; files and over-long values are refused."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise InvalidRequest("The form contains an unexpected file.")
    if len(value) > limit:
        raise InvalidRequest("A field of the form is too long.")
    return value.strip()
