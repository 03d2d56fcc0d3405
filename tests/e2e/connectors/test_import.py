"""Every connector's sample export through ``broker-connect`` against a real broker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from connectors.cli import main
from connectors.importer import Importer
from connectors.mappings import EXPORTS
from connectors.models import SignalDraft
from connectors.validation import RowValidator

from .conftest import ORGS, Imported, LiveBroker

pytestmark = pytest.mark.e2e

MARKER = "(opzettelijk)"


def invalid_lines(path: Path) -> list[int]:
    """Lines of the rows marked invalid on purpose (JSON: where the record starts)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        if MARKER in line:
            if path.suffix == ".json":
                number = max(i for i in range(1, number) if lines[i - 1] == "  {")
            found.append(number)
    return found


def row_count(path: Path) -> int:
    if path.suffix == ".json":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line == "  {")
    return len(path.read_text(encoding="utf-8").splitlines()) - 1


@pytest.mark.parametrize("kind", list(ORGS))
def test_sample_imports_skipping_invalid_rows_and_rerun_adds_nothing(
    kind: str, live_broker: LiveBroker, samples: dict[str, Path], imported: dict[str, Imported]
) -> None:
    path, first = samples[kind], imported[kind]
    expected_invalid = invalid_lines(path)
    valid = row_count(path) - len(expected_invalid)

    assert len(expected_invalid) >= 2
    assert first.code == 1  # rows were skipped, the valid ones registered
    skipped = re.findall(rf"{re.escape(path.name)}:(\d+): skipped", first.err)
    assert sorted(int(n) for n in skipped) == expected_invalid
    assert not re.search(r"\b9999\d{5}\b", first.err)  # a report never echoes a BSN
    assert f'"accepted": {valid}' in first.out
    assert first.after - first.before == valid

    again = main([kind, "--file", str(path), *live_broker.cli_args()])

    assert again == 1
    assert live_broker.total_signals(ORGS[kind]) == first.after


def test_watch_folder_imports_new_files_and_moves_them(
    live_broker: LiveBroker, samples: dict[str, Path], tmp_path: Path
) -> None:
    inbox = tmp_path / "drop"
    inbox.mkdir()
    shutil.copy(samples["wijkteam"], inbox / "week47.csv")
    (inbox / "broken.csv").write_text("kolom\nwaarde\n", encoding="utf-8")
    (inbox / ".week48.csv").write_text("still being written", encoding="utf-8")
    before = live_broker.total_signals("wijkteam-delfshaven")

    watch = ["--watch", str(inbox), "--org", "wijkteam-delfshaven", "--once", "--settle", "0"]

    code = main(["wijkteam", *watch, *live_broker.cli_args()])

    assert code == 3  # one file failed as a whole
    assert (inbox / "done" / "week47.csv").exists()
    assert (inbox / "done" / "week47.csv.report.json").exists()  # rows were skipped
    assert (inbox / "failed" / "broken.csv").exists()
    assert (inbox / ".week48.csv").exists()  # unfinished files are left alone
    valid = row_count(samples["wijkteam"]) - len(invalid_lines(samples["wijkteam"]))
    assert live_broker.total_signals("wijkteam-delfshaven") == before + valid


def test_rows_the_broker_refuses_are_reported_and_the_rest_sent_again(
    live_broker: LiveBroker, tmp_path: Path
) -> None:
    # A desk the broker does not know passes local validation; only the broker refuses it.
    police = EXPORTS["police"]

    def map_row(fields: Mapping[str, Any]) -> SignalDraft:
        draft = police.map_row(fields)
        if fields.get("opmerking") == "desk":
            return dataclasses.replace(draft, desk="no-such-desk")
        return draft

    export = dataclasses.replace(police, map_row=map_row)
    path = tmp_path / "refused.csv"
    path.write_text(
        "soort,datum,slachtoffer_bsn,risico,opmerking\n"
        "incident,{d},999991012,hoog,\n"
        "incident,{d},999991024,hoog,desk\n"
        "incident,{d},999991036,midden,\n".replace("{d}", dt.date.today().isoformat()),
        encoding="utf-8",
    )
    messages: list[str] = []
    before = live_broker.total_signals("politie-rr")
    with live_broker.client("politie-rr") as client:
        validator = RowValidator.from_policy_dir(org_type="police")
        importer = Importer(client, export, validator, report=messages.append)
        report = importer.import_file(path)
        again = importer.import_file(path)

    assert (report.accepted, report.rejected) == (2, 1)
    assert messages[0].startswith("refused.csv:3: skipped: refused by the broker")
    assert (again.accepted, again.rejected) == (2, 1)
    assert live_broker.total_signals("politie-rr") == before + 2
