"""Bearer tokens: the only module that calls pyjwt.

Every check is named: algorithm pinned per key, issuer = organisation id, audience,
required claims, lifetime at most the configured maximum, roles from a closed list, and a
``jti`` that is accepted once. Any failure collapses into one opaque ``NotAuthenticated``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.auth.principal import Principal
from broker.auth.replay import ReplayGuard
from broker.clock import Clock
from broker.errors import NotAuthenticated
from broker.types import OrgId, OrgType, Role, UserId

ALLOWED_ALGORITHMS = frozenset({"EdDSA", "ES256"})
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti"]
CLOCK_SKEW = timedelta(seconds=30)


@dataclass(frozen=True)
class IssuerKeys:
    """An organisation's type and the JWKs that verify its tokens, by key id."""

    org_type: OrgType
    jwks: Mapping[str, Mapping[str, Any]]


class KeySource(Protocol):
    """Looks up the verification keys of an issuing organisation."""

    def issuer_keys(self, org_id: str) -> IssuerKeys | None:
        """Keys of ``org_id``, or None when the organisation is unknown."""
        ...


REPLAYED_MESSAGE = "The bearer token was already used."


def replay_key(principal: Principal) -> str:
    """The key under which a token's ``jti`` is remembered (token ids are per issuer)."""
    return f"{principal.org_id}:{principal.token_id}"


class TokenVerifier:
    """Turns a bearer token into a ``Principal`` or refuses it."""

    def __init__(
        self,
        keys: KeySource,
        *,
        audience: str,
        max_lifetime: timedelta,
        replay: ReplayGuard,
        clock: Clock,
    ) -> None:
        self._keys = keys
        self._audience = audience
        self._max_lifetime = max_lifetime
        self._replay = replay
        self._clock = clock

    def verify(self, token: str) -> Principal:
        """Verify ``token`` and record its ``jti``; raise ``NotAuthenticated`` on any flaw."""
        principal = self.check(token)
        if not self._replay.first_use(replay_key(principal), expires_at=principal.expires_at):
            raise NotAuthenticated(REPLAYED_MESSAGE)
        return principal

    def check(self, token: str, *, keys: KeySource | None = None) -> Principal:
        """``verify`` without recording the ``jti``: the caller records it (asynchronously).

        ``keys`` replaces the verifier's key source for this call, such as a snapshot that
        is known to be fresh, so that the check does no I/O.
        """
        try:
            claims, issuer = self._decode(token, keys or self._keys)
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            raise NotAuthenticated("The bearer token is not valid.") from exc
        return self._principal(claims, issuer)

    def _decode(self, token: str, keys: KeySource) -> tuple[dict[str, Any], IssuerKeys]:
        header = jwt.get_unverified_header(token)
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGORITHMS or not isinstance(kid, str):
            raise ValueError("algorithm or key id not acceptable")
        unverified = jwt.decode(token, options={"verify_signature": False})
        org_id = unverified.get("iss")
        issuer = keys.issuer_keys(org_id) if isinstance(org_id, str) else None
        if issuer is None or kid not in issuer.jwks:
            raise ValueError("unknown issuer or key")
        jwk = issuer.jwks[kid]
        key = jwt.PyJWK(dict(jwk), algorithm=jwk.get("alg"))
        if key.algorithm_name != alg:
            raise ValueError("algorithm does not match the key")
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=[alg],
            audience=self._audience,
            issuer=org_id,
            # Time is checked below against the injected clock, everything else here.
            options={
                "require": REQUIRED_CLAIMS,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
        self._check_times(claims)
        return claims, issuer

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._clock.now()
        issued = datetime.fromtimestamp(int(claims["iat"]), UTC)
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        if issued > now + CLOCK_SKEW:
            raise ValueError("issued in the future")
        if expires <= now - CLOCK_SKEW:
            raise ValueError("expired")
        if expires - issued > self._max_lifetime or expires <= issued:
            raise ValueError("lifetime too long")
        if "nbf" in claims and datetime.fromtimestamp(int(claims["nbf"]), UTC) > now + CLOCK_SKEW:
            raise ValueError("not yet valid")

    def _principal(self, claims: Mapping[str, Any], issuer: IssuerKeys) -> Principal:
        raw_roles = claims.get("roles")
        if not isinstance(raw_roles, list) or not raw_roles:
            raise NotAuthenticated("The bearer token carries no roles.")
        try:
            roles = frozenset(Role(role) for role in raw_roles)
        except ValueError as exc:
            raise NotAuthenticated("The bearer token carries an unknown role.") from exc
        subject, jti = claims["sub"], claims["jti"]
        acting_for = claims.get("act_for")
        if not (isinstance(subject, str) and subject and isinstance(jti, str) and jti):
            raise NotAuthenticated("The bearer token lacks a subject or token id.")
        return Principal(
            org_id=OrgId(str(claims["iss"])),
            org_type=issuer.org_type,
            user=UserId(subject),
            roles=roles,
            token_id=jti,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            acting_for=UserId(acting_for) if isinstance(acting_for, str) and acting_for else None,
        )


def sign_token(
    private_key: Ed25519PrivateKey,
    *,
    kid: str,
    org_id: str,
    user: str,
    roles: Iterable[str],
    audience: str,
    now: datetime,
    lifetime: timedelta = timedelta(minutes=5),
    acting_for: str | None = None,
) -> str:
    """Sign a token as an organisation would (development keys, demo and tests)."""
    claims: dict[str, Any] = {
        "iss": org_id,
        "sub": user,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
        "roles": sorted(roles),
    }
    if acting_for:
        claims["act_for"] = acting_for
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid})


def jwk_json(jwk: Mapping[str, Any]) -> str:
    """Canonical JSON of a JWK for storage."""
    return json.dumps(dict(jwk), sort_keys=True, separators=(",", ":"))
