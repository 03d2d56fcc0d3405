"""Reading one export row field by field, collecting every problem (never echoing a value)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from connectors.errors import RowInvalid
from connectors.models import Person, Role, Severity
from keys import InvalidIdentifier, NameIdentifier, PersonIdentifier, parse_bsn

YES = frozenset({"j", "ja", "y", "yes", "true", "1", "waar"})
NO = frozenset({"n", "nee", "no", "false", "0", "onwaar"})
RISK = {
    "laag": Severity.LOW,
    "midden": Severity.MEDIUM,
    "middel": Severity.MEDIUM,
    "hoog": Severity.HIGH,
    "acuut": Severity.ACUTE,
}
ROLES = {
    "slachtoffer": Role.VICTIM,
    "pleger": Role.SUSPECT,
    "verdachte": Role.SUSPECT,
    "kind": Role.CHILD,
    "overig": Role.OTHER,
}
T = TypeVar("T")
_DUTCH_DATE = re.compile(r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})")


class Fields:
    """Typed access to a row's fields; problems pile up until ``check`` raises them all."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []
        if "__shape__" in raw:
            self.problems.append(f"malformed record ({raw['__shape__']})")

    def problem(self, message: str) -> None:
        """Record a problem with the row."""
        self.problems.append(message)

    def check(self) -> None:
        """Raise ``RowInvalid`` with every problem found so far."""
        if self.problems:
            raise RowInvalid(*self.problems)

    def text(self, name: str, *, required: bool = False) -> str | None:
        """A non-empty string, or None."""
        value = self.raw.get(name)
        if isinstance(value, str):
            value = value.strip() or None
        elif value is not None and not isinstance(value, bool):
            value = str(value)
        if value is None and required:
            self.problem(f"{name}: missing")
        return value if isinstance(value, str) else None

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        """A date as YYYY-MM-DD or DD-MM-YYYY."""
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            if match := _DUTCH_DATE.fullmatch(value):
                day, month, year = (int(part) for part in match.groups())
                return dt.date(year, month, day)
            return dt.date.fromisoformat(value)
        except ValueError:
            self.problem(f"{name}: not a date (YYYY-MM-DD or DD-MM-YYYY)")
            return None

    def yes_no(self, name: str) -> bool | None:
        """J/N, ja/nee, true/false; None when empty."""
        value = self.raw.get(name)
        if isinstance(value, bool) or value is None:
            return value
        text = str(value).strip().lower()
        if not text:
            return None
        if text in YES | NO:
            return text in YES
        self.problem(f"{name}: expected J or N")
        return None

    def whole(self, name: str) -> int | None:
        """A whole number, zero or more."""
        value = self.raw.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        text = self.text(name)
        if text is None:
            return None
        if text.isdigit():
            return int(text)
        self.problem(f"{name}: not a whole number")
        return None

    def choice(self, name: str, table: Mapping[str, T], *, required: bool = False) -> T | None:
        """A code from ``table`` (case-insensitive), translated."""
        value = self.text(name, required=required)
        if value is None:
            return None
        if value.lower() in table:
            return table[value.lower()]
        self.problem(f"{name}: expected one of {', '.join(table)}")
        return None

    def identifier(self, prefix: str) -> PersonIdentifier | None:
        """``{prefix}bsn``, or else ``{prefix}achternaam/voornamen/geboortedatum``."""
        bsn = self.text(f"{prefix}bsn")
        if bsn is not None:
            return self.bsn(bsn, label=f"{prefix}bsn")
        family = self.text(f"{prefix}achternaam")
        given = self.text(f"{prefix}voornamen")
        born = self.date(f"{prefix}geboortedatum")
        if family is None and given is None and born is None:
            return None
        if family is None or given is None or born is None:
            self.problem(f"{prefix}bsn: missing, and the name and birth date are incomplete")
            return None
        try:
            return NameIdentifier(family, given, born)
        except InvalidIdentifier:
            self.problem(f"{prefix}achternaam/voornamen: no letters")
            return None

    def bsn(self, value: str, *, label: str) -> PersonIdentifier | None:
        """A BSN that passes the 11-proef."""
        try:
            return parse_bsn(value)
        except InvalidIdentifier:
            self.problem(f"{label}: not a valid BSN (11-proef)")
            return None

    def bsn_list(self, name: str, role: Role) -> list[Person]:
        """Semicolon-separated BSNs, each as a person with ``role``."""
        value = self.text(name) or ""
        found = [self.bsn(part, label=name) for part in value.split(";") if part.strip()]
        return [Person(identifier, role) for identifier in found if identifier is not None]


def expiry(start: dt.date, days: int) -> dt.datetime:
    """Midnight (UTC) ``days`` after ``start``: a registration's life follows the event."""
    return dt.datetime.combine(start + dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC)
