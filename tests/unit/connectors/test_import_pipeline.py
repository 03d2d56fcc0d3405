"""The importer's pipeline against a stand-in broker: order, one evaluation each, errors."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors._core import BulkRequest, ClientCore
from connectors.blinding import Blinded, b64url
from connectors.credentials import Credentials
from connectors.errors import BrokerUnavailable
from connectors.importer import Importer
from connectors.mappings import EXPORTS
from connectors.models import Person, Registered, Role, SignalDraft
from connectors.validation import RowValidator
from keys import PersonIdentifier, canonical_bytes, oprf, parse_bsn
from tests.identities import BSNS

KEY = oprf.generate_key(bytes(range(64)))
EXPECTED = {b64url(oprf.evaluate_direct(KEY, canonical_bytes(parse_bsn(b)))) for b in BSNS}


class StandIn:
    """What the importer needs of a ``BrokerClient``, evaluating with a local OPRF key."""

    def __init__(self, *, blind: bool = True, fail_on_evaluation: int | None = None) -> None:
        credentials = Credentials("politie-rr", Ed25519PrivateKey.generate())
        self.core = ClientCore("http://broker.invalid", credentials, blind=blind, max_batch=10_000)
        self.evaluations: Counter[bytes] = Counter()
        self.calls = 0
        self.registered: list[list[SignalDraft]] = []
        self._fail_on = fail_on_evaluation
        self._lock = threading.Lock()

    def evaluate(self, blinded: Blinded) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            if self.calls == self._fail_on:
                raise BrokerUnavailable("POST /v1/pseudonyms/evaluate: ConnectError")
            self.evaluations.update(blinded.inputs)
        return {"evaluated": [b64url(oprf.evaluate(KEY, b.element)) for b in blinded.blinds]}

    def complete(self, blinded: Blinded, answer: Any) -> None:
        self.core.cache.complete(blinded, answer["evaluated"])

    def idempotency_key(self, items: list[SignalDraft], *, scope: str = "") -> str:
        return self.core.idempotency_key(items, scope=scope)

    def pseudonymise(self, identifiers: Iterable[PersonIdentifier]) -> None:
        assert not self.core.blind or not self.core.cache.unknown(identifiers)

    def send_bulk(self, requests: list[BulkRequest]) -> Registered:
        items = [item for r in requests for item in json.loads(r.content)["items"]]
        # Every person is pseudonymised, to the output the broker itself would compute.
        for item in items:
            for entry in item["persons"]:
                if self.core.blind:
                    assert entry["person"]["oprf_output"] in EXPECTED
                else:
                    assert entry["person"]["bsn"] in BSNS
        self.registered.append(items)
        return Registered(created=len(items), ids=tuple(map(str, range(len(items)))), matches=0)


def police_file(tmp_path: Path, families: int = 12, rows: int = 60) -> Path:
    """Rows that return to earlier families, with every seventh row invalid."""
    day = (date.today() - timedelta(days=3)).isoformat()
    lines = ["soort,datum,slachtoffer_bsn,verdachte_bsn,kinderen_bsn,risico"]
    for n in range(rows):
        victim, suspect = BSNS[n % families], BSNS[families + n % families]
        child = BSNS[2 * families + n % 5]
        risk = "onbekend" if n % 7 == 3 else "hoog"  # not a risk level: skipped locally
        lines.append(f"incident,{day},{victim},{suspect},{child},{risk}")
    path = tmp_path / "police.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def importer(client: StandIn, messages: list[str], batch_size: int = 4) -> Importer:
    export = EXPORTS["police"]
    validator = RowValidator.from_policy_dir(org_type=export.org_type)
    return Importer(
        client,  # type: ignore[arg-type]
        export,
        validator,
        batch_size=batch_size,
        report=messages.append,
        progress=False,
    )


def test_batches_go_in_file_order_and_each_person_is_evaluated_once(tmp_path: Path) -> None:
    client, messages = StandIn(), []
    report = importer(client, messages).import_file(police_file(tmp_path))

    invalid = [n for n in range(60) if n % 7 == 3]
    assert (report.rows, report.invalid, report.accepted) == (60, len(invalid), 60 - len(invalid))
    assert report.batches == len(client.registered) == -(-(60 - len(invalid)) // 4)
    assert [len(batch) for batch in client.registered[:-1]] == [4] * (report.batches - 1)
    sent = [item for batch in client.registered for item in batch]
    assert len(sent) == report.accepted
    assert all(item["payload"]["risk_level"] == "high" for item in sent)
    # Families come back in later batches, often while the earlier one is still in flight:
    # each person is still evaluated once.
    assert len(client.evaluations) == 12 + 12 + 5
    assert set(client.evaluations.values()) == {1}
    skipped = [int(m.split(":")[1]) for m in messages]
    assert skipped == [n + 2 for n in invalid]  # line numbers, header on line 1


def test_a_failed_evaluation_stops_the_import(tmp_path: Path) -> None:
    client, messages = StandIn(fail_on_evaluation=3), []
    with pytest.raises(BrokerUnavailable):
        importer(client, messages).import_file(police_file(tmp_path))
    # The third batch's evaluation failed: the two before it stay registered, nothing after.
    assert len(client.registered) == 2


def test_the_plain_path_evaluates_nothing(tmp_path: Path) -> None:
    client, messages = StandIn(blind=False), []
    report = importer(client, messages, batch_size=10).import_file(police_file(tmp_path))
    assert report.accepted == 60 - len([n for n in range(60) if n % 7 == 3])
    assert client.calls == 0


def test_a_file_of_invalid_rows_sends_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("soort,datum,slachtoffer_bsn\nincident,gisteren,123\n", encoding="utf-8")
    client, messages = StandIn(), []
    report = importer(client, messages).import_file(path)
    assert (report.rows, report.invalid, report.accepted, report.batches) == (1, 1, 0, 0)
    assert client.registered == [] and client.calls == 0


def test_bulk_requests_are_the_chunks_register_signals_sends() -> None:
    credentials = Credentials("politie-rr", Ed25519PrivateKey.generate())
    core = ClientCore("http://broker.invalid", credentials, blind=False, max_batch=3)
    drafts = [
        SignalDraft(category="police_dv_incident", persons=(Person(parse_bsn(b), Role.VICTIM),))
        for b in BSNS[:7]
    ]
    requests = core.bulk_requests(drafts, "bc1-key")
    assert [(r.offset, r.key) for r in requests] == [
        (0, "bc1-key.0"),
        (3, "bc1-key.1"),
        (6, "bc1-key.2"),
    ]
    sent = [item for r in requests for item in json.loads(r.content)["items"]]
    assert sent == [core.signal_body(d) for d in drafts]
    assert "content" not in repr(requests[0])  # a body is never printed with the request
