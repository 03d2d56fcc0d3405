"""Signals written straight to the tables, as a large existing database would hold them.

No OPRF and no matching: each person is a random matching pseudonym y, indexed and
encrypted exactly as registration does it, so re-keying sees realistic rows quickly.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

from sqlalchemy import insert

from broker.container import Container
from broker.db import unit_of_work
from broker.matches.service import person_aad
from broker.models import metadata
from broker.signals.models import SignalPerson
from broker.signals.service import signal_aad
from keys import MatchingPseudonym


def fill_signals(
    container: Container, count: int, *, persons: int = 2, org: str = "politie-rr"
) -> list[MatchingPseudonym]:
    """Insert ``count`` active signals of ``persons`` each; return every signal's first y."""
    fields, pseudonymiser = container.fields, container.pseudonymiser
    now = container.clock.now()
    signals: list[dict[str, object]] = []
    rows: list[dict[str, object]] = []
    firsts: list[MatchingPseudonym] = []
    for number in range(count):
        signal_id = uuid.uuid4().hex
        signals.append(
            {
                "id": signal_id,
                "org_id": org,
                "category": "police_dv_incident",
                "severity": "medium",
                "purpose": "registration",
                "desk_id": None,
                "shielded": False,
                "embargo": False,
                "created_at": now,
                "expires_at": now + timedelta(days=365),
                "withdrawn_at": None,
                "payload_enc": fields.seal_json(
                    {"risk_level": "medium", "prior_incidents": number},
                    aad=signal_aad(signal_id, "payload"),
                ),
                "contact_enc": fields.encrypt(b"desk", aad=signal_aad(signal_id, "contact"))
                if number % 2
                else None,
            }
        )
        for position in range(persons):
            y = MatchingPseudonym(os.urandom(32))
            row = SignalPerson(
                signal_id=signal_id,
                position=position,
                role="victim" if position == 0 else "suspect",
                index_token=pseudonymiser.index_token(y),
                key_version=container.keystore.active_version,
                y_enc=b"",
            )
            row.y_enc = fields.encrypt(y, aad=person_aad(row))
            rows.append(row.model_dump())
            if position == 0:
                firsts.append(y)
    with unit_of_work(container.engine) as session:
        session.connection().execute(insert(metadata.tables["signal"]), signals)
        session.connection().execute(insert(metadata.tables["signal_person"]), rows)
    return firsts
