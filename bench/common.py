"""Shared helpers for the benchmarks: a fresh PostgreSQL database and an initialised broker."""

from __future__ import annotations

import os
import platform
import shutil
import struct
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
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
    """Settings for an initialised broker in a temporary data directory.

    Like the fresh database, the benchmark's Redis database starts empty: no rate-limit or
    fishing counters and no used token ids left from an earlier run.
    """
    if redis:
        import redis as redis_client

        redis_client.Redis.from_url(REDIS_URL, socket_timeout=2).flushdb()
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


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` ("unknown cpu" elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown cpu"


def machine() -> str:
    """A one-line description of the machine and commit."""
    return (
        f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
        f"commit {commit_info()}"
    )


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


# --- helpers added for the suite runner and the benchmarks ----------------------------------

ROOT = Path(__file__).resolve().parents[1]


def loadavg() -> tuple[float, float, float]:
    """The 1-, 5- and 15-minute load averages from ``/proc/loadavg`` (zeros elsewhere)."""
    try:
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
        return float(one), float(five), float(fifteen)
    except (OSError, ValueError):
        return 0.0, 0.0, 0.0


def _command_output(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip()


def commit_info() -> str:
    """The short commit of the working copy, with ``+ uncommitted changes`` when dirty."""
    commit = _command_output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _command_output(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"]
    )
    return (commit or "unknown") + (" + uncommitted changes" if dirty else "")


def machine_info() -> dict[str, str]:
    """What a reader needs to judge the figures: CPU, memory, disk, versions, commit."""
    info: dict[str, str] = {}
    info["CPU"] = f"{os.cpu_count()} cores, {cpu_model()}"
    try:
        meminfo = dict(
            line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines()
        )
        total = int(meminfo["MemTotal"].split()[0]) / 1024**2
        available = int(meminfo["MemAvailable"].split()[0]) / 1024**2
        info["memory"] = f"{total:.1f} GiB ({available:.1f} GiB available at the start)"
    except (OSError, KeyError, ValueError):
        pass
    usage = shutil.disk_usage(ROOT)
    info["disk"] = f"{usage.free / 1024**3:.0f} GiB free of {usage.total / 1024**3:.0f} GiB"
    info["OS"] = f"{platform.system()} {platform.release()}"
    info["Python"] = f"{platform.python_implementation()} {platform.python_version()}"
    try:
        engine = create_engine(ADMIN_URL)
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            settings = {
                name: conn.execute(text(f"SHOW {name}")).scalar_one()
                for name in ("shared_buffers", "synchronous_commit", "max_wal_size")
            }
        engine.dispose()
        info["PostgreSQL"] = f"{version} ({', '.join(f'{k}={v}' for k, v in settings.items())})"
    except Exception as exc:  # a description, never a failure
        info["PostgreSQL"] = f"unavailable ({type(exc).__name__})"
    try:
        import redis

        server = redis.Redis.from_url(REDIS_URL, socket_timeout=2).info("server")
        info["Redis"] = str(server.get("redis_version", "unknown"))
    except Exception as exc:
        info["Redis"] = f"unavailable ({type(exc).__name__})"
    info["commit"] = commit_info()
    return info


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def database_bytes(url: str) -> int:
    """``pg_database_size`` of the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
    finally:
        engine.dispose()


def gib(size: float) -> str:
    """A byte count in GiB (MiB below 1 GiB)."""
    return f"{size / 1024**3:.2f} GiB" if size >= 1024**3 else f"{size / 1024**2:.0f} MiB"


_SECONDARY_INDEXES = """
SELECT i.relname, pg_get_indexdef(i.oid)
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
WHERE t.relname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = x.indexrelid)
ORDER BY i.relname
"""


@contextmanager
def bulk_load(
    conn: psycopg.Connection[Any], tables: list[str], *, maintenance_work_mem: str = "512MB"
) -> Iterator[list[str]]:
    """Drop the secondary indexes of ``tables`` for a bulk load, and rebuild them after it.

    ``conn`` is a psycopg connection. Constraint indexes (primary keys, unique constraints)
    stay; every other index is dropped and created again from its own definition, so the
    schema afterwards is the one the migrations made. Triggers (the foreign-key checks) are
    disabled during the load, as ``pg_restore`` does: the loader guarantees the references.
    Yields the names of the dropped indexes.
    """
    with conn.cursor() as cur:
        cur.execute(_SECONDARY_INDEXES, (tables,))
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        for table in tables:
            cur.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER ALL')
    conn.commit()
    try:
        yield [name for name, _ in indexes]
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
            for table in tables:
                cur.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER ALL')
            for _, definition in indexes:
                cur.execute(definition)
        conn.commit()


def copy_header() -> bytes:
    """The header of a PostgreSQL binary COPY stream."""
    return b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)


COPY_TRAILER = struct.pack("!h", -1)
PG_EPOCH_MICROS = 946_684_800_000_000  # 2000-01-01 in microseconds since the Unix epoch
