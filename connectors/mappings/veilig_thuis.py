"""Veilig Thuis: JSON export of reports (meldingen) and advice requests (adviesvragen).

The file is one JSON array with an object per record, UTF-8:

    dossiernummer        Veilig Thuis's own reference; not sent to the broker
    soort                ``melding`` (report) or ``advies`` (advice request)
    ontvangen_op         day the report or request came in
    personen             list of persons, each {"rol": slachtoffer|pleger|kind|overig,
                         "bsn": ...} or with "achternaam", "voornamen", "geboortedatum"
                         instead of "bsn" (advice requests often come without a BSN)
    opmerking            free text; never sent to the broker
  reports only:
    fase                 veiligheidsbeoordeling, onderzoek, overdracht, monitoring or afgesloten
    risico               laag, midden, hoog or acuut
    kinderen_betrokken   true/false
    veiligheidsplan      short safety-plan text (released only for handover and acute safety)
    overgedragen_aan     the team the case was handed over to
  advice requests only:
    adviesonderwerp      partnergeweld, kindermishandeling, ouderenmishandeling, eergerelateerd
                         or overig
    vervolg_geadviseerd  true/false: a follow-up (report) was advised

Dates are YYYY-MM-DD or DD-MM-YYYY. A report becomes ``vt_report`` (severity = risk,
default medium; expires two years after it came in: investigation plus 1.5 years of
monitoring, the VIR maximum), registered at the ``advies-en-meldpunt`` desk, or at the
``overdracht`` desk once handed over. An advice request becomes ``vt_advice_request``
(severity low; expires 180 days after it came in).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.mappings.base import Export, read_json_array
from connectors.mappings.fields import RISK, ROLES, Fields, expiry
from connectors.models import Person, Severity, SignalDraft

REPORT_DAYS = 730
ADVICE_DAYS = 180
KINDS = {"melding": "vt_report", "advies": "vt_advice_request"}
PHASES = {
    "veiligheidsbeoordeling": "safety_assessment",
    "onderzoek": "investigation",
    "overdracht": "handover",
    "monitoring": "monitoring",
    "afgesloten": "closed",
}
TOPICS = {
    "partnergeweld": "partner_violence",
    "kindermishandeling": "child_abuse",
    "ouderenmishandeling": "elder_abuse",
    "eergerelateerd": "honour_related",
    "overig": "other",
}


def map_row(raw: Mapping[str, Any]) -> SignalDraft:
    """One export record as a signal; raises ``RowInvalid`` naming every bad field."""
    fields = Fields(raw)
    category = fields.choice("soort", KINDS, required=True)
    received = fields.date("ontvangen_op", required=True)
    persons = _persons(fields)
    desk = "advies-en-meldpunt"
    payload: dict[str, Any]
    if category == "vt_advice_request":
        payload = {
            "received_on": received.isoformat() if received else None,
            "advice_topic": fields.choice("adviesonderwerp", TOPICS),
            "follow_up_advised": fields.yes_no("vervolg_geadviseerd"),
        }
        severity, days = Severity.LOW, ADVICE_DAYS
    else:
        phase = fields.choice("fase", PHASES)
        risk = fields.choice("risico", RISK)
        payload = {
            "received_on": received.isoformat() if received else None,
            "phase": phase,
            "risk_level": risk.value if risk else None,
            "children_involved": fields.yes_no("kinderen_betrokken"),
            "safety_plan": fields.text("veiligheidsplan"),
            "handover_to": fields.text("overgedragen_aan"),
        }
        severity, days = risk or Severity.MEDIUM, REPORT_DAYS
        desk = "overdracht" if phase == "handover" else desk
    fields.check()
    assert category is not None and received is not None
    return SignalDraft(
        category=category,
        persons=tuple(persons),
        severity=severity,
        payload={name: value for name, value in payload.items() if value is not None},
        expires_at=expiry(received, days),
        desk=desk,
    )


def _persons(fields: Fields) -> list[Person]:
    entries = fields.raw.get("personen")
    if not isinstance(entries, list) or not entries:
        fields.problem("personen: at least one person is required")
        return []
    persons = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            fields.problem(f"personen[{number}]: not an object")
            continue
        person = Fields(entry)
        role = person.choice("rol", ROLES, required=True)
        identifier = person.identifier("")
        if identifier is None and not person.problems:
            person.problem("give a bsn or achternaam, voornamen and geboortedatum")
        fields.problems.extend(f"personen[{number}].{p}" for p in person.problems)
        if role is not None and identifier is not None:
            persons.append(Person(identifier, role))
    return persons


EXPORT = Export(
    name="veilig_thuis",
    org_type="veilig_thuis",
    default_org="vt-rr",
    suffixes=(".json",),
    read=read_json_array,
    map_row=map_row,
)
