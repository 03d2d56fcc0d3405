"""The integrator splices the index into a queued body; the result must be the canonical body."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.sequencer import with_index
from broker.disclosure_log.service import entry_body
from broker.ledger import canonical_json

# Text that tries to look like the keys the splice searches for.
tricky = st.sampled_from(
    ['","legal_basis":', ',"legal_basis":', '"index":0', "legal_basis", "index", '\\"', "é"]
)
text = st.one_of(st.text(max_size=12), tricky)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31), text)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(text, st.sampled_from(["legal_basis", "index"])), inner, max_size=3
        ),
    ),
    max_leaves=12,
)


def queued(event: LogEvent) -> tuple[str, dict[str, Any]]:
    body = canonical_json(entry_body(event, at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC))).decode()
    return body, json.loads(body)


@settings(max_examples=300, deadline=None)
@given(
    details=st.dictionaries(st.one_of(text, st.sampled_from(["legal_basis", "index"])), values),
    org=st.one_of(st.none(), text),
    user=st.one_of(st.none(), text),
    purpose=st.one_of(st.none(), text),
    basis=st.one_of(st.none(), text),
    persons=st.lists(text, max_size=3),
    parties=st.lists(text, max_size=3),
    role=st.one_of(st.none(), text),
    rule=st.one_of(st.none(), st.lists(text, min_size=1, max_size=3)),
    index=st.integers(0, 2**40),
)
def test_the_spliced_body_is_the_canonical_body_with_its_index(
    details: dict[str, Any],
    org: str | None,
    user: str | None,
    purpose: str | None,
    basis: str | None,
    persons: list[str],
    parties: list[str],
    role: str | None,
    rule: list[str] | None,
    index: int,
) -> None:
    event = LogEvent(
        event_type=EventType.QUERY,
        outcome="hit",
        org_id=org,
        user_id=user,
        purpose=purpose,
        legal_basis=basis,
        role=role,
        rule=tuple(rule) if rule else None,
        acting_for=user,
        basis_ref=purpose,
        persons=tuple(persons),
        parties=tuple(parties),
        details=details,
    )
    body, record = queued(event)
    assert with_index(body, record, index) == canonical_json({**record, "index": index})


def test_a_body_of_another_shape_is_encoded_afresh() -> None:
    record = {"event": "query", "index": 3}
    body = canonical_json(record).decode()
    assert with_index(body, record, 7) == canonical_json({"event": "query", "index": 7})
