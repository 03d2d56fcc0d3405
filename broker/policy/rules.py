"""Checks on the Casbin rules: known words only, and agreement with the category catalogue.

A typo would otherwise fail silently as a deny, and a rule the catalogue contradicts (a
release of a category with nothing releasable for the purpose) would mislead the reader.
"""

from __future__ import annotations

from collections.abc import Sequence

from broker.policy.catalogue import Catalogue
from broker.policy.errors import PolicyConfigError
from broker.policy.vocabulary import ANY_CATEGORY, NO_PURPOSE, Action, OrgType, Role

_ORG_TYPES = frozenset(t.value for t in OrgType)
_ROLES = frozenset(r.value for r in Role)
_ACTIONS = frozenset(a.value for a in Action)
_CATEGORY_ACTIONS = frozenset({Action.REGISTER, Action.REQUEST_RELEASE, Action.APPROVE_RELEASE})


def check_rules(
    rules: Sequence[Sequence[str]],
    *,
    groupings: Sequence[Sequence[str]],
    catalogue: Catalogue,
    source: str,
) -> None:
    """Raise PolicyConfigError naming every rule with an unknown word."""
    problems: list[str] = []
    for rule in rules:
        problems.extend(f"p, {', '.join(rule)}: {p}" for p in _rule_problems(rule, catalogue))
    for grouping in groupings:
        if len(grouping) != 2 or not set(grouping) <= _ROLES:
            problems.append(f"g, {', '.join(grouping)}: both sides must be roles")
    if problems:
        raise PolicyConfigError(f"{source}: " + "; ".join(problems))


def _rule_problems(rule: Sequence[str], catalogue: Catalogue) -> list[str]:
    if len(rule) != 5:
        return ["expected org_type, role, purpose, action, category"]
    org_type, role, purpose, action, category = rule
    problems = []
    if org_type not in _ORG_TYPES:
        problems.append(f"unknown organisation type {org_type!r}")
    if role not in _ROLES:
        problems.append(f"unknown role {role!r}")
    if action not in _ACTIONS:
        problems.append(f"unknown action {action!r}")
    if purpose == NO_PURPOSE:
        if action != Action.ADMINISTER:
            problems.append("only administer may be bound to no purpose")
    elif purpose not in catalogue.purposes:
        problems.append(f"unknown purpose {purpose!r}")
    if category not in {ANY_CATEGORY, *catalogue.categories}:
        problems.append(f"unknown category {category!r}")
    elif action in _CATEGORY_ACTIONS:
        problems.extend(_catalogue_problems(org_type, purpose, action, category, catalogue))
    return problems


def _catalogue_problems(
    org_type: str, purpose: str, action: str, name: str, catalogue: Catalogue
) -> list[str]:
    if name == ANY_CATEGORY:
        return [f"{action} must name one category"]
    category = catalogue.categories[name]
    registrant = org_type in category.registrant_types
    if action == Action.REGISTER and purpose != "registration":
        return ["register is only for the purpose registration"]
    if action in {Action.REGISTER, Action.APPROVE_RELEASE} and not registrant:
        return [f"{org_type} is not among the registrant_types of {name}"]
    releases = action in {Action.REQUEST_RELEASE, Action.APPROVE_RELEASE}
    if releases and not category.releasable_fields(purpose):
        return [f"{name} releases no fields for {purpose} (categories.toml)"]
    return []
