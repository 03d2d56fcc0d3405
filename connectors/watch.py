"""A watch folder: export files dropped in are imported, then moved to done/ or failed/.

Writers should create files under a temporary name (a leading dot, or ending in ``.tmp``
or ``.part``) and rename them when complete; files changed in the last ``settle`` seconds
are left for the next poll as well. A file whose rows were partly skipped goes to done/
with a ``.report.json`` beside it; a file that could not be imported at all (unreadable,
refused by the broker) goes to failed/. While the broker is unreachable files stay where
they are and are tried again on the next poll. Dropping a file in again later is safe:
the import is idempotent.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from connectors.errors import BrokerUnavailable, ConnectorError
from connectors.importer import Importer, ImportReport, Reporter, to_stderr

PARTIAL_SUFFIXES = (".tmp", ".part", ".partial")


class WatchFolder:
    """Imports files of one export type from ``folder``."""

    def __init__(
        self,
        folder: Path,
        *,
        make_importer: Callable[[Reporter], Importer],
        suffixes: tuple[str, ...],
        settle: float = 2.0,
        report: Reporter = to_stderr,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.folder = folder
        self.done = folder / "done"
        self.failed = folder / "failed"
        self._make_importer = make_importer
        self._suffixes = suffixes
        self._settle = settle
        self._report = report
        self._clock = clock

    def poll_once(self) -> list[tuple[Path, ImportReport | None]]:
        """Import every ready file; return where each went and its report (None: failed)."""
        self.done.mkdir(parents=True, exist_ok=True)
        self.failed.mkdir(parents=True, exist_ok=True)
        return [self._import(path) for path in self._ready()]

    def run(self, *, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """Poll forever, ``interval`` seconds apart."""
        while True:
            self.poll_once()
            sleep(interval)

    def _ready(self) -> Iterator[Path]:
        for path in sorted(self.folder.iterdir()):
            name = path.name.lower()
            if not path.is_file() or name.startswith(".") or name.endswith(PARTIAL_SUFFIXES):
                continue
            if (
                name.endswith(self._suffixes)
                and self._clock() - path.stat().st_mtime >= self._settle
            ):
                yield path

    def _import(self, path: Path) -> tuple[Path, ImportReport | None]:
        messages: list[str] = []

        def report(message: str) -> None:
            messages.append(message)
            self._report(message)

        try:
            result = self._make_importer(report).import_file(path)
        except BrokerUnavailable as exc:
            self._report(f"{path.name}: broker unreachable, will try again: {exc}")
            return path, None
        except ConnectorError as exc:
            report(f"{path.name}: not imported: {exc}")
            target = _move(path, self.failed)
            _write_report(target, {"imported": False, "messages": messages})
            return target, None
        target = _move(path, self.done)
        if result.skipped:
            _write_report(target, {"imported": True, **result.as_dict(), "messages": messages})
        return target, result


def _move(path: Path, folder: Path) -> Path:
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{time.strftime('%Y%m%dT%H%M%S')}{path.suffix}"
    shutil.move(str(path), target)
    return target


def _write_report(target: Path, content: dict[str, object]) -> None:
    report = target.with_name(target.name + ".report.json")
    report.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
