"""Fixtures for the policy tests: the shipped catalogue and engine, and one decision sweep."""

from __future__ import annotations

import itertools

import pytest

from broker.policy import (
    ANY_CATEGORY,
    NO_PURPOSE,
    AccessRequest,
    Action,
    Catalogue,
    OrgType,
    PolicyEngine,
    Role,
)
from policies import POLICY_DIR

# Actions whose rules name a category; swept over every category.
CATEGORY_ACTIONS = (Action.REGISTER, Action.REQUEST_RELEASE, Action.APPROVE_RELEASE)
# Stand-in category for actions whose rules are not about one category.
REPRESENTATIVE_CATEGORY = {
    Action.QUERY: ANY_CATEGORY,
    Action.OVERRIDE: "police_dv_incident",
    Action.RECORD_CONSENT: ANY_CATEGORY,
    Action.REVIEW: ANY_CATEGORY,
    Action.ADMINISTER: ANY_CATEGORY,
}

Key = tuple[OrgType, Role, str, Action, str]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.from_dir(POLICY_DIR)


@pytest.fixture(scope="session")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir(POLICY_DIR, check_interval=None)


def sweep_keys(catalogue: Catalogue) -> list[Key]:
    """Every org type x role x purpose x action, with every category where rules name one."""
    purposes = [*catalogue.purposes, NO_PURPOSE]
    keys: list[Key] = []
    for org_type, role, purpose, action in itertools.product(OrgType, Role, purposes, Action):
        if action in CATEGORY_ACTIONS:
            # check_rules refuses NO_PURPOSE on these actions, so it needs no sweep.
            if purpose != NO_PURPOSE:
                keys.extend((org_type, role, purpose, action, c) for c in catalogue.categories)
        else:
            keys.append((org_type, role, purpose, action, REPRESENTATIVE_CATEGORY[action]))
    return keys


@pytest.fixture(scope="session")
def decisions(engine: PolicyEngine, catalogue: Catalogue) -> dict[Key, bool]:
    """The engine's answer for the whole sweep, computed once for all policy tests."""
    return {
        key: engine.decide(
            AccessRequest(key[0], role=key[1], purpose=key[2], action=key[3], category=key[4])
        ).allowed
        for key in sweep_keys(catalogue)
    }
