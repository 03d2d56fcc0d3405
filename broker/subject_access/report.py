"""Collecting what a report lists, and withholding what could lead anyone to a victim.

Withheld: anything registered, asked or received by a shelter or with a shelter among its
parties; shielded signals (a shelter stay); embargoed signals (a police investigation that
a report could compromise); categories the catalogue no longer knows (their shielding can
no longer be checked). The builder only notes *that* something in scope was withheld.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from broker.auth.principal import Principal
from broker.clock import as_utc
from broker.container import Container
from broker.disclosure_log.events import EventType
from broker.disclosure_log.models import LogEntry
from broker.disclosure_log.service import body_of
from broker.disclosures.models import Disclosure, DisclosureItem
from broker.matches.directory import Directory
from broker.policy import UnknownCategory, UnknownPurpose
from broker.signals.models import Signal
from broker.subject_access.repository import SubjectRepository
from broker.subject_access.schemas import (
    Period,
    QueryLine,
    ReceiptLine,
    RegistrationLine,
    ReportSections,
    Text,
)
from broker.types import OrgType
from keys import MatchingPseudonym

LEGAL_BASES = {
    "consent": Text(nl="toestemming", en="consent"),
    "proportionality": Text(
        nl="afweging zonder toestemming (de vijf vragen)",
        en="weighing without consent (the five questions)",
    ),
    "serious_danger": Text(nl="ernstig gevaar", en="serious danger"),
}
OUTCOMES = {"hit": "known", "no_hit": "not_known"}
RECEIPT_EVENTS = (EventType.RELEASE, EventType.OVERRIDE, EventType.RELEASE_PENDING)


@dataclass(frozen=True)
class Scope:
    """Whose entries a report covers, and when: the whole chain only for the broker's DPO."""

    org_id: str | None
    since: datetime | None
    until: datetime | None

    @classmethod
    def of(cls, principal: Principal, period: Period | None) -> Scope:
        """The scope of ``principal``'s report over ``period`` (days, ``until`` inclusive)."""
        return cls(
            org_id=None if principal.is_broker_dpo else principal.org_id,
            since=_start_of(period.since) if period and period.since else None,
            until=_start_of(period.until + timedelta(days=1)) if period and period.until else None,
        )

    def covers(self, org_id: str, at: datetime) -> bool:
        """True when a signal of ``org_id`` registered ``at`` falls in this report."""
        at = as_utc(at)
        return (
            (self.org_id is None or org_id == self.org_id)
            and (self.since is None or at >= self.since)
            and (self.until is None or at < self.until)
        )


class ReportBuilder:
    """Builds the three sections; ``withheld`` tells whether anything in scope was left out."""

    def __init__(
        self,
        session: Session,
        container: Container,
        principal: Principal,
        *,
        scope: Scope,
        now: datetime,
    ) -> None:
        self._session = session
        self._now = now
        self._catalogue = container.catalogue
        self._pseudonymiser = container.pseudonymiser
        self._principal = principal
        self._scope = scope
        self._repo = SubjectRepository(session)
        self._directory = Directory(session)
        self.withheld = False

    def sections(self, y: MatchingPseudonym, person_key: str) -> ReportSections:
        """Registrations, queries and receipts concerning the person."""
        return ReportSections(
            registrations=self._registrations(y, person_key),
            queries=self._queries(person_key),
            receipts=self._receipts(person_key),
        )

    def _registrations(self, y: MatchingPseudonym, person_key: str) -> list[RegistrationLine]:
        seen: set[str] = set()
        lines: list[RegistrationLine] = []
        tokens = set(self._pseudonymiser.lookup_tokens(y).values())
        for _, signal in self._repo.signals_on(tokens):
            if signal.id in seen or not self._scope.covers(signal.org_id, signal.created_at):
                continue
            seen.add(signal.id)
            if self._signal_protected(signal):
                continue
            active = signal.withdrawn_at is None and as_utc(signal.expires_at) > self._now
            lines.append(
                self._registration(signal.org_id, signal.category, signal.created_at, active)
            )
        for stone in self._repo.tombstones_on(person_key):
            if stone.signal_id in seen or not self._scope.covers(stone.org_id, stone.registered_at):
                continue
            seen.add(stone.signal_id)
            # The signal itself is purged: its embargo is unknown, its category still tells.
            if self._withhold_if(
                self._is_shelter(stone.org_id) or self._category_protected(stone.category)
            ):
                continue
            lines.append(
                self._registration(stone.org_id, stone.category, stone.registered_at, False)
            )
        return sorted(lines, key=lambda line: (line.month, line.organisation))

    def _registration(
        self, org_id: str, category: str, at: datetime, active: bool
    ) -> RegistrationLine:
        label = self._catalogue.category(category).label
        return RegistrationLine(
            organisation=self._name(org_id),
            category=Text(nl=label.nl, en=label.en),
            month=_month(at),
            status="active" if active else "ended",
        )

    def _queries(self, person_key: str) -> list[QueryLine]:
        lines: list[QueryLine] = []
        for entry, body in self._entries(person_key, EventType.QUERY):
            outcome = OUTCOMES.get(entry.outcome)
            # Other outcomes ("alert:...") are the fishing detector's notes on a query
            # already listed, not a question of their own.
            if outcome is None or self._withhold_if(self._involves_shelter(body)):
                continue
            lines.append(
                QueryLine(
                    organisation=self._name(body["org"]),
                    purpose=self._purpose(body.get("purpose")),
                    month=_month(entry.created_at),
                    outcome="known" if outcome == "known" else "not_known",
                )
            )
        return sorted(lines, key=lambda line: (line.month, line.organisation))

    def _receipts(self, person_key: str) -> list[ReceiptLine]:
        lines: list[ReceiptLine] = []
        seen: set[str] = set()
        for event in RECEIPT_EVENTS:
            for _, body in self._entries(person_key, event):
                item_id = body.get("details", {}).get("item_id")
                if not item_id or item_id in seen:
                    continue
                seen.add(item_id)
                line = self._receipt(item_id, body)
                if line is not None:
                    lines.append(line)
        return sorted(lines, key=lambda line: (line.month, line.organisation))

    def _receipt(self, item_id: str, body: dict[str, Any]) -> ReceiptLine | None:
        # The item, not the entry, knows whether a pending request was approved later.
        item = self._session.get(DisclosureItem, item_id)
        disclosure = self._session.get(Disclosure, item.disclosure_id) if item else None
        if item is None or disclosure is None or item.status != "released":
            return None
        signal = self._session.get(Signal, item.signal_id)
        if self._withhold_if(
            self._involves_shelter(body)
            or self._is_shelter(disclosure.requester_org)
            or self._is_shelter(item.source_org)
            or self._category_protected(item.category)
            or (signal is not None and (signal.shielded or signal.embargo))
        ):
            return None
        return ReceiptLine(
            organisation=self._name(disclosure.requester_org),
            source=self._name(item.source_org),
            purpose=self._purpose(disclosure.purpose),
            legal_basis=LEGAL_BASES.get(
                disclosure.legal_basis, Text(nl=disclosure.legal_basis, en=disclosure.legal_basis)
            ),
            month=_month(item.decided_at or disclosure.created_at),
            fields=sorted(item.fields),
        )

    def _entries(self, person_key: str, event: EventType) -> list[tuple[LogEntry, dict[str, Any]]]:
        found: list[tuple[LogEntry, dict[str, Any]]] = []
        for entry in self._repo.entries_on(
            self._principal, person_key, event, since=self._scope.since, until=self._scope.until
        ):
            body = body_of(entry)
            if body is not None:  # redacted after retention: nothing left to show
                found.append((entry, body))
        return found

    def _signal_protected(self, signal: Signal) -> bool:
        return self._withhold_if(
            signal.shielded
            or signal.embargo
            or self._is_shelter(signal.org_id)
            or self._category_protected(signal.category)
        )

    def _withhold_if(self, protected: bool) -> bool:
        self.withheld = self.withheld or protected
        return protected

    def _involves_shelter(self, body: dict[str, Any]) -> bool:
        involved = {body.get("org"), *body.get("parties", [])}
        return any(self._is_shelter(org) for org in involved if org)

    def _category_protected(self, name: str) -> bool:
        try:
            return self._catalogue.category(name).shielded
        except UnknownCategory:
            return True

    def _is_shelter(self, org_id: str) -> bool:
        return bool(self._directory.describe(org_id)["type"] == OrgType.SHELTER.value)

    def _name(self, org_id: str) -> str:
        return str(self._directory.describe(org_id)["name"])

    def _purpose(self, name: str | None) -> Text:
        if name is None:
            return Text(nl="onbekend", en="unknown")
        try:
            label = self._catalogue.purpose(name).label
        except UnknownPurpose:
            return Text(nl=name, en=name)
        return Text(nl=label.nl, en=label.en)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _month(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m")
