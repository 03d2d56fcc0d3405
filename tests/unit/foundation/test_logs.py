"""Structured logs: JSON lines, BSN-shaped numbers masked."""

from __future__ import annotations

import json
import logging

from broker.logs import JsonFormatter, scrub
from tests.identities import MOTHER


def test_scrub_masks_nine_digit_numbers_but_not_hex_ids() -> None:
    assert MOTHER not in scrub(f"lookup {MOTHER} failed")
    assert scrub("request 3a123456789bcd") == "request 3a123456789bcd"


def test_formatter_writes_json_with_extras() -> None:
    record = logging.LogRecord("broker.test", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    record.route = "/v1/hits"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello x" and line["route"] == "/v1/hits" and line["level"] == "info"
