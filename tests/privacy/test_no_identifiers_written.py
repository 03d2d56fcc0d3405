"""After the suite: no BSN or normalised name of the test people is anywhere it wrote.

Runs as its own pytest invocation after the other tiers (see ``make test``). It scans the
SQLite databases, keystores, log files and every other file under ``test-artifacts/``, and
every table of the PostgreSQL databases the integration tier used, which it then drops.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import ARTIFACTS
from tests.identities import BSNS, NORMALISED_NAME_FRAGMENTS, eleven_check


def sample_bsns() -> list[str]:
    """The fictional BSNs in the connectors' sample exports (those that pass the 11-proef)."""
    samples = Path(__file__).resolve().parents[2] / "connectors" / "samples"
    found = {
        m
        for path in samples.glob("*")
        for m in re.findall(r"(?<!\d)\d{9}(?!\d)", path.read_text("utf-8"))
    }
    return sorted(b for b in found if eleven_check(b))


NEEDLES = [bsn.encode() for bsn in [*BSNS, *sample_bsns()]] + [
    f.encode() for f in NORMALISED_NAME_FRAGMENTS
]


def find_needles(blob: bytes) -> list[str]:
    """Which identifiers occur in ``blob`` (case-insensitive for names)."""
    lowered = blob.lower()
    return sorted({needle.decode() for needle in NEEDLES if needle in lowered})


def run_dirs() -> list[Path]:
    return sorted(p for p in ARTIFACTS.glob("*-*") if p.is_dir()) if ARTIFACTS.exists() else []


def test_sample_exports_are_scanned_for() -> None:
    assert len(sample_bsns()) >= 20


def test_scanner_detects_a_planted_identifier(tmp_path: Path) -> None:
    planted = tmp_path / "leak.log"
    planted.write_bytes(b'{"msg": "lookup ' + BSNS[3].encode() + b' done"}')
    assert find_needles(planted.read_bytes()) == [BSNS[3]]


def test_suite_left_artifacts_to_scan() -> None:
    dirs = run_dirs()
    assert any(d.name.startswith("sqlite-") for d in dirs), "the SQLite tier wrote nothing"
    assert any(d.name.startswith("postgres-") for d in dirs), "the PostgreSQL tier wrote nothing"


@pytest.mark.parametrize(
    "path",
    [p for d in run_dirs() for p in d.rglob("*") if p.is_file()],
    ids=lambda p: str(p.relative_to(ARTIFACTS)),
)
def test_no_identifier_in_file(path: Path) -> None:
    assert find_needles(path.read_bytes()) == [], f"identifier found in {path}"


def postgres_urls() -> list[str]:
    return [
        (d / "DATABASE_URL").read_text().strip()
        for d in run_dirs()
        if (d / "DATABASE_URL").exists()
    ]


@pytest.mark.parametrize("url", postgres_urls())
def test_no_identifier_in_postgres_tables(url: str) -> None:
    engine = create_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        assert "organisation" in tables
        with engine.connect() as conn:
            for table in tables:
                rows = conn.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" t')).scalars()
                leaks = find_needles("\n".join(rows).encode())
                assert leaks == [], f"identifier found in table {table}"
    finally:
        engine.dispose()
        _drop_database(url)


def _drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    if not re.fullmatch(r"broker_test_[0-9a-f]{8}", name):
        return
    admin = create_engine(url.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
