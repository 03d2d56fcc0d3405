"""Importing one export file: map, validate, pseudonymise and register in batches.

Invalid rows are reported with their line number and skipped; the rest go to the broker
in bulk requests whose idempotency keys derive from their content, so importing the same
file again registers nothing new. A batch the broker refuses because of some rows (422
naming them) is sent again without those rows. While the broker registers one batch, the
next one is blinded and evaluated in a helper thread: the two halves of the work overlap.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from connectors.errors import IdempotencyConflict, RowInvalid, RowsRejected
from connectors.mappings import Export
from connectors.models import SignalDraft
from connectors.progress import Progress
from connectors.sdk import BrokerClient
from connectors.validation import RowValidator

DEFAULT_BATCH = 2_000
PROGRESS_FROM_ROWS = 5_000
Line = tuple[int, SignalDraft]
Reporter = Callable[[str], None]


def to_stderr(message: str) -> None:
    """Report one message on stderr."""
    print(message, file=sys.stderr, flush=True)


@dataclass
class ImportReport:
    """What became of one file's rows."""

    file: str
    rows: int = 0
    accepted: int = 0
    invalid: int = 0
    rejected: int = 0
    matches: int = 0
    batches: int = 0
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        """Rows not registered: invalid here, or refused by the broker."""
        return self.invalid + self.rejected

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (no identifiers in it)."""
        return {**asdict(self), "skipped": self.skipped, "seconds": round(self.seconds, 3)}


class Importer:
    """Imports export files of one type for one organisation."""

    def __init__(
        self,
        client: BrokerClient,
        export: Export,
        validator: RowValidator,
        *,
        batch_size: int = DEFAULT_BATCH,
        report: Reporter = to_stderr,
        progress: bool | None = None,
    ) -> None:
        self._client = client
        self._export = export
        self._validator = validator
        self._batch_size = min(batch_size, client.core.max_batch)
        self._report = report
        self._progress = progress

    def import_file(self, path: Path) -> ImportReport:
        """Import one file; file-level problems raise ``ConnectorError``."""
        started = time.perf_counter()
        report = ImportReport(file=path.name)
        valid = self._valid_rows(path, report)
        batches = [valid[i : i + self._batch_size] for i in range(0, len(valid), self._batch_size)]
        bar = self._bar(path, len(valid))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="blind") as helper:
            upcoming = self._prepare(helper, batches, 0)
            for number, batch in enumerate(batches):
                if upcoming is not None:
                    upcoming.result()
                upcoming = self._prepare(helper, batches, number + 1)
                self._send(path, batch, report)
                if bar is not None:
                    bar.advance(len(batch))
        if bar is not None:
            bar.finish()
        report.batches = len(batches)
        report.seconds = time.perf_counter() - started
        return report

    def _valid_rows(self, path: Path, report: ImportReport) -> list[Line]:
        valid: list[Line] = []
        for row in self._export.read(path):
            report.rows += 1
            try:
                valid.append((row.line, self._validator.check(self._export.map_row(row.fields))))
            except RowInvalid as exc:
                report.invalid += 1
                self._skip(path, row.line, "; ".join(exc.reasons))
        return valid

    def _prepare(
        self, helper: ThreadPoolExecutor, batches: Sequence[list[Line]], number: int
    ) -> Future[None] | None:
        if number >= len(batches):
            return None
        identifiers = [p.identifier for _, draft in batches[number] for p in draft.persons]
        return helper.submit(self._client.pseudonymise, identifiers)

    def _send(self, path: Path, batch: list[Line], report: ImportReport) -> None:
        pending = batch
        while pending:
            drafts = [draft for _, draft in pending]
            lines = ",".join(str(line) for line, _ in pending)
            key = self._client.idempotency_key(drafts, scope=f"{self._export.name}:{lines}")
            try:
                result = self._client.register_signals(drafts, idempotency_key=key)
            except RowsRejected as exc:
                refused = {e.row: e.detail for e in exc.rows if 0 <= e.row < len(pending)}
                if not refused:
                    raise
                for row, detail in sorted(refused.items()):
                    self._skip(path, pending[row][0], f"refused by the broker: {detail}")
                report.rejected += len(refused)
                pending = [line for i, line in enumerate(pending) if i not in refused]
                continue
            except IdempotencyConflict:
                # Same rows, other body: imported before under an earlier OPRF key version.
                self._report(
                    f"{path.name}:{pending[0][0]}-{pending[-1][0]}: already imported "
                    "(the broker's pseudonym key changed since); not registered again"
                )
                report.accepted += len(pending)
                return
            report.accepted += result.created
            report.matches += result.matches
            return

    def _skip(self, path: Path, line: int, reason: str) -> None:
        self._report(f"{path.name}:{line}: skipped: {reason}")

    def _bar(self, path: Path, total: int) -> Progress | None:
        show = self._progress if self._progress is not None else total >= PROGRESS_FROM_ROWS
        return Progress(total, label=path.name) if show else None
