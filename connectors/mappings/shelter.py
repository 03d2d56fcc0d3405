"""Shelter (vrouwenopvang): CSV export of admissions.

One row per admission, comma- or semicolon-separated, UTF-8, header row first:

    opnamenummer     the shelter's own reference; not sent to the broker
    opnamedatum      day of admission
    bsn              the client's BSN; or achternaam, voornamen and geboortedatum
    kinderen_bsn     BSNs of children admitted with her or him, separated by ``;``
    aantal_kinderen  number of children admitted (some may have no BSN on file)
    opmerking        free text; never sent to the broker

Dates are YYYY-MM-DD or DD-MM-YYYY. An admission becomes ``shelter_stay``, always
shielded: a hit never shows the shelter, its type or location, only "known, contact via
Veilig Thuis". Severity is high (a shelter stay means a person had to flee); it expires
180 days after admission and is registered at the ``aanmelding`` desk. The client is the
victim, the children are children. No address and no departure data are ever sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.mappings.base import Export, csv_reader
from connectors.mappings.fields import Fields, expiry
from connectors.models import Person, Role, Severity, SignalDraft

DESK = "aanmelding"
STAY_DAYS = 180


def map_row(raw: Mapping[str, Any]) -> SignalDraft:
    """One export row as a (shielded) signal; raises ``RowInvalid`` naming every bad field."""
    fields = Fields(raw)
    admitted = fields.date("opnamedatum", required=True)
    client = fields.identifier("")
    if client is None and not fields.problems:
        fields.problem("bsn: missing, and no name and birth date either")
    children = fields.bsn_list("kinderen_bsn", Role.CHILD)
    count = fields.whole("aantal_kinderen")
    fields.check()
    assert admitted is not None and client is not None
    return SignalDraft(
        category="shelter_stay",
        persons=(Person(client, Role.VICTIM), *children),
        severity=Severity.HIGH,
        payload={
            "admitted_on": admitted.isoformat(),
            "children_admitted": count if count is not None else len(children),
        },
        expires_at=expiry(admitted, STAY_DAYS),
        desk=DESK,
        shielded=True,
    )


EXPORT = Export(
    name="shelter",
    org_type="shelter",
    default_org="blijf-groep",
    suffixes=(".csv",),
    read=csv_reader("opnamedatum"),
    map_row=map_row,
)
