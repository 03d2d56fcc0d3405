"""Token verification: every named check, and every tampering attempt refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.auth.jwk import ed25519_public_jwk
from broker.auth.replay import InProcessReplayGuard
from broker.auth.tokens import IssuerKeys, TokenVerifier, sign_token
from broker.clock import FrozenClock
from broker.errors import NotAuthenticated
from broker.types import OrgType, Role

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Keys:
    def __init__(self) -> None:
        self.vt = Ed25519PrivateKey.generate()
        self.police = Ed25519PrivateKey.generate()
        self.table = {
            "vt-rr": IssuerKeys(
                OrgType.VEILIG_THUIS, {self.kid(self.vt): ed25519_public_jwk(self.vt.public_key())}
            ),
            "politie-rr": IssuerKeys(
                OrgType.POLICE,
                {self.kid(self.police): ed25519_public_jwk(self.police.public_key())},
            ),
        }

    @staticmethod
    def kid(key: Ed25519PrivateKey) -> str:
        return str(ed25519_public_jwk(key.public_key())["kid"])

    def issuer_keys(self, org_id: str) -> IssuerKeys | None:
        return self.table.get(org_id)


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def verifier(keys: Keys, clock: FrozenClock) -> TokenVerifier:
    return TokenVerifier(
        keys,
        audience="dv-broker",
        max_lifetime=timedelta(minutes=15),
        replay=InProcessReplayGuard(clock),
        clock=clock,
    )


def good(keys: Keys, **overrides: object) -> str:
    args: dict[str, object] = dict(
        kid=keys.kid(keys.vt),
        org_id="vt-rr",
        user="a.jansen",
        roles=["professional"],
        audience="dv-broker",
        now=NOW,
    )
    args.update(overrides)
    return sign_token(keys.vt, **args)  # type: ignore[arg-type]


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_token_gives_principal(verifier: TokenVerifier, keys: Keys) -> None:
    principal = verifier.verify(good(keys, acting_for="b.de-boer"))
    assert principal.org_id == "vt-rr"
    assert principal.org_type is OrgType.VEILIG_THUIS
    assert principal.roles == frozenset({Role.PROFESSIONAL})
    assert principal.acting_for == "b.de-boer"


def test_replayed_jti_is_refused(verifier: TokenVerifier, keys: Keys) -> None:
    token = good(keys)
    verifier.verify(token)
    with pytest.raises(NotAuthenticated, match="already used"):
        verifier.verify(token)


def test_alg_none_is_refused(verifier: TokenVerifier, keys: Keys) -> None:
    claims = jwt.decode(good(keys), options={"verify_signature": False})
    forged = f"{b64({'alg': 'none', 'kid': keys.kid(keys.vt)})}.{b64(claims)}."
    with pytest.raises(NotAuthenticated):
        verifier.verify(forged)


def test_hs256_with_public_key_as_secret_is_refused(verifier: TokenVerifier, keys: Keys) -> None:
    claims = jwt.decode(good(keys), options={"verify_signature": False})
    # The classic confusion attack: HMAC keyed with the public key material.
    secret = str(keys.table["vt-rr"].jwks[keys.kid(keys.vt)]["x"]).encode()
    signing_input = f"{b64({'alg': 'HS256', 'kid': keys.kid(keys.vt)})}.{b64(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(NotAuthenticated):
        verifier.verify(forged)


def test_token_signed_with_wrong_key_is_refused(verifier: TokenVerifier, keys: Keys) -> None:
    stranger = Ed25519PrivateKey.generate()
    token = sign_token(
        stranger,
        kid=keys.kid(keys.vt),
        org_id="vt-rr",
        user="x",
        roles=["professional"],
        audience="dv-broker",
        now=NOW,
    )
    with pytest.raises(NotAuthenticated):
        verifier.verify(token)


def test_claiming_another_organisation_is_refused(verifier: TokenVerifier, keys: Keys) -> None:
    # Signed by the police key but claiming to be Veilig Thuis: the kid is not VT's.
    token = sign_token(
        keys.police,
        kid=keys.kid(keys.police),
        org_id="vt-rr",
        user="x",
        roles=["professional"],
        audience="dv-broker",
        now=NOW,
    )
    with pytest.raises(NotAuthenticated):
        verifier.verify(token)


@pytest.mark.parametrize(
    ("overrides", "advance"),
    [
        ({"audience": "another-service"}, timedelta(0)),
        ({"lifetime": timedelta(minutes=16)}, timedelta(0)),
        ({}, timedelta(minutes=6)),
        ({"now": NOW + timedelta(minutes=5)}, timedelta(0)),
        ({"roles": ["superuser"]}, timedelta(0)),
        ({"roles": []}, timedelta(0)),
        ({"org_id": "unknown-org"}, timedelta(0)),
    ],
    ids=[
        "wrong-audience",
        "lifetime-over-15-min",
        "expired",
        "issued-in-future",
        "unknown-role",
        "no-roles",
        "unknown-issuer",
    ],
)
def test_flawed_tokens_are_refused(
    verifier: TokenVerifier,
    keys: Keys,
    clock: FrozenClock,
    overrides: dict[str, object],
    advance: timedelta,
) -> None:
    token = good(keys, **overrides)
    clock.advance(advance)
    with pytest.raises(NotAuthenticated):
        verifier.verify(token)


def test_missing_jti_is_refused(verifier: TokenVerifier, keys: Keys) -> None:
    claims = jwt.decode(good(keys), options={"verify_signature": False})
    del claims["jti"]
    token = jwt.encode(claims, keys.vt, algorithm="EdDSA", headers={"kid": keys.kid(keys.vt)})
    with pytest.raises(NotAuthenticated):
        verifier.verify(token)


def test_es256_keys_are_accepted(clock: FrozenClock) -> None:
    private = generate_private_key(SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "ec-1", "alg": "ES256"})
    source = {"zvhrr": IssuerKeys(OrgType.ZVH, {"ec-1": jwk})}
    verifier = TokenVerifier(
        type("S", (), {"issuer_keys": staticmethod(source.get)})(),
        audience="dv-broker",
        max_lifetime=timedelta(minutes=15),
        replay=InProcessReplayGuard(clock),
        clock=clock,
    )
    claims = {
        "iss": "zvhrr",
        "sub": "c",
        "aud": "dv-broker",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 300,
        "jti": "j1",
        "roles": ["coordinator"],
    }
    token = jwt.encode(claims, private, algorithm="ES256", headers={"kid": "ec-1"})
    assert verifier.verify(token).org_type is OrgType.ZVH


def test_garbage_is_refused(verifier: TokenVerifier) -> None:
    for junk in ["", "abc", "a.b.c", "eyJhbGciOiJub25lIn0.e30."]:
        with pytest.raises(NotAuthenticated):
            verifier.verify(junk)
