"""Start real broker processes for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from broker.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def broker_env(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "BROKER_DATA_DIR": str(settings.data_dir),
        "BROKER_ENV": "test",
        "BROKER_LOG_LEVEL": "WARNING",
    }
    if settings.database_url:
        env["BROKER_DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["BROKER_REDIS_URL"] = settings.redis_url
    return env


def start_broker(
    settings: Settings,
    port: int,
    *,
    log: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``python -m broker serve`` on ``port``, ready when this returns."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    env = {**broker_env(settings), **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker", "serve", "--port", str(port)],
        env=env,
        stdout=out,
        stderr=out,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"broker exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("broker did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
