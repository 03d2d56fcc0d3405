"""Reading persons from console forms, and carrying them to the next step without showing them.

Identifiers arrive only in POST bodies. When a step leads to another (a hit check to a
release request), the persons travel as ``persons_ref``: AES-GCM-sealed with the field key,
bound to the session and short-lived. The next page never shows a BSN or a name again.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import timedelta

from pydantic import ValidationError
from starlette.datastructures import FormData

from broker.console.problems import FormAlreadySent, FormProblem
from broker.console.session import ConsoleSession
from broker.console.web import field
from broker.container import Container
from broker.persons import PersonRef
from keys import DecryptionFailed

PERSON_ROWS = 4
PERSON_FIELDS = ("bsn", "family_name", "given_names", "birth_date")
CARRY_LIFETIME = timedelta(minutes=30)
REF_LIMIT = 16_000


def persons_from(form: FormData, container: Container, session: ConsoleSession) -> list[PersonRef]:
    """The persons of a form: carried from the previous step, or typed in the rows."""
    ref = field(form, "persons_ref", limit=REF_LIMIT)
    if ref:
        return open_persons(ref, container, session)
    persons: list[PersonRef] = []
    for row in range(PERSON_ROWS):
        values = {name: field(form, f"p{row}_{name}", limit=200) for name in PERSON_FIELDS}
        if not any(values.values()):
            continue
        persons.append(_person(values, row=row))
    if not persons:
        raise FormProblem("no_persons")
    return persons


def _person(values: dict[str, str], *, row: int) -> PersonRef:
    bsn = values["bsn"].replace(" ", "").replace(".", "")
    try:
        if bsn:
            return PersonRef(bsn=bsn)
        return PersonRef.model_validate(
            {name: values[name] or None for name in PERSON_FIELDS if name != "bsn"}
        )
    except ValidationError:
        # Never chained: the validation error belongs to the identifier it refused.
        raise FormProblem("person_invalid", n=row + 1) from None


def seal_persons(persons: list[PersonRef], container: Container, session: ConsoleSession) -> str:
    """The persons as an opaque, session-bound, expiring form value."""
    payload = {
        "persons": [p.model_dump(mode="json", exclude_none=True) for p in persons],
        "until": int((container.clock.now() + CARRY_LIFETIME).timestamp()),
    }
    blob = container.fields.seal_json(payload, aad=_aad(session))
    return base64.urlsafe_b64encode(blob).decode("ascii")


def open_persons(ref: str, container: Container, session: ConsoleSession) -> list[PersonRef]:
    """The persons sealed by ``seal_persons`` in this session, unless expired or altered."""
    try:
        blob = base64.urlsafe_b64decode(ref.encode("ascii"))
        payload = container.fields.open_json(blob, aad=_aad(session))
        until = int(payload["until"])
        persons = [PersonRef.model_validate(p) for p in payload["persons"]]
    except (DecryptionFailed, binascii.Error, UnicodeError, ValueError, KeyError, TypeError):
        raise FormProblem("persons_expired") from None
    if container.clock.now().timestamp() > until or not persons:
        raise FormProblem("persons_expired")
    return persons


def new_nonce() -> str:
    """A one-time id for a form that must not be sent twice."""
    return secrets.token_hex(16)


def spend_nonce(form: FormData, container: Container, session: ConsoleSession) -> str:
    """Accept a form's nonce once: a second send (back button, double click) is refused."""
    nonce = field(form, "nonce", limit=64)
    if len(nonce) != 32 or not all(c in "0123456789abcdef" for c in nonce):
        raise FormProblem("form_already_sent")
    if not container.replay.first_use(
        f"console-form:{session.sid}:{nonce}", expires_at=session.expires_at
    ):
        raise FormAlreadySent()
    return nonce


def _aad(session: ConsoleSession) -> bytes:
    return f"console-persons:{session.sid}".encode()
