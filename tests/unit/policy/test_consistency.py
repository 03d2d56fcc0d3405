"""The access rules and the category catalogue tell one story.

Decisions come from the engine (the sweep in conftest), facts from categories.toml; neither
is used to predict the other, they are only held against each other.
"""

from __future__ import annotations

from broker.policy import Action, Catalogue, OrgType, ReleaseMode, Role

from .conftest import Key


def _allowed(decisions: dict[Key, bool], role: Role, action: Action) -> set[Key]:
    return {key for key, ok in decisions.items() if ok and key[1] is role and key[3] is action}


def test_registration_rules_follow_registrant_types(
    decisions: dict[Key, bool], catalogue: Catalogue
) -> None:
    for org_type in OrgType:
        for name, category in catalogue.categories.items():
            key = (org_type, Role.PROFESSIONAL, "registration", Action.REGISTER, name)
            assert decisions[key] == category.may_register(org_type), key


def test_every_release_request_has_fields_to_release(
    decisions: dict[Key, bool], catalogue: Catalogue
) -> None:
    for _, _, purpose, _, name in _allowed(decisions, Role.PROFESSIONAL, Action.REQUEST_RELEASE):
        assert catalogue.category(name).releasable_fields(purpose), (purpose, name)


def test_every_release_needing_approval_has_an_approver(
    decisions: dict[Key, bool], catalogue: Catalogue
) -> None:
    approvals = {
        (purpose, name)
        for _, _, purpose, _, name in _allowed(decisions, Role.COORDINATOR, Action.APPROVE_RELEASE)
    }
    for recipient, _, purpose, _, name in _allowed(
        decisions, Role.PROFESSIONAL, Action.REQUEST_RELEASE
    ):
        if catalogue.category(name).release_mode(recipient) is ReleaseMode.APPROVAL:
            assert (purpose, name) in approvals, (recipient, purpose, name)


def test_approvers_are_registrants_with_something_to_approve(
    decisions: dict[Key, bool], catalogue: Catalogue
) -> None:
    waiting = {
        (purpose, name)
        for recipient, _, purpose, _, name in _allowed(
            decisions, Role.PROFESSIONAL, Action.REQUEST_RELEASE
        )
        if catalogue.category(name).release_mode(recipient) is ReleaseMode.APPROVAL
    }
    for source, _, purpose, _, name in _allowed(
        decisions, Role.COORDINATOR, Action.APPROVE_RELEASE
    ):
        assert catalogue.category(name).may_register(source), (source, name)
        assert (purpose, name) in waiting, f"{source} approves {purpose}/{name}; nobody asks"


def test_shelter_stays_never_leave_the_shelter(catalogue: Catalogue) -> None:
    shelter = catalogue.category("shelter_stay")
    assert shelter.shielded
    assert shelter.fallback_desk is not None
    assert (shelter.fallback_desk.organisation, shelter.fallback_desk.desk) == (
        "vt-rr",
        "advies-en-meldpunt",
    )
    for purpose in catalogue.purposes:
        assert shelter.releasable_fields(purpose) == frozenset()
    for org_type in OrgType:
        assert not shelter.shows_category_to(org_type)


def test_scenario_fields_are_minimal(catalogue: Catalogue) -> None:
    incident = catalogue.category("police_dv_incident")
    assert incident.releasable_fields("home_visit_risk_check") == {"firearm_known", "risk_level"}
    report = catalogue.category("vt_report")
    assert report.releasable_fields("case_handover") == {"risk_level", "safety_plan"}
    assert incident.releasable_fields("registration") == frozenset()


def test_covenants_make_police_releases_automatic(catalogue: Catalogue) -> None:
    incident = catalogue.category("police_dv_incident")
    assert incident.release_mode(OrgType.VEILIG_THUIS) is ReleaseMode.AUTOMATIC
    assert incident.release_mode(OrgType.PROBATION) is ReleaseMode.AUTOMATIC
    assert incident.release_mode(OrgType.WIJKTEAM) is ReleaseMode.APPROVAL
    assert catalogue.category("police_investigation").embargo_allowed


def test_expiry_never_exceeds_the_vir_maximum(catalogue: Catalogue) -> None:
    assert all(0 < c.default_expiry_days <= 730 for c in catalogue.categories.values())
