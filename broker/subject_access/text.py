"""The report in plain language, Dutch first and then English.

Nothing here names a shelter or a safe address, and the notice on withheld information is
the same whatever was withheld and however much: its wording must not tell a victim's
shelter stay from a police investigation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from broker.subject_access.schemas import Period, ReportSections, Text, WithheldNotice

LEGAL_REFERENCE = "art. 23 AVG / art. 41 UAVG"
WITHHELD = WithheldNotice(
    ground=Text(
        nl=(
            "Er is informatie achtergehouden om de veiligheid van een persoon te beschermen "
            "of om het voorkomen en opsporen van strafbare feiten niet te schaden "
            f"({LEGAL_REFERENCE}). Wij vermelden niet wat of hoeveel er is achtergehouden, "
            "omdat ook dat iets zou kunnen verraden."
        ),
        en=(
            "Information was withheld to protect the safety of a person or to avoid "
            "hindering the prevention and investigation of criminal offences "
            f"({LEGAL_REFERENCE}). We do not say what or how much was withheld, because "
            "that could itself reveal it."
        ),
    ),
    legal_reference=LEGAL_REFERENCE,
)


@dataclass(frozen=True)
class _Words:
    title: str
    made: str
    everything: str
    chain: str
    organisation: str
    registered: str
    asked: str
    received: str
    none: str
    active: str
    ended: str
    known: str
    not_known: str
    asked_line: str
    received_line: str
    withheld: str
    rights: str


NL = _Words(
    title="Overzicht van uw gegevens in het informatieknooppunt huiselijk geweld",
    made="Opgesteld op {day}. Periode: {period}.",
    everything="alles wat er nog is",
    chain="Dit overzicht betreft alle aangesloten organisaties.",
    organisation="Dit overzicht betreft alleen de organisatie waar u uw verzoek deed.",
    registered="1. Welke organisaties hebben vastgelegd dat zij bij u betrokken zijn",
    asked="2. Welke organisaties hebben gevraagd of u bekend bent",
    received="3. Welke organisaties hebben gegevens over u ontvangen",
    none="- Niets gevonden.",
    active="lopend",
    ended="beëindigd",
    known="bekend",
    not_known="niet bekend",
    asked_line="- {month}: {org} vroeg voor '{purpose}'. Antwoord: {outcome}.",
    received_line=(
        "- {month}: {org} ontving van {source} voor '{purpose}' op grond van {basis}: {fields}."
    ),
    withheld="Achtergehouden informatie",
    rights=(
        "U kunt vragen om correctie of verwijdering, en een klacht indienen bij de "
        "Autoriteit Persoonsgegevens."
    ),
)
EN = _Words(
    title="Overview of your data in the domestic-violence information broker",
    made="Produced on {day}. Period: {period}.",
    everything="everything still held",
    chain="This report covers every connected organisation.",
    organisation="This report covers only the organisation you made your request to.",
    registered="1. Which organisations recorded that they are involved with you",
    asked="2. Which organisations asked whether you are known",
    received="3. Which organisations received data about you",
    none="- Nothing found.",
    active="ongoing",
    ended="ended",
    known="known",
    not_known="not known",
    asked_line="- {month}: {org} asked for '{purpose}'. Answer: {outcome}.",
    received_line=(
        "- {month}: {org} received from {source} for '{purpose}' on the basis of {basis}: {fields}."
    ),
    withheld="Withheld information",
    rights=(
        "You may ask for correction or erasure, and complain to the Dutch Data Protection "
        "Authority (Autoriteit Persoonsgegevens)."
    ),
)


def render(
    sections: ReportSections,
    *,
    withheld: WithheldNotice | None,
    chain_wide: bool,
    period: Period | None,
    created_at: datetime,
) -> str:
    """The whole report as text: the Dutch version, then the English one."""
    return "\n\n".join(
        _render(words, lang, sections, withheld, chain_wide, period, created_at)
        for words, lang in ((NL, "nl"), (EN, "en"))
    )


def _render(
    words: _Words,
    lang: str,
    sections: ReportSections,
    withheld: WithheldNotice | None,
    chain_wide: bool,
    period: Period | None,
    created_at: datetime,
) -> str:
    def pick(text: Text) -> str:
        return text.nl if lang == "nl" else text.en

    span = words.everything
    if period is not None and (period.since or period.until):
        span = f"{period.since or '...'} - {period.until or '...'}"
    lines = [
        words.title,
        words.made.format(day=created_at.date().isoformat(), period=span),
        words.chain if chain_wide else words.organisation,
        "",
        words.registered,
        *[
            f"- {r.month}: {r.organisation}, {pick(r.category)} "
            f"({words.active if r.status == 'active' else words.ended})."
            for r in sections.registrations
        ],
    ]
    lines += [] if sections.registrations else [words.none]
    lines += ["", words.asked]
    lines += [
        words.asked_line.format(
            month=q.month,
            org=q.organisation,
            purpose=pick(q.purpose),
            outcome=words.known if q.outcome == "known" else words.not_known,
        )
        for q in sections.queries
    ] or [words.none]
    lines += ["", words.received]
    lines += [
        words.received_line.format(
            month=r.month,
            org=r.organisation,
            source=r.source or "-",
            purpose=pick(r.purpose),
            basis=pick(r.legal_basis),
            fields=", ".join(r.fields) or "-",
        )
        for r in sections.receipts
    ] or [words.none]
    if withheld is not None:
        lines += ["", words.withheld, pick(withheld.ground)]
    lines += ["", words.rights]
    return "\n".join(lines)
