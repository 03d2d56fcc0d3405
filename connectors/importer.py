"""Importing one export file: map, validate, pseudonymise and register in batches.

Invalid rows are reported with their line number and skipped; the rest go to the broker
in bulk requests whose idempotency keys derive from their content, so importing the same
file again registers nothing new. A batch the broker refuses because of some rows (422
naming them) is sent again without those rows.

The work is a pipeline of four stages, each in its own thread and each taking the batches
in file order: map, validate and blind (client CPU), evaluate (the broker), unblind and
finalise (client CPU), register (the broker, from the calling thread). While the broker
registers one batch, the next ones are mapped, blinded, evaluated and unblinded, so the
client's and the broker's CPU work overlap instead of taking turns. A person first seen
in a batch still in flight is not evaluated again for a later one.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from connectors._core import BulkRequest
from connectors.blinding import Blinded, blind_all
from connectors.errors import IdempotencyConflict, RowInvalid, RowsRejected
from connectors.mappings import Export
from connectors.mappings.base import SourceRow
from connectors.models import SignalDraft
from connectors.progress import Progress
from connectors.sdk import BrokerClient
from connectors.validation import RowValidator

DEFAULT_BATCH = 2_000
PROGRESS_FROM_ROWS = 5_000
# Batches prepared ahead of the one being registered: enough to keep both sides busy.
LOOKAHEAD = 3
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
        # Read every record first: a file-level problem raises before anything is sent.
        rows = list(self._export.read(path))
        report.rows = len(rows)
        bar = self._bar(path, len(rows))
        batches = self._batches(path, rows, report)
        with _Pipeline(self._client, batches, partial(self._requests, path)) as pipeline:
            window = deque(pipeline.submit() for _ in range(LOOKAHEAD))
            while window:
                prepared = window.popleft().result()
                if prepared is None:
                    break
                window.append(pipeline.submit())
                if prepared.lines:
                    self._send(path, prepared.lines, report, prepared.requests)
                    report.batches += 1
                if bar is not None:
                    bar.advance(prepared.consumed)
        if bar is not None:
            bar.finish()
        report.seconds = time.perf_counter() - started
        return report

    def _batches(
        self, path: Path, rows: Sequence[SourceRow], report: ImportReport
    ) -> Iterator[tuple[list[Line], int]]:
        """Batches of ``batch_size`` valid rows, with the number of records each used up."""
        batch: list[Line] = []
        consumed = 0
        for row in rows:
            consumed += 1
            try:
                batch.append((row.line, self._validator.check(self._export.map_row(row.fields))))
            except RowInvalid as exc:
                report.invalid += 1
                self._skip(path, row.line, "; ".join(exc.reasons))
                continue
            if len(batch) == self._batch_size:
                yield batch, consumed
                batch, consumed = [], 0
        if batch or consumed:
            yield batch, consumed

    def _requests(self, path: Path, lines: list[Line]) -> list[BulkRequest]:
        """The bulk requests of these rows, with their content-derived idempotency key."""
        drafts = [draft for _, draft in lines]
        numbers = ",".join(str(line) for line, _ in lines)
        key = self._client.idempotency_key(drafts, scope=f"{self._export.name}:{numbers}")
        # A no-op once the pipeline ran; here for rows sent again after a refusal.
        self._client.pseudonymise(p.identifier for draft in drafts for p in draft.persons)
        return self._client.core.bulk_requests(drafts, key)

    def _send(
        self,
        path: Path,
        batch: list[Line],
        report: ImportReport,
        requests: list[BulkRequest] | None = None,
    ) -> None:
        pending = batch
        while pending:
            try:
                # Built ahead by the pipeline the first time; again here after a refusal.
                result = self._client.send_bulk(requests or self._requests(path, pending))
            except RowsRejected as exc:
                refused = {e.row: e.detail for e in exc.rows if 0 <= e.row < len(pending)}
                if not refused:
                    raise
                for row, detail in sorted(refused.items()):
                    self._skip(path, pending[row][0], f"refused by the broker: {detail}")
                report.rejected += len(refused)
                pending = [line for i, line in enumerate(pending) if i not in refused]
                requests = None
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


@dataclass
class _Batch:
    """One batch on its way through the pipeline."""

    lines: list[Line]
    consumed: int
    blinded: list[Blinded] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)
    requests: list[BulkRequest] = field(default_factory=list)


class _Pipeline:
    """Three single-thread stages: map and blind, evaluate, unblind; first in, first out.

    ``submit`` returns the future of the next batch (None once the file is exhausted),
    ready to register: every identifier in it has its OPRF output in the client's cache.
    An identifier is evaluated once: a later batch leaves it to the batch that scheduled
    it, which the last stage completes first.
    """

    def __init__(
        self,
        client: BrokerClient,
        batches: Iterator[tuple[list[Line], int]],
        build: Callable[[list[Line]], list[BulkRequest]],
    ) -> None:
        self._client = client
        self._batches = batches
        self._build = build
        self._scheduled: set[bytes] = set()
        self._stages = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"import-{name}")
            for name in ("blind", "evaluate", "unblind")
        ]

    def __enter__(self) -> _Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        # On an error the batches still queued are dropped, not evaluated for nothing.
        for stage in self._stages:
            stage.shutdown(wait=True, cancel_futures=exc[0] is not None)

    def submit(self) -> Future[_Batch | None]:
        blind, evaluate, unblind = self._stages
        blinded = blind.submit(self._blind)
        evaluated = evaluate.submit(self._evaluate, blinded)
        return unblind.submit(self._unblind, evaluated)

    def _blind(self) -> _Batch | None:
        item = next(self._batches, None)
        if item is None:
            return None
        batch = _Batch(*item)
        if self._client.core.blind:
            identifiers = [p.identifier for _, draft in batch.lines for p in draft.persons]
            fresh = [
                data
                for data in self._client.core.cache.unknown(identifiers)
                if data not in self._scheduled
            ]
            self._scheduled.update(fresh)
            batch.blinded = blind_all(fresh)
        return batch

    def _evaluate(self, blinded: Future[_Batch | None]) -> _Batch | None:
        batch = blinded.result()
        if batch is not None:
            batch.answers = [self._client.evaluate(chunk) for chunk in batch.blinded]
        return batch

    def _unblind(self, evaluated: Future[_Batch | None]) -> _Batch | None:
        batch = evaluated.result()
        if batch is not None:
            for chunk, answer in zip(batch.blinded, batch.answers, strict=True):
                self._client.complete(chunk, answer)
            if batch.lines:
                batch.requests = self._build(batch.lines)
        return batch
