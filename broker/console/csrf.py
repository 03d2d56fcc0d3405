"""Cross-site request forgery protection for every console form.

Two independent checks on every POST: the request must come from the console's own origin
(``Origin``, or ``Referer`` when a browser sends ``Origin: null``), and the form must carry
the session's CSRF token. The sign-in form has no session yet; it uses a signed
double-submit token instead: a random nonce in a short-lived cookie, and its MAC in the form.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

from starlette.requests import Request

from broker.console.session import SessionCodec
from broker.errors import Forbidden

CSRF_FIELD = "csrf"
SIGN_IN_COOKIE = "dvb_sign_in"
SIGN_IN_SECONDS = 15 * 60


class CsrfRejected(Forbidden):
    """The form did not come from this console, or its token is missing or wrong."""

    slug = "console-csrf"
    title = "Form refused"

    def __init__(self, detail: str, *, label: str) -> None:
        super().__init__(detail)
        self.label = label


def own_origin(request: Request) -> str:
    """Scheme, host and port the console is served on."""
    return f"{request.url.scheme}://{request.url.netloc}"


def is_same_origin(request: Request) -> bool:
    """True when the browser says the request was made by one of our own pages."""
    expected = own_origin(request)
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return origin == expected
    referer = request.headers.get("referer", "")
    return referer == expected or referer.startswith(expected + "/")


def check_form(request: Request, form: Mapping[str, object], *, expected: str) -> None:
    """Refuse a POST from another origin or without the expected token."""
    submitted = form.get(CSRF_FIELD)
    if not is_same_origin(request):
        raise CsrfRejected("This form was not sent from the console itself.", label="csrf_origin")
    if not isinstance(submitted, str) or not hmac.compare_digest(submitted, expected):
        raise CsrfRejected(
            "The form has expired or was not sent from the console; try again.",
            label="csrf_token",
        )


def new_sign_in_nonce() -> str:
    """A fresh nonce for the sign-in cookie."""
    return secrets.token_urlsafe(24)


def sign_in_token(codec: SessionCodec, nonce: str) -> str:
    """The form token that belongs to a sign-in nonce."""
    return codec.mac(b"sign-in:" + nonce.encode())


def _sign_in_nonce(request: Request) -> str:
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    if not nonce:
        raise CsrfRejected("The sign-in form has expired; open it again.", label="csrf_sign_in")
    return nonce


def check_sign_in_form(request: Request, form: Mapping[str, object], codec: SessionCodec) -> None:
    """Refuse a sign-in post that did not start on our own sign-in page."""
    if not is_same_origin(request):
        raise CsrfRejected("This form was not sent from the console.", label="csrf_origin")
    check_form(request, form, expected=sign_in_token(codec, _sign_in_nonce(request)))


def check_sign_in_state(request: Request, state: str, codec: SessionCodec) -> None:
    """Refuse an identity provider's callback whose ``state`` this browser did not start."""
    expected = sign_in_token(codec, _sign_in_nonce(request))
    if not hmac.compare_digest(state, expected):
        raise CsrfRejected("The sign-in could not be matched; try again.", label="csrf_sign_in")
