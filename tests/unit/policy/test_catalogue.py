"""Loading the catalogue: the shipped files load, broken ones are refused with a clear reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from broker.policy import (
    Catalogue,
    FieldType,
    PolicyConfigError,
    UnknownCategory,
    UnknownPurpose,
)
from policies import POLICY_DIR

PURPOSES = """
[purposes.home_visit_risk_check]
label = { nl = "Risicocheck huisbezoek", en = "Home-visit risk check" }
description = "Checking an address before a visit."

[purposes.registration]
label = { nl = "Registratie", en = "Registration" }
description = "Registering involvement."
"""

VALID_CATEGORY = """
[categories.police_dv_incident]
label = { nl = "Politiemelding", en = "Police incident" }
registrant_types = ["police"]
default_expiry_days = 365
category_visible_to = ["veilig_thuis"]
release = { default = "approval", by_recipient = { veilig_thuis = "automatic" } }
payload_fields = { firearm_known = "bool", risk_level = "enum[low,high]" }
releasable = { home_visit_risk_check = ["firearm_known", "risk_level"] }
"""


def _write(tmp_path: Path, categories: str, purposes: str = PURPOSES) -> Path:
    (tmp_path / "purposes.toml").write_text(purposes)
    (tmp_path / "categories.toml").write_text(categories)
    return tmp_path


def test_shipped_catalogue_has_the_fixed_vocabulary() -> None:
    catalogue = Catalogue.from_dir(POLICY_DIR)
    assert set(catalogue.purposes) >= {
        "acute_safety", "safety_assessment", "case_handover", "case_conference",
        "home_visit_risk_check", "monitoring", "registration", "support_planning", "oversight",
    }  # fmt: skip
    assert set(catalogue.categories) == {
        "police_dv_incident", "police_investigation", "vt_report", "vt_advice_request",
        "restraining_order", "zvh_case", "wijkteam_support", "shelter_stay",
        "youth_protection_measure", "stalking",
    }  # fmt: skip
    for purpose in catalogue.purposes.values():
        assert purpose.label.nl and purpose.label.en and purpose.description.endswith(".")


def test_valid_minimal_catalogue_loads(tmp_path: Path) -> None:
    catalogue = Catalogue.from_dir(_write(tmp_path, VALID_CATEGORY))
    category = catalogue.category("police_dv_incident")
    assert category.payload_fields["risk_level"].kind is FieldType.ENUM
    assert category.payload_fields["risk_level"].allowed == ("low", "high")
    assert not category.shielded and not category.embargo_allowed


def test_lookups_raise_typed_errors_without_echoing(tmp_path: Path) -> None:
    catalogue = Catalogue.from_dir(_write(tmp_path, VALID_CATEGORY))
    with pytest.raises(UnknownPurpose) as purpose_error:
        catalogue.purpose("123456782")
    assert "123456782" not in str(purpose_error.value)
    assert "home_visit_risk_check" in str(purpose_error.value)
    with pytest.raises(UnknownCategory):
        catalogue.category("medical_file")


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("default_expiry_days = 365", "default_expiry_days = 731", "VIR maximum of 730"),
        ("default_expiry_days = 365", "default_expiry_days = 0", "positive whole number"),
        ('["firearm_known", "risk_level"]', '["firearm_known", "address"]', "'address' is not"),
        ("releasable = { home_visit_risk_check", "releasable = { fishing", "unknown purpose"),
        ('registrant_types = ["police"]', 'registrant_types = ["politie"]', "'politie' is not"),
        ('registrant_types = ["police"]', "registrant_types = []", "at least one"),
        ('firearm_known = "bool"', 'firearm_known = "boolean"', "type must be"),
        ('"enum[low,high]"', '"enum[low,low]"', "distinct"),
        ('default = "approval"', 'default = "ask"', "release needs default"),
        ('veilig_thuis = "automatic"', 'veilig_thuis = "always"', "by_recipient"),
        ('label = { nl = "Politiemelding", en', 'label = { nl = "", en', "label needs"),
        ("release = {", "releases = {", "unknown key 'releases'"),
    ],
)
def test_broken_categories_are_refused(tmp_path: Path, replace: str, by: str, message: str) -> None:
    assert replace in VALID_CATEGORY
    _write(tmp_path, VALID_CATEGORY.replace(replace, by, 1))
    with pytest.raises(PolicyConfigError, match=r"categories\.toml") as error:
        Catalogue.from_dir(tmp_path)
    assert message in str(error.value)


SHIELDED = """
[categories.shelter_stay]
label = { nl = "Opvang", en = "Shelter stay" }
registrant_types = ["shelter"]
default_expiry_days = 180
category_visible_to = []
shielded = true
fallback_desk = { organisation = "vt-rr", desk = "advies-en-meldpunt" }
release = { default = "approval" }
payload_fields = { admitted_on = "date" }
releasable = {}
"""


def test_shielded_category_loads_with_fallback_desk(tmp_path: Path) -> None:
    category = Catalogue.from_dir(_write(tmp_path, SHIELDED)).category("shelter_stay")
    assert (
        category.fallback_desk is not None and category.fallback_desk.desk == "advies-en-meldpunt"
    )


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('fallback_desk = { organisation = "vt-rr", desk = "advies-en-meldpunt" }', "", "fallback"),
        ('desk = "advies-en-meldpunt"', 'desk = ""', "fallback_desk needs"),
        ("category_visible_to = []", 'category_visible_to = ["police"]', "visible to no one"),
        ("releasable = {}", 'releasable = { registration = ["admitted_on"] }', "releases nothing"),
    ],
)
def test_shielded_category_rules(tmp_path: Path, replace: str, by: str, message: str) -> None:
    assert replace in SHIELDED
    _write(tmp_path, SHIELDED.replace(replace, by))
    with pytest.raises(PolicyConfigError, match=message):
        Catalogue.from_dir(tmp_path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    broken = VALID_CATEGORY.replace("365", "900").replace('"bool"', '"flag"')
    _write(tmp_path, broken)
    with pytest.raises(PolicyConfigError) as error:
        Catalogue.from_dir(tmp_path)
    assert "VIR maximum" in str(error.value) and "type must be" in str(error.value)


@pytest.mark.parametrize(
    ("purposes", "message"),
    [
        ("", "[purposes]"),
        ('[purposes.x]\nlabel = { nl = "X", en = "X" }\n', "description"),
        ("[purposes.x\n", "not valid TOML"),
    ],
)
def test_broken_purposes_are_refused(tmp_path: Path, purposes: str, message: str) -> None:
    _write(tmp_path, VALID_CATEGORY, purposes=purposes)
    with pytest.raises(PolicyConfigError, match=r"purposes\.toml") as error:
        Catalogue.from_dir(tmp_path)
    assert message in str(error.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    shutil.copy(POLICY_DIR / "purposes.toml", tmp_path / "purposes.toml")
    with pytest.raises(PolicyConfigError, match=r"categories\.toml: file not found"):
        Catalogue.from_dir(tmp_path)
