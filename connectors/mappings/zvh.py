"""ZVHRR (Zorg- en Veiligheidshuis): CSV export of case-conference cases.

One row per case, comma- or semicolon-separated, UTF-8, header row first. Columns:

    casusnummer      the ZVH's own reference; not sent to the broker
    geopend_op       day the case was opened
    status           intake, casusoverleg, plan, nazorg or gesloten
    volgend_overleg  day of the next case conference, if planned
    regiehouder      the organisation leading the case (lead organisation)
    risico           laag, midden, hoog or acuut
    betrokkenen      the family system: ``rol:bsn`` pairs separated by ``;``, with rol
                     slachtoffer, pleger, kind or overig (``slachtoffer:999990019;kind:...``)
    opmerking        free text; never sent to the broker

Dates are YYYY-MM-DD or DD-MM-YYYY. A case becomes ``zvh_case`` (severity = risk, default
medium: a case is complex by definition, not necessarily acute; expires one year after it
was opened), registered at the ``casusregie`` desk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.mappings.base import Export, csv_reader
from connectors.mappings.fields import RISK, ROLES, Fields, expiry
from connectors.models import Person, Severity, SignalDraft

DESK = "casusregie"
CASE_DAYS = 365
STATUSES = {
    "intake": "intake",
    "casusoverleg": "conference",
    "plan": "plan",
    "nazorg": "aftercare",
    "gesloten": "closed",
}


def map_row(raw: Mapping[str, Any]) -> SignalDraft:
    """One export row as a signal; raises ``RowInvalid`` naming every bad field."""
    fields = Fields(raw)
    opened = fields.date("geopend_op", required=True)
    following = fields.date("volgend_overleg")
    risk = fields.choice("risico", RISK)
    payload = {
        "opened_on": opened.isoformat() if opened else None,
        "status": fields.choice("status", STATUSES),
        "next_conference": following.isoformat() if following else None,
        "lead_organisation": fields.text("regiehouder"),
    }
    persons = _persons(fields)
    fields.check()
    assert opened is not None
    return SignalDraft(
        category="zvh_case",
        persons=tuple(persons),
        severity=risk or Severity.MEDIUM,
        payload={name: value for name, value in payload.items() if value is not None},
        expires_at=expiry(opened, CASE_DAYS),
        desk=DESK,
    )


def _persons(fields: Fields) -> list[Person]:
    persons = []
    entries = [e.strip() for e in (fields.text("betrokkenen") or "").split(";") if e.strip()]
    for number, entry in enumerate(entries, start=1):
        code, _, bsn = entry.partition(":")
        role = ROLES.get(code.strip().lower())
        identifier = fields.bsn(bsn, label=f"betrokkenen[{number}]")
        if role is None:
            fields.problem(f"betrokkenen[{number}]: role must be one of {', '.join(ROLES)}")
        elif identifier is not None:
            persons.append(Person(identifier, role))
    if not entries:
        fields.problem("betrokkenen: at least one person is required")
    return persons


EXPORT = Export(
    name="zvh",
    org_type="zvh",
    default_org="zvhrr",
    suffixes=(".csv",),
    read=csv_reader("geopend_op", "betrokkenen"),
    map_row=map_row,
)
