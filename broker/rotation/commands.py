"""``broker keys rotate | status | retire-old``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session

from broker.container import Container, build_container
from broker.rotation.inventory import UNREADABLE, take_inventory
from broker.rotation.service import SETTLE, Progress, rekey_all, rotate_keys
from broker.settings import Settings


def run_keys_command(
    action: str, settings: Settings, *, batch_size: int, settle: timedelta = SETTLE
) -> int:
    """Run one keys command; exit code 1 when an old version still holds data."""
    if batch_size < 1:
        print("broker keys: --batch-size must be at least 1", file=sys.stderr)
        return 2
    container = build_container(settings)
    try:
        if action == "status":
            print_status(container)
            return 0
        if action == "rotate":
            version = rotate_keys(container)
            print(f"rotated: version {version} is active; re-keying stored data")
        report = rekey_all(
            container,
            batch_size=batch_size,
            progress=_progress_printer(),
            settle=settle,
            wait=_announced_wait(container),
        )
        print(f"re-keyed {report.rows} rows in {report.batches} batches")
        for version in report.retired:
            print(f"retired version {version} (its log public key stays for verification)")
        for version, left in sorted(report.kept.items()):
            print(
                f"kept version {version}: {left} rows or ciphertexts still use it "
                "(see `broker keys status`)",
                file=sys.stderr,
            )
        return 1 if report.kept else 0
    finally:
        container.close()


def print_status(container: Container) -> None:
    """Print every key version with what is still stored under it."""
    keystore = container.keystore
    with Session(container.engine) as session:
        inventory = take_inventory(session)
    print(f"active version: {keystore.active_version}")
    for info in keystore.all_versions:
        persons = inventory.persons.get(info.version, 0)
        fields = inventory.ciphertexts.get(info.version, {})
        detail = ", ".join(f"{where} {count}" for where, count in sorted(fields.items()))
        print(
            f"  v{info.version} {info.state.value:<8} created {info.created_at:%Y-%m-%d %H:%M} "
            f"persons {persons}, ciphertexts {sum(fields.values())}"
            + (f" ({detail})" if detail else "")
        )
    unknown = set(inventory.versions) - {info.version for info in keystore.all_versions}
    for version in sorted(unknown):
        label = "unreadable headers" if version == UNREADABLE else f"unknown version {version}"
        print(f"  {label}: {inventory.left(version)} rows or ciphertexts", file=sys.stderr)


def _progress_printer() -> Callable[[Progress], None]:
    start = time.monotonic()

    def show(step: Progress) -> None:
        elapsed = time.monotonic() - start
        rate = step.total / elapsed if elapsed > 0 else 0.0
        print(
            f"batch {step.batch}: {step.rows} rows, {step.total} in total, "
            f"{elapsed:.1f} s, {rate:,.0f} rows/s",
            flush=True,
        )

    return show


def _announced_wait(container: Container) -> Callable[[float], None]:
    def wait(seconds: float) -> None:
        version = container.keystore.active_version
        print(
            f"waiting {seconds:.0f} s for every broker process to load version {version}",
            flush=True,
        )
        time.sleep(seconds)

    return wait
