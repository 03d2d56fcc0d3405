"""What a released item contains: minimised fields, persons under the recipient's pseudonym."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from broker.container import Container
from broker.matches.directory import Directory
from broker.matches.service import person_aad
from broker.signals.models import Signal
from broker.signals.repository import SignalRepository
from broker.signals.service import signal_aad
from keys import MatchingPseudonym


def released_content(
    session: Session,
    container: Container,
    signal: Signal,
    *,
    fields: frozenset[str],
    recipient: str,
) -> dict[str, Any]:
    """The release of one signal to ``recipient``: never more than ``fields`` of the payload."""
    payload = container.fields.open_json(signal.payload_enc, aad=signal_aad(signal.id, "payload"))
    directory = Directory(session)
    persons = []
    for person in SignalRepository(session).persons_of([signal.id]):
        y = MatchingPseudonym(container.fields.decrypt(person.y_enc, aad=person_aad(person)))
        persons.append(
            {
                "pseudonym": container.pseudonymiser.release_pseudonym(y, recipient=recipient),
                "role": person.role,
            }
        )
    return {
        "source": directory.describe(signal.org_id),
        "category": signal.category,
        "registered": signal.created_at.date().isoformat(),
        "expires": signal.expires_at.date().isoformat(),
        "contact": directory.contact(signal.org_id, signal.desk_id),
        "fields": {name: value for name, value in sorted(payload.items()) if name in fields},
        "persons": persons,
    }
