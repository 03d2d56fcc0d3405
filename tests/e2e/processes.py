"""Start real broker processes for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
    return serve({**broker_env(settings), **(extra_env or {})}, port, log=log)


def embedded_env(data_dir: Path) -> dict[str, str]:
    """The environment of a broker on its embedded default: SQLite in ``data_dir``, no Redis."""
    env = {
        **os.environ,
        "BROKER_DATA_DIR": str(data_dir),
        "BROKER_ENV": "test",
        "BROKER_LOG_LEVEL": "WARNING",
    }
    env.pop("BROKER_DATABASE_URL", None)
    env.pop("BROKER_REDIS_URL", None)
    return env


@contextmanager
def embedded_broker(data_dir: Path, *, log_name: str = "serve.log") -> Iterator[str]:
    """``broker init`` then ``broker serve`` on the embedded default; yields the base URL.

    The process's output goes to ``data_dir / log_name``, where the privacy scan reads it.
    """
    env = embedded_env(data_dir)
    subprocess.run(
        [sys.executable, "-m", "broker", "init"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    proc = serve(env, port, log=data_dir / log_name)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def serve(
    env: dict[str, str], port: int, *, log: Path | None = None, timeout: float = 40.0
) -> subprocess.Popen[bytes]:
    """``python -m broker serve`` on loopback ``port`` with ``env``; returns once healthy."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    if log:
        out.close()  # the child has its own descriptor
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"broker exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError("broker did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
