"""Police (politie): CSV export of domestic-violence incidents and restraining orders.

One row per registration, comma- or semicolon-separated, UTF-8, header row first.

Columns:

    soort               ``incident`` (DV incident report) or ``huisverbod`` (restraining order)
    registratienummer   the police's own reference; not sent to the broker
    datum               incident date, or the day the order was imposed
    slachtoffer_bsn     victim's BSN; or slachtoffer_achternaam, slachtoffer_voornamen and
                        slachtoffer_geboortedatum
    verdachte_bsn       suspect's BSN; or verdachte_achternaam, _voornamen, _geboortedatum
    kinderen_bsn        BSNs of children in the household, separated by ``;``
    geweldsvorm         fysiek, seksueel, psychisch, bedreiging or materieel (incidents)
    risico              risk assessment: laag, midden, hoog or acuut
    vuurwapen           J/N: a firearm is known at the address
    kinderen_aanwezig   J/N: children were present (incident) or are covered (huisverbod)
    eerdere_incidenten  number of earlier DV incidents at the address
    huisverbod_tot      last day of the restraining order (required for ``huisverbod``)
    verlengd            J/N: the order was extended (to 28 days)
    opmerking           free text; never sent to the broker

Dates are YYYY-MM-DD or DD-MM-YYYY.

An incident becomes ``police_dv_incident`` (severity = risk, default none; expires one
year after the incident). A restraining order becomes ``restraining_order`` (severity =
risk, default high: a mayor imposes an order only at serious risk; expires 90 days after it
was imposed, the category's period for help and monitoring after the order). Both are
registered at the ``hg-desk`` (domestic-violence desk). Free text is never sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.mappings.base import Export, csv_reader
from connectors.mappings.fields import RISK, Fields, expiry
from connectors.models import Person, Role, Severity, SignalDraft

DESK = "hg-desk"
INCIDENT_DAYS = 365
ORDER_DAYS = 90
KINDS = {"incident": "police_dv_incident", "huisverbod": "restraining_order"}
VIOLENCE = {
    "fysiek": "physical",
    "seksueel": "sexual",
    "psychisch": "psychological",
    "bedreiging": "threat",
    "materieel": "material",
}


def map_row(raw: Mapping[str, Any]) -> SignalDraft:
    """One export row as a signal; raises ``RowInvalid`` naming every bad field."""
    fields = Fields(raw)
    category = fields.choice("soort", KINDS, required=True)
    day = fields.date("datum", required=True)
    persons = _persons(fields)
    risk = fields.choice("risico", RISK)
    payload: dict[str, Any]
    if category == "restraining_order":
        payload = {
            "imposed_on": day.isoformat() if day else None,
            "restraining_order_until": _until(fields),
            "extended": fields.yes_no("verlengd"),
            "children_covered": fields.yes_no("kinderen_aanwezig"),
        }
        severity, days = risk or Severity.HIGH, ORDER_DAYS
    else:
        payload = {
            "incident_date": day.isoformat() if day else None,
            "violence_type": fields.choice("geweldsvorm", VIOLENCE),
            "risk_level": risk.value if risk else None,
            "firearm_known": fields.yes_no("vuurwapen"),
            "children_present": fields.yes_no("kinderen_aanwezig"),
            "prior_incidents": fields.whole("eerdere_incidenten"),
        }
        severity, days = risk or Severity.NONE, INCIDENT_DAYS
    fields.check()
    assert category is not None and day is not None
    return SignalDraft(
        category=category,
        persons=tuple(persons),
        severity=severity,
        payload={name: value for name, value in payload.items() if value is not None},
        expires_at=expiry(day, days),
        desk=DESK,
    )


def _persons(fields: Fields) -> list[Person]:
    persons = []
    for prefix, role in (("slachtoffer_", Role.VICTIM), ("verdachte_", Role.SUSPECT)):
        identifier = fields.identifier(prefix)
        if identifier is not None:
            persons.append(Person(identifier, role))
    persons += fields.bsn_list("kinderen_bsn", Role.CHILD)
    if not persons and not fields.problems:
        fields.problem("no victim, suspect or child identified")
    return persons


def _until(fields: Fields) -> str | None:
    until = fields.date("huisverbod_tot", required=True)
    return until.isoformat() if until else None


EXPORT = Export(
    name="police",
    org_type="police",
    default_org="politie-rr",
    suffixes=(".csv",),
    read=csv_reader("soort", "datum"),
    map_row=map_row,
)
