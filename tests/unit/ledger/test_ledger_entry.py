"""Canonical JSON of entry bodies: one byte string per value, or a refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from broker.ledger import NotCanonical, canonical_json, entry_leaf_hash, leaf_hash


def test_sorted_keys_no_whitespace_utf8() -> None:
    body = {"z": 1, "a": [True, None, "ë"], "m": {"y": "€", "b": -3}}
    assert canonical_json(body) == '{"a":[true,null,"ë"],"m":{"b":-3,"y":"€"},"z":1}'.encode()


def test_key_order_of_the_input_does_not_matter() -> None:
    assert canonical_json({"b": 1, "a": 2}) == canonical_json({"a": 2, "b": 1})


def test_entry_leaf_hash_is_the_leaf_hash_of_the_canonical_body() -> None:
    body = {"kind": "query", "at": "2025-01-01T00:00:00Z"}
    assert entry_leaf_hash(body) == leaf_hash(canonical_json(body))


@pytest.mark.parametrize(
    "value",
    [
        {"x": float("nan")},
        {"x": float("inf")},
        {"x": 1.5},
        {"x": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)},
        {"x": b"bytes"},
        {"x": {1, 2}},
        {1: "int key"},
        {"x": 2**53},
        {"x": "\ud800"},
    ],
)
def test_values_without_one_spelling_are_refused(value: Any) -> None:
    with pytest.raises(NotCanonical):
        canonical_json(value)


def test_deep_nesting_is_refused() -> None:
    value: Any = "leaf"
    for _ in range(40):
        value = [value]
    with pytest.raises(NotCanonical):
        canonical_json(value)


def test_not_canonical_is_a_value_error_that_never_echoes_the_value() -> None:
    with pytest.raises(ValueError) as excinfo:
        canonical_json({"bsn": 123456782.0})
    assert "123456782" not in str(excinfo.value)
