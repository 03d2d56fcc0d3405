"""Shared helpers for the benchmarks: a fresh PostgreSQL database and an initialised broker."""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from broker.bootstrap import initialise
from broker.settings import Settings

ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """Create a throw-away PostgreSQL database and drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def broker_settings(database_url: str, *, redis: bool = True) -> Iterator[Settings]:
    """Settings for an initialised broker in a temporary data directory."""
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as data_dir:
        settings = Settings(
            env="test",
            data_dir=Path(data_dir),
            database_url=database_url,
            redis_url=REDIS_URL if redis else None,
            log_level="WARNING",
        )
        initialise(settings)
        yield settings


def machine() -> str:
    """A one-line description of the machine and commit."""
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        or "unknown"
    )
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, commit {commit}"


def target(
    issue: int, name: str, measured: str, met: bool | None, *, target_text: str = ""
) -> None:
    """Print one target's figure as a ``TARGET`` line that ``run_all.py`` collects.

    ``name`` is the target as the issue words it, ``measured`` the figure with its unit,
    ``met`` True, False or None (not measured, with the reason in ``measured``).
    """
    import json

    line = {"issue": issue, "target": name, "measured": measured, "met": met}
    if target_text:
        line["detail"] = target_text
    print("TARGET " + json.dumps(line, ensure_ascii=False), flush=True)
