"""What every export mapping provides, and readers that keep each row's line number."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.errors import ConnectorError
from connectors.models import SignalDraft


@dataclass(frozen=True)
class SourceRow:
    """One record of an export file and the line it starts on."""

    line: int
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Export:
    """An organisation type's export format and how its rows become signals."""

    name: str
    org_type: str
    default_org: str
    suffixes: tuple[str, ...]
    read: Callable[[Path], Iterator[SourceRow]]
    map_row: Callable[[Mapping[str, Any]], SignalDraft]


def csv_reader(*required: str) -> Callable[[Path], Iterator[SourceRow]]:
    """A reader of CSV files (comma or semicolon) that needs the ``required`` columns."""

    def read(path: Path) -> Iterator[SourceRow]:
        return read_csv(path, required=required)

    return read


def read_csv(path: Path, *, required: tuple[str, ...] = ()) -> Iterator[SourceRow]:
    """Rows of a CSV export with lower-case column names; UTF-8, with or without BOM."""
    text = _read_text(path)
    header = text.split("\n", 1)[0]
    # Dutch spreadsheet exports separate with semicolons; everything else with commas.
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return
    missing = sorted(set(required) - set(columns))
    if missing:
        raise ConnectorError(f"{path.name}: missing columns: {', '.join(missing)}")
    end = reader.line_num
    for values in reader:
        start, end = end + 1, reader.line_num
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(columns):
            yield SourceRow(start, {"__shape__": f"{len(values)} values, {len(columns)} columns"})
            continue
        yield SourceRow(start, dict(zip(columns, values, strict=True)))


def read_json_array(path: Path) -> Iterator[SourceRow]:
    """Records of a JSON export (one array of objects), each with the line it starts on."""
    text = _read_text(path)
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if not text.startswith("[", pos):
        raise ConnectorError(f"{path.name}: expected a JSON array of records")
    pos, line, counted = pos + 1, 1, 0
    while True:
        pos = _skip_space(text, pos)
        if text.startswith("]", pos):
            return
        line, counted = line + text.count("\n", counted, pos), pos
        try:
            record, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ConnectorError(f"{path.name}: invalid JSON at line {exc.lineno}") from None
        yield SourceRow(
            line, record if isinstance(record, dict) else {"__shape__": "not an object"}
        )
        pos = _skip_space(text, pos)
        if text.startswith(",", pos):
            pos += 1
        elif not text.startswith("]", pos):
            raise ConnectorError(
                f"{path.name}: expected ',' or ']' after the record on line {line}"
            )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConnectorError(f"{path.name}: cannot read the file as UTF-8") from exc


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
