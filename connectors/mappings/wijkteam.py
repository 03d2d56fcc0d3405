"""Wijkteam (neighbourhood team): CSV export of support trajectories.

One row per client trajectory, comma- or semicolon-separated, UTF-8, header row first:

    clientnummer     the team's own reference; not sent to the broker
    startdatum       day the support started
    einddatum        day the support ended, if it has
    hulpvorm         huishouden, opvoeding, schulden, ggz, verslaving, wonen or overig
    huisbezoeken     J/N: home visits are planned (what a risk check before a visit is for)
    zorgniveau       the team's level of concern: laag, midden, hoog or acuut (default laag)
    bsn              the client's BSN; or achternaam, voornamen and geboortedatum
    rol              the client's role: slachtoffer, pleger, kind or overig (default overig)
    gezinsleden_bsn  BSNs of household members, separated by ``;`` (registered as "other")
    opmerking        free text; never sent to the broker

Dates are YYYY-MM-DD or DD-MM-YYYY. A trajectory becomes ``wijkteam_support`` (severity =
level of concern; expires one year after the start, or 90 days after the end when that is
sooner), registered at the team's ``teamdesk``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.mappings.base import Export, csv_reader
from connectors.mappings.fields import RISK, ROLES, Fields, expiry
from connectors.models import Person, Role, Severity, SignalDraft

DESK = "teamdesk"
SUPPORT_DAYS = 365
AFTER_END_DAYS = 90
SUPPORT = {
    "huishouden": "household",
    "opvoeding": "parenting",
    "schulden": "debt",
    "ggz": "mental_health",
    "verslaving": "addiction",
    "wonen": "housing",
    "overig": "other",
}


def map_row(raw: Mapping[str, Any]) -> SignalDraft:
    """One export row as a signal; raises ``RowInvalid`` naming every bad field."""
    fields = Fields(raw)
    started = fields.date("startdatum", required=True)
    ended = fields.date("einddatum")
    payload = {
        "started_on": started.isoformat() if started else None,
        "support_type": fields.choice("hulpvorm", SUPPORT),
        "home_visits_planned": fields.yes_no("huisbezoeken"),
    }
    severity = fields.choice("zorgniveau", RISK) or Severity.LOW
    role = fields.choice("rol", ROLES) or Role.OTHER
    client = fields.identifier("")
    if client is None and not fields.problems:
        fields.problem("bsn: missing, and no name and birth date either")
    household = fields.bsn_list("gezinsleden_bsn", Role.OTHER)
    fields.check()
    assert started is not None and client is not None
    expires = expiry(started, SUPPORT_DAYS)
    if ended is not None:
        expires = min(expires, expiry(ended, AFTER_END_DAYS))
    return SignalDraft(
        category="wijkteam_support",
        persons=(Person(client, role), *household),
        severity=severity,
        payload={name: value for name, value in payload.items() if value is not None},
        expires_at=expires,
        desk=DESK,
    )


EXPORT = Export(
    name="wijkteam",
    org_type="wijkteam",
    default_org="wijkteam-feijenoord",
    suffixes=(".csv",),
    read=csv_reader("startdatum"),
    map_row=map_row,
)
