"""The console's sign-in and session: who signed in, carried in an HMAC-signed cookie.

A person signs in once through a ``ConsoleIdentityProvider`` (a development token here; the
organisation's own OpenID Connect provider in production, see ``docs/console.md``). The
resulting principal is then carried in a cookie that the broker signs with a key derived
from the keystore, so no session table is needed and a forged or altered cookie is refused.
The cookie holds no personal data of clients: only the professional's organisation, user id
and roles, and the session's own random ids.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from broker.auth.principal import Principal
from broker.auth.tokens import TokenVerifier
from broker.errors import NotAuthenticated
from broker.types import OrgId, OrgType, Role, UserId

SESSION_COOKIE = "dvb_console"
ABSOLUTE_LIFETIME = timedelta(hours=8)
IDLE_LIFETIME = timedelta(minutes=30)
_LABEL = b"dv-broker console session v1"


class SignInRequired(NotAuthenticated):
    """No console session, or an expired one: the person must sign in (again)."""

    slug = "console-sign-in-required"
    title = "Sign in required"
    label = "sign_in_required"


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in person: the principal's fields, the session ids and its clock."""

    sid: str
    csrf: str
    org_id: OrgId
    org_type: OrgType
    user: UserId
    roles: frozenset[Role]
    acting_for: UserId | None
    issued_at: datetime
    seen_at: datetime

    @classmethod
    def start(cls, principal: Principal, *, now: datetime) -> ConsoleSession:
        """A new session for a freshly authenticated principal."""
        return cls(
            sid=secrets.token_hex(16),
            csrf=secrets.token_urlsafe(32),
            org_id=principal.org_id,
            org_type=principal.org_type,
            user=principal.user,
            roles=principal.roles,
            acting_for=principal.acting_for,
            issued_at=now,
            seen_at=now,
        )

    @property
    def expires_at(self) -> datetime:
        """The absolute end of the session, however active it is."""
        return self.issued_at + ABSOLUTE_LIFETIME

    def is_expired(self, now: datetime) -> bool:
        """True after eight hours, or after thirty minutes without a request."""
        return now >= self.expires_at or now - self.seen_at > IDLE_LIFETIME

    def touched(self, now: datetime) -> ConsoleSession:
        """The session with its idle clock restarted."""
        return replace(self, seen_at=now)

    def has_any_role(self, *roles: Role) -> bool:
        """True when the person holds any of ``roles``."""
        return bool(self.roles.intersection(roles))

    def principal(self, *, action_id: str | None = None) -> Principal:
        """The principal the services see; ``action_id`` makes a one-time action unique."""
        token_id = f"console:{self.sid}" + (f":{action_id}" if action_id else "")
        return Principal(
            org_id=self.org_id,
            org_type=self.org_type,
            user=self.user,
            roles=self.roles,
            token_id=token_id,
            expires_at=self.expires_at,
            acting_for=self.acting_for,
        )


class SessionKeys(Protocol):
    """The part of the keystore the codec needs: versioned secrets, one active."""

    @property
    def active_version(self) -> int: ...

    @property
    def live_versions(self) -> tuple[int, ...]: ...

    def index_key(self, version: int) -> bytes: ...


class SessionCodec:
    """Signs sessions with the active key version; any live version verifies (rotation)."""

    def __init__(self, keys: SessionKeys) -> None:
        self._keys = keys

    def mac_key(self, version: int) -> bytes:
        """The session MAC key of one version, derived with its own label."""
        return hmac.new(self._keys.index_key(version), _LABEL, hashlib.sha256).digest()

    def mac(self, message: bytes, *, version: int | None = None) -> str:
        """A base64url HMAC-SHA256 of ``message`` under one version's session key."""
        key = self.mac_key(self._keys.active_version if version is None else version)
        return _b64(hmac.new(key, message, hashlib.sha256).digest())

    def encode(self, session: ConsoleSession) -> str:
        """The cookie value: version, payload and MAC, dot-separated."""
        version = self._keys.active_version
        payload = _b64(json.dumps(_to_json(session), separators=(",", ":")).encode())
        signed = f"{version}.{payload}"
        return f"{signed}.{self.mac(signed.encode(), version=version)}"

    def decode(self, value: str) -> ConsoleSession | None:
        """The session in a cookie value, or None when it is malformed or not ours."""
        version_text, _, rest = value.partition(".")
        payload, _, mac = rest.partition(".")
        if not version_text.isdigit() or int(version_text) not in self._keys.live_versions:
            return None
        expected = self.mac(f"{version_text}.{payload}".encode(), version=int(version_text))
        if not hmac.compare_digest(expected, mac):
            return None
        try:
            return _from_json(json.loads(_unb64(payload)))
        except (ValueError, KeyError, TypeError):
            return None


class ConsoleIdentityProvider(Protocol):
    """Establishes who is at the browser, once; the console session carries it afterwards.

    ``credentials`` are what the sign-in step received: the pasted token for the
    development provider, or the ``code`` and ``state`` of an OpenID Connect callback for
    an organisation's own identity provider (see docs/console.md).
    """

    @property
    def kind(self) -> str:
        """``development-token`` shows the paste form; anything else a sign-in link."""
        ...

    def begin(self, *, state: str) -> str | None:
        """Where to send the browser to sign in (an authorisation URL carrying ``state``)."""
        ...

    def authenticate(self, credentials: Mapping[str, str]) -> Principal:
        """The principal for the credentials; ``NotAuthenticated`` on any flaw."""
        ...


@dataclass(frozen=True)
class DevelopmentTokenProvider:
    """Development sign-in: a pasted broker token, verified (and its jti spent) once."""

    verifier: TokenVerifier
    kind: str = "development-token"

    def begin(self, *, state: str) -> str | None:
        """No redirect: the token is pasted into the sign-in page itself."""
        return None

    def authenticate(self, credentials: Mapping[str, str]) -> Principal:
        """Verify the pasted token; any flaw is one opaque NotAuthenticated."""
        token = credentials.get("token", "").strip()
        if not token:
            raise NotAuthenticated("Paste a token to sign in.")
        return self.verifier.verify(token)


def _to_json(session: ConsoleSession) -> dict[str, object]:
    return {
        "sid": session.sid,
        "csrf": session.csrf,
        "org": session.org_id,
        "ot": session.org_type.value,
        "user": session.user,
        "roles": sorted(session.roles),
        "act": session.acting_for,
        "iat": int(session.issued_at.timestamp()),
        "seen": int(session.seen_at.timestamp()),
    }


def _from_json(data: dict[str, object]) -> ConsoleSession:
    roles = data["roles"]
    if not isinstance(roles, list):
        raise TypeError("roles")
    acting_for = data.get("act")
    return ConsoleSession(
        sid=str(data["sid"]),
        csrf=str(data["csrf"]),
        org_id=OrgId(str(data["org"])),
        org_type=OrgType(str(data["ot"])),
        user=UserId(str(data["user"])),
        roles=frozenset(Role(str(role)) for role in roles),
        acting_for=UserId(str(acting_for)) if acting_for else None,
        issued_at=_time(data["iat"]),
        seen_at=_time(data["seen"]),
    )


def _time(value: object) -> datetime:
    if not isinstance(value, int):
        raise TypeError("timestamp")
    return datetime.fromtimestamp(value, UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
