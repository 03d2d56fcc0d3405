"""Reading policy TOML files, collecting every problem so an operator fixes all in one pass."""

from __future__ import annotations

import tomllib
from pathlib import Path

from broker.policy.definitions import Label
from broker.policy.errors import PolicyConfigError
from broker.types import OrgType

Table = dict[str, object]

_ORG_TYPES = frozenset(t.value for t in OrgType)


class Problems:
    """Collects every problem in one file, so an operator fixes them in one pass."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        """Record one problem at a place in the file."""
        self.messages.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        """Raise PolicyConfigError listing every recorded problem."""
        if self.messages:
            raise PolicyConfigError(f"{self.source}: " + "; ".join(self.messages))


def read_toml(path: Path) -> Table:
    """Return the parsed TOML file, or raise PolicyConfigError."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise PolicyConfigError(f"{path.name}: file not found in {path.parent}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyConfigError(f"{path.name}: not valid TOML ({exc})") from exc


def sections(data: Table, key: str, problems: Problems) -> dict[str, Table]:
    section = data.get(key)
    if not isinstance(section, dict) or not section:
        problems.add(f"[{key}]", "missing or empty")
        return {}
    tables: dict[str, Table] = {}
    for name, entry in section.items():
        if isinstance(entry, dict):
            tables[name] = entry
        else:
            problems.add(f"{key}.{name}", "must be a table")
    return tables


def label(entry: Table, where: str, problems: Problems) -> Label | None:
    label = entry.get("label")
    if isinstance(label, dict):
        nl, en = label.get("nl"), label.get("en")
        if isinstance(nl, str) and nl.strip() and isinstance(en, str) and en.strip():
            return Label(nl.strip(), en=en.strip())
    problems.add(where, "label needs non-empty nl and en texts")
    return None


def flag(entry: Table, key: str, where: str, problems: Problems) -> bool:
    value = entry.get(key, False)
    if isinstance(value, bool):
        return value
    problems.add(where, f"{key} must be true or false")
    return False


def org_types(entry: Table, key: str, where: str, problems: Problems) -> frozenset[OrgType]:
    values = entry.get(key, [])
    if not isinstance(values, list):
        problems.add(where, f"{key} must be a list of organisation types")
        return frozenset()
    for value in values:
        if value not in _ORG_TYPES:
            problems.add(where, f"{key}: {value!r} is not one of {', '.join(sorted(_ORG_TYPES))}")
    return frozenset(OrgType(value) for value in values if value in _ORG_TYPES)
