"""Payload validation per category: types, enums, dates, unknown fields; values never echoed."""

from __future__ import annotations

import datetime as dt

import pytest

from broker.policy import Catalogue, InvalidPayload

SECRET = "123456782"  # shaped like a BSN: must never appear in an error


def test_valid_payload_is_cleaned(catalogue: Catalogue) -> None:
    cleaned = catalogue.category("police_dv_incident").validate_payload(
        {
            "incident_date": dt.date(2025, 3, 1),
            "risk_level": "high",
            "firearm_known": True,
            "prior_incidents": 2,
            "children_present": None,
        }
    )
    assert cleaned == {
        "incident_date": "2025-03-01",
        "risk_level": "high",
        "firearm_known": True,
        "prior_incidents": 2,
    }


def test_empty_payload_is_valid(catalogue: Catalogue) -> None:
    # VIR-style registrations carry no content at all.
    assert catalogue.category("shelter_stay").validate_payload({}) == {}


def test_text_and_iso_dates(catalogue: Catalogue) -> None:
    order = catalogue.category("restraining_order")
    assert order.validate_payload({"restraining_order_until": "2025-03-29"}) == {
        "restraining_order_until": "2025-03-29"
    }
    report = catalogue.category("vt_report")
    assert report.validate_payload({"safety_plan": "Contact via school"})["safety_plan"]


@pytest.mark.parametrize(
    ("category", "payload", "field", "message"),
    [
        ("police_dv_incident", {"firearm_known": SECRET}, "firearm_known", "true or false"),
        ("police_dv_incident", {"firearm_known": 1}, "firearm_known", "true or false"),
        ("police_dv_incident", {"risk_level": SECRET}, "risk_level", "low, medium, high, acute"),
        ("police_dv_incident", {"prior_incidents": True}, "prior_incidents", "whole number"),
        ("police_dv_incident", {"prior_incidents": -1}, "prior_incidents", "whole number"),
        ("police_dv_incident", {"incident_date": SECRET}, "incident_date", "YYYY-MM-DD"),
        ("police_dv_incident", {"incident_date": "2025-02-30"}, "incident_date", "YYYY-MM-DD"),
        (
            "police_dv_incident",
            {"incident_date": dt.datetime(2025, 3, 1, 12, 0)},
            "incident_date",
            "YYYY-MM-DD",
        ),
        ("vt_report", {"safety_plan": "  "}, "safety_plan", "non-empty text"),
        ("vt_report", {"safety_plan": "x" * 2001}, "safety_plan", "at most 2000"),
        ("shelter_stay", {"address": "Secret street 1"}, "address", "unknown field"),
        ("shelter_stay", {SECRET: "x"}, "_unknown", "unknown field"),
    ],
)
def test_invalid_fields_are_named_without_their_values(
    catalogue: Catalogue, category: str, payload: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidPayload) as error:
        catalogue.category(category).validate_payload(payload)
    assert message in error.value.field_errors[field]
    shown = f"{error.value} {error.value.field_errors} {error.value.extensions}"
    assert SECRET not in shown and "Secret street" not in shown


def test_all_bad_fields_are_reported_together(catalogue: Catalogue) -> None:
    with pytest.raises(InvalidPayload) as error:
        catalogue.category("stalking").validate_payload(
            {"risk_level": "extreme", "contact_ban": "yes", "reported_on": "yesterday"}
        )
    assert set(error.value.field_errors) == {"risk_level", "contact_ban", "reported_on"}
    assert error.value.status == 422
