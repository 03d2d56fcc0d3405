"""``broker demo``: the broker's story told through its real HTTP API.

It starts the broker in-process on a free loopback port (or talks to ``--url``), acts as
the organisations of the example chain with their development keys, and narrates each
step. Every call is an ordinary authenticated HTTP request.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import uvicorn

from broker.app import create_app
from broker.auth.jwk import ed25519_public_jwk
from broker.auth.tokens import sign_token
from broker.clock import SystemClock
from broker.organisations.devkeys import load_development_key
from broker.settings import Settings


class Narrator:
    """Signs tokens as chain organisations and prints what happens."""

    def __init__(self, settings: Settings, client: httpx.Client) -> None:
        self.settings = settings
        self.client = client
        self.clock = SystemClock()

    def headers(self, org: str, role: str, user: str) -> dict[str, str]:
        """A fresh bearer token for one call."""
        key = load_development_key(self.settings.dev_key_dir, org)
        token = sign_token(
            key,
            kid=ed25519_public_jwk(key.public_key())["kid"],
            org_id=org,
            user=user,
            roles=[role],
            audience=self.settings.token_audience,
            now=self.clock.now(),
            lifetime=timedelta(minutes=2),
        )
        return {"Authorization": f"Bearer {token}"}

    def call(
        self, method: str, path: str, *, org: str, role: str, user: str, body: Any = None
    ) -> Any:
        """One authenticated request; fails loudly on an unexpected error."""
        response = self.client.request(
            method, path, json=body, headers=self.headers(org, role, user)
        )
        if response.status_code >= 500:
            raise RuntimeError(f"{method} {path} failed with {response.status_code}")
        return response.json()

    @staticmethod
    def say(text: str) -> None:
        """Narrate one step."""
        print(f"\n== {text}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(settings: Settings) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the broker did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def run_demo(settings: Settings, *, url: str | None = None) -> int:
    """Run every chapter of the story; return the exit code."""
    if url is not None:
        with httpx.Client(base_url=url, timeout=10) as client:
            tell_story(Narrator(settings, client))
        return 0
    # The story is told on stdout; the broker's own JSON access log would drown it.
    quiet = settings.model_copy(update={"log_level": "WARNING"})
    with _serving(quiet) as base, httpx.Client(base_url=base, timeout=10) as client:
        tell_story(Narrator(settings, client))
    return 0


def tell_story(n: Narrator) -> None:
    """The chapters, in order; each capability adds its own."""
    from broker.demo_story import CHAPTERS

    for chapter in CHAPTERS:
        chapter(n)
    n.say("Done. Everything above went through the broker's HTTP API.")
