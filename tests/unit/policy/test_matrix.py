"""The whole access matrix, against expectations written out here by hand.

The tables below are NOT derived from policies/policy.csv: they restate, per organisation
type, what DOMAIN.md asks for. Any edit of the policy that widens (or narrows) access fails
here until the table is changed too, on purpose and in review.
"""

from __future__ import annotations

import pytest

from broker.policy import NO_PURPOSE, AccessRequest, Action, OrgType, PolicyEngine, Role

from .conftest import Key

P = OrgType.POLICE
VT = OrgType.VEILIG_THUIS
ZVH = OrgType.ZVH
WT = OrgType.WIJKTEAM
SH = OrgType.SHELTER
YP = OrgType.YOUTH_PROTECTION
PR = OrgType.PROBATION
GGZ = OrgType.GGZ
BR = OrgType.BROKER

# Purposes for which professionals (and so coordinators) may ask whether a family is known.
QUERY: dict[OrgType, set[str]] = {
    P: {"acute_safety", "home_visit_risk_check"},
    VT: {"acute_safety", "safety_assessment", "case_handover", "monitoring"},
    ZVH: {"acute_safety", "case_conference"},
    WT: {"acute_safety", "home_visit_risk_check", "case_handover", "support_planning"},
    SH: {"acute_safety", "case_handover", "support_planning"},
    YP: {"acute_safety", "case_handover", "home_visit_risk_check", "support_planning"},
    PR: {"acute_safety", "support_planning"},
    GGZ: {"acute_safety", "home_visit_risk_check", "support_planning"},
    BR: set(),
}

# Categories each type may register (always for the purpose "registration").
REGISTER: dict[OrgType, set[str]] = {
    P: {"police_dv_incident", "police_investigation", "restraining_order", "stalking"},
    VT: {"vt_report", "vt_advice_request", "stalking"},
    ZVH: {"zvh_case"},
    WT: {"wijkteam_support"},
    SH: {"shelter_stay"},
    YP: {"youth_protection_measure"},
    PR: set(),
    GGZ: set(),
    BR: set(),
}

# (purpose, category) for which professionals may ask a source to release fields.
REQUEST_RELEASE: dict[OrgType, set[tuple[str, str]]] = {
    P: set(),
    VT: {
        ("safety_assessment", "police_dv_incident"),
        ("safety_assessment", "police_investigation"),
        ("safety_assessment", "restraining_order"),
        ("safety_assessment", "stalking"),
        ("safety_assessment", "zvh_case"),
        ("safety_assessment", "wijkteam_support"),
        ("safety_assessment", "youth_protection_measure"),
        ("monitoring", "police_dv_incident"),
        ("monitoring", "restraining_order"),
        ("monitoring", "wijkteam_support"),
    },
    ZVH: {
        ("case_conference", category)
        for category in (
            "police_dv_incident",
            "police_investigation",
            "vt_report",
            "vt_advice_request",
            "restraining_order",
            "wijkteam_support",
            "youth_protection_measure",
            "stalking",
        )
    },
    WT: {
        ("home_visit_risk_check", "police_dv_incident"),
        ("home_visit_risk_check", "restraining_order"),
        ("case_handover", "vt_report"),
        ("support_planning", "zvh_case"),
    },
    SH: {("case_handover", "vt_report"), ("support_planning", "restraining_order")},
    YP: {
        ("case_handover", "vt_report"),
        ("home_visit_risk_check", "police_dv_incident"),
        ("home_visit_risk_check", "restraining_order"),
    },
    PR: {
        ("support_planning", "police_dv_incident"),
        ("support_planning", "restraining_order"),
        ("support_planning", "stalking"),
    },
    GGZ: {
        ("home_visit_risk_check", "police_dv_incident"),
        ("home_visit_risk_check", "restraining_order"),
    },
    BR: set(),
}

# (purpose, category) for which a source's coordinators approve or refuse a release.
# Shelters, probation and GGZ are never a release source.
APPROVE_RELEASE: dict[OrgType, set[tuple[str, str]]] = {
    P: {
        ("case_conference", "police_dv_incident"),
        ("home_visit_risk_check", "police_dv_incident"),
        ("safety_assessment", "police_investigation"),
        ("case_conference", "police_investigation"),
        ("case_conference", "restraining_order"),
        ("home_visit_risk_check", "restraining_order"),
        ("support_planning", "restraining_order"),
        ("case_conference", "stalking"),
        ("support_planning", "stalking"),
    },
    VT: {
        ("case_handover", "vt_report"),
        ("case_conference", "vt_report"),
        ("case_conference", "vt_advice_request"),
        ("case_conference", "stalking"),
        ("support_planning", "stalking"),
    },
    ZVH: {("safety_assessment", "zvh_case"), ("support_planning", "zvh_case")},
    WT: {
        ("safety_assessment", "wijkteam_support"),
        ("monitoring", "wijkteam_support"),
        ("case_conference", "wijkteam_support"),
    },
    SH: set(),
    YP: {
        ("safety_assessment", "youth_protection_measure"),
        ("case_conference", "youth_protection_measure"),
    },
    PR: set(),
    GGZ: set(),
    BR: set(),
}

# Purposes for which consent may be recorded; the police share under covenants instead.
RECORD_CONSENT: dict[OrgType, set[str]] = {
    P: set(),
    VT: {"case_handover", "case_conference"},
    ZVH: {"case_conference"},
    WT: {"case_handover", "support_planning"},
    SH: {"case_handover", "support_planning"},
    YP: {"case_handover", "support_planning"},
    PR: {"support_planning"},
    GGZ: {"support_planning"},
    BR: set(),
}

# Every care and safety organisation may file a serious-danger override; the broker's own
# staff never touch cases.
OVERRIDE: set[OrgType] = {P, VT, ZVH, WT, SH, YP, PR, GGZ}


def expected(org_type: OrgType, role: Role, purpose: str, action: Action, category: str) -> bool:
    """What DOMAIN.md asks for, independent of the policy files."""
    if role is Role.ADMIN:
        return action is Action.ADMINISTER and purpose == NO_PURPOSE
    if role is Role.PRIVACY_OFFICER:
        return action is Action.REVIEW and purpose == "oversight"
    match action:
        case Action.QUERY:
            return purpose in QUERY[org_type]
        case Action.REGISTER:
            return purpose == "registration" and category in REGISTER[org_type]
        case Action.REQUEST_RELEASE:
            return (purpose, category) in REQUEST_RELEASE[org_type]
        case Action.APPROVE_RELEASE:
            return role is Role.COORDINATOR and (purpose, category) in APPROVE_RELEASE[org_type]
        case Action.OVERRIDE:
            return purpose == "acute_safety" and org_type in OVERRIDE
        case Action.RECORD_CONSENT:
            return purpose in RECORD_CONSENT[org_type]
        case _:
            return False


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("org_type", list(OrgType))
def test_matrix_matches_expectations(
    org_type: OrgType, role: Role, decisions: dict[Key, bool]
) -> None:
    mine = {key: allowed for key, allowed in decisions.items() if key[:2] == (org_type, role)}
    assert mine, "the sweep covers every organisation type and role"
    wrong = sorted(
        f"{'ALLOWED' if allowed else 'DENIED'}: {key[2]} {key[3]} {key[4]}"
        for key, allowed in mine.items()
        if allowed != expected(*key)
    )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("role", "expected_rule"),
    [
        (
            Role.PROFESSIONAL,
            ("wijkteam", "professional", "home_visit_risk_check", "request_release",
             "police_dv_incident"),
        ),
        # The coordinator is allowed through inheritance; the log shows the granting line.
        (
            Role.COORDINATOR,
            ("wijkteam", "professional", "home_visit_risk_check", "request_release",
             "police_dv_incident"),
        ),
    ],
)  # fmt: skip
def test_decision_names_the_matched_rule(
    engine: PolicyEngine, role: Role, expected_rule: tuple[str, ...]
) -> None:
    decision = engine.decide(
        AccessRequest(
            OrgType.WIJKTEAM,
            role=role,
            purpose="home_visit_risk_check",
            action=Action.REQUEST_RELEASE,
            category="police_dv_incident",
        )
    )
    assert decision.allowed
    assert decision.rule == expected_rule


@pytest.mark.parametrize(
    ("purpose", "category"),
    [
        ("marketing", "*"),  # unknown purpose
        ("home_visit_risk_check", "credit_score"),  # unknown category
        ("home_visit_risk_check", "*"),  # a category-specific rule is not "any category"
        ("", ""),
    ],
)
def test_unknown_or_vague_requests_are_denied(
    engine: PolicyEngine, purpose: str, category: str
) -> None:
    decision = engine.decide(
        AccessRequest(
            OrgType.WIJKTEAM,
            role=Role.PROFESSIONAL,
            purpose=purpose,
            action=Action.REQUEST_RELEASE,
            category=category,
        )
    )
    assert decision.allowed is False
    assert decision.rule is None
