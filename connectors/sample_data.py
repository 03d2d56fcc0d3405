"""The made-up sample exports, and a copy with their dates moved to today.

Every person in ``samples/`` is invented: BSNs come from the 999 99x xxx range commonly
used for test data (they pass the 11-proef), names are words like "Voorbeeld" and
"Fictief". Rows marked "(opzettelijk)" in their comment column are
invalid on purpose, so the skip path is exercised.

The dates lie in the autumn of 2026 (up to ``REFERENCE_DATE``). Registrations expire, so a
run long after would skip every row as expired; ``copy_shifted`` writes the samples with
every date moved by the same number of days, keeping families and intervals intact.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
REFERENCE_DATE = dt.date(2026, 11, 20)
SAMPLE_FILES = {
    "police": "police.csv",
    "veilig_thuis": "veilig_thuis.json",
    "zvh": "zvh.csv",
    "wijkteam": "wijkteam.csv",
    "shelter": "shelter.csv",
}
_ISO = re.compile(r"\b([0-9]{4})-([0-9]{2})-([0-9]{2})\b")
_DUTCH = re.compile(r"\b([0-9]{2})-([0-9]{2})-([0-9]{4})\b")


def copy_shifted(destination: Path, *, today: dt.date) -> dict[str, Path]:
    """Copy every sample into ``destination`` with dates moved so REFERENCE_DATE is today."""
    destination.mkdir(parents=True, exist_ok=True)
    delta = today - REFERENCE_DATE
    copies = {}
    for kind, name in SAMPLE_FILES.items():
        text = (SAMPLES_DIR / name).read_text(encoding="utf-8")
        text = _ISO.sub(lambda m: _shift(m, delta, "%Y-%m-%d", (1, 2, 3)), text)
        text = _DUTCH.sub(lambda m: _shift(m, delta, "%d-%m-%Y", (3, 2, 1)), text)
        copies[kind] = destination / name
        copies[kind].write_text(text, encoding="utf-8")
    return copies


def _shift(match: re.Match[str], delta: dt.timedelta, fmt: str, order: tuple[int, int, int]) -> str:
    year, month, day = (int(match.group(i)) for i in order)
    try:
        return (dt.date(year, month, day) + delta).strftime(fmt)
    except ValueError:
        return match.group(0)  # an impossible date stays impossible (an invalid row)
