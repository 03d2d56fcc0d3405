"""Reading purposes.toml and categories.toml into checked catalogue objects."""

from __future__ import annotations

from collections.abc import Collection
from types import MappingProxyType

from broker.policy._toml import Problems, Table, flag, label, org_types, sections
from broker.policy.definitions import Category, Desk, Purpose, ReleaseMode, ReleaseRule
from broker.policy.payload import PayloadField
from broker.types import OrgId, OrgType

# VIR: a registration lives at most two years.
MAX_EXPIRY_DAYS = 730

_CATEGORY_KEYS = frozenset(
    {
        "label", "registrant_types", "default_expiry_days", "payload_fields",
        "category_visible_to", "shielded", "embargo_allowed", "fallback_desk", "release",
        "releasable",
    }
)  # fmt: skip
_ORG_TYPES = frozenset(t.value for t in OrgType)
_MODES = frozenset(m.value for m in ReleaseMode)


def parse_purposes(data: Table, *, source: str) -> dict[str, Purpose]:
    """Build the purposes from the ``[purposes.<name>]`` tables."""
    problems = Problems(source)
    purposes: dict[str, Purpose] = {}
    for name, entry in sections(data, "purposes", problems).items():
        where = f"purpose {name!r}"
        description = entry.get("description")
        names = label(entry, where, problems)
        if not isinstance(description, str) or not description.strip():
            problems.add(where, "needs a one-sentence description")
        elif names is not None:
            purposes[name] = Purpose(name, label=names, description=description.strip())
    problems.raise_if_any()
    return purposes


def parse_categories(data: Table, *, purposes: Collection[str], source: str) -> dict[str, Category]:
    """Build the categories from the ``[categories.<name>]`` tables, checking each rule."""
    problems = Problems(source)
    categories: dict[str, Category] = {}
    for name, entry in sections(data, "categories", problems).items():
        before = len(problems.messages)
        category = _category(name, entry, purposes, problems)
        if category is not None and len(problems.messages) == before:
            categories[name] = category
    problems.raise_if_any()
    return categories


def _category(
    name: str, entry: Table, purposes: Collection[str], problems: Problems
) -> Category | None:
    where = f"category {name!r}"
    for unknown in sorted(set(entry) - _CATEGORY_KEYS):
        problems.add(where, f"unknown key {unknown!r}")
    names = label(entry, where, problems)
    expiry = entry.get("default_expiry_days")
    if not isinstance(expiry, int) or isinstance(expiry, bool) or expiry <= 0:
        problems.add(where, "default_expiry_days must be a positive whole number")
    elif expiry > MAX_EXPIRY_DAYS:
        problems.add(where, f"default_expiry_days exceeds the VIR maximum of {MAX_EXPIRY_DAYS}")
    shielded = flag(entry, "shielded", where, problems)
    embargo_allowed = flag(entry, "embargo_allowed", where, problems)
    fields = _payload_fields(entry, where, problems)
    releasable = _releasable(entry, fields, purposes, where, problems)
    desk = _desk(entry.get("fallback_desk"), where, problems)
    visible_to = org_types(entry, "category_visible_to", where, problems)
    registrants = org_types(entry, "registrant_types", where, problems)
    release = _release_rule(entry.get("release"), where, problems)
    if not registrants:
        problems.add(where, "registrant_types must name at least one organisation type")
    if shielded:
        _check_shielding(desk, visible_to, releasable, where, problems)
    if names is None or release is None or not isinstance(expiry, int):
        return None
    return Category(
        name,
        label=names,
        registrant_types=registrants,
        default_expiry_days=expiry,
        payload_fields=MappingProxyType(fields),
        category_visible_to=visible_to,
        shielded=shielded,
        embargo_allowed=embargo_allowed,
        fallback_desk=desk,
        release=release,
        releasable=MappingProxyType(releasable),
    )


def _check_shielding(
    desk: Desk | None,
    visible_to: frozenset[OrgType],
    releasable: dict[str, frozenset[str]],
    where: str,
    problems: Problems,
) -> None:
    # A shelter registration must never lead anyone to the victim (DOMAIN.md, harms).
    if desk is None:
        problems.add(where, "a shielded category needs a fallback_desk")
    if visible_to:
        problems.add(where, "a shielded category is visible to no one (category_visible_to)")
    if any(releasable.values()):
        problems.add(where, "a shielded category releases nothing (releasable)")


def _payload_fields(entry: Table, where: str, problems: Problems) -> dict[str, PayloadField]:
    specs = entry.get("payload_fields")
    if not isinstance(specs, dict):
        problems.add(where, "payload_fields must be a table of name = type")
        return {}
    fields: dict[str, PayloadField] = {}
    for name, spec in specs.items():
        try:
            if not isinstance(spec, str):
                raise ValueError("type must be a string")
            fields[name] = PayloadField.parse(name, spec)
        except ValueError as exc:
            problems.add(where, f"payload field {name!r}: {exc}")
    return fields


def _releasable(
    entry: Table,
    fields: dict[str, PayloadField],
    purposes: Collection[str],
    where: str,
    problems: Problems,
) -> dict[str, frozenset[str]]:
    table = entry.get("releasable", {})
    if not isinstance(table, dict):
        problems.add(where, "releasable must be a table of purpose = [fields]")
        return {}
    releasable: dict[str, frozenset[str]] = {}
    for purpose, names in table.items():
        if purpose not in purposes:
            problems.add(where, f"releasable: unknown purpose {purpose!r}")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.add(where, f"releasable.{purpose} must be a list of field names")
            continue
        for missing in sorted(set(names) - set(fields)):
            problems.add(where, f"releasable.{purpose}: {missing!r} is not a payload field")
        releasable[purpose] = frozenset(names)
    return releasable


def _desk(value: object, where: str, problems: Problems) -> Desk | None:
    if value is None:
        return None
    if isinstance(value, dict):
        organisation, desk = value.get("organisation"), value.get("desk")
        if isinstance(organisation, str) and organisation and isinstance(desk, str) and desk:
            return Desk(OrgId(organisation), desk=desk)
    problems.add(where, "fallback_desk needs an organisation and a desk")
    return None


def _release_rule(value: object, where: str, problems: Problems) -> ReleaseRule | None:
    if not isinstance(value, dict) or value.get("default") not in _MODES:
        problems.add(where, f"release needs default = one of {', '.join(sorted(_MODES))}")
        return None
    overrides = value.get("by_recipient", {})
    if not isinstance(overrides, dict):
        problems.add(where, "release.by_recipient must be a table of org_type = mode")
        return None
    by_recipient: dict[OrgType, ReleaseMode] = {}
    for org_type, mode in overrides.items():
        if org_type not in _ORG_TYPES or mode not in _MODES:
            problems.add(where, f"release.by_recipient: {org_type!r} = {mode!r} is not valid")
            continue
        by_recipient[OrgType(org_type)] = ReleaseMode(mode)
    return ReleaseRule(
        ReleaseMode(str(value["default"])), by_recipient=MappingProxyType(by_recipient)
    )
