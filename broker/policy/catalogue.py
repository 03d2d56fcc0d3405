"""The purposes and signal categories catalogue, loaded from ``policies/*.toml``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from types import MappingProxyType

from broker.policy._parse import parse_categories, parse_purposes
from broker.policy._toml import read_toml
from broker.policy.definitions import Category, Purpose
from broker.policy.errors import UnknownCategory, UnknownPurpose

PURPOSES_FILE = "purposes.toml"
CATEGORIES_FILE = "categories.toml"


@dataclass(frozen=True)
class Catalogue:
    """Every purpose and data category the broker knows; read-only once loaded."""

    purposes: Mapping[str, Purpose]
    _: KW_ONLY
    categories: Mapping[str, Category]

    @classmethod
    def from_dir(cls, directory: Path) -> Catalogue:
        """Load and check ``purposes.toml`` and ``categories.toml`` from a policy directory."""
        return cls.load(
            purposes_path=directory / PURPOSES_FILE,
            categories_path=directory / CATEGORIES_FILE,
        )

    @classmethod
    def load(cls, *, purposes_path: Path, categories_path: Path) -> Catalogue:
        """Load and check both files; raise PolicyConfigError listing every problem."""
        purposes = parse_purposes(read_toml(purposes_path), source=purposes_path.name)
        categories = parse_categories(
            read_toml(categories_path), purposes=purposes, source=categories_path.name
        )
        return cls(MappingProxyType(purposes), categories=MappingProxyType(categories))

    def purpose(self, name: str) -> Purpose:
        """Return the named purpose or raise UnknownPurpose."""
        try:
            return self.purposes[name]
        except KeyError:
            raise UnknownPurpose(self.purposes) from None

    def category(self, name: str) -> Category:
        """Return the named category or raise UnknownCategory."""
        try:
            return self.categories[name]
        except KeyError:
            raise UnknownCategory(self.categories) from None
