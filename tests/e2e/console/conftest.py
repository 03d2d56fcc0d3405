"""Fixtures of the console's browser tests: a served broker and Debian's Chromium.

Playwright drives the system Chromium (``.ci/chromium`` installs it); Playwright's own
browser download is never used. Without a Chromium the tests fail, they do not skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, sync_playwright

from tests.e2e.console.server import RunningBroker, running_broker, seed

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CONSOLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def broker() -> Iterator[RunningBroker]:
    """A broker served from a fresh data directory that the privacy scan reads afterwards."""
    with running_broker(ARTIFACTS / f"e2e-console-{os.getpid()}") as served:
        seed(served)
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class Traffic:
    """What the browser did: every URL it requested or showed, console responses, messages."""

    urls: list[str] = field(default_factory=list)
    console_responses: list[Response] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        """Record the traffic of every page of ``context``."""
        context.on("request", lambda request: self.urls.append(request.url))
        context.on("response", self._response)
        context.on("page", self._page)

    def _response(self, response: Response) -> None:
        self.urls.append(response.url)
        if "/console" in response.url:
            self.console_responses.append(response)

    def _page(self, page: Page) -> None:
        page.on("framenavigated", lambda frame: self.urls.append(frame.url))
        page.on("console", lambda message: self.messages.append(message.text))


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    """The module's recorded browser traffic."""
    return Traffic()


class Shots:
    """Screenshots of the main pages: test artefacts, and optionally the docs' set."""

    def __init__(self) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def take(self, page: Page, name: str) -> None:
        """Save the whole page as ``<name>.png``."""
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)

    def publish(self) -> None:
        """Copy the set to docs/screenshots when asked (CONSOLE_SCREENSHOTS_TO_DOCS=1)."""
        if os.environ.get("CONSOLE_SCREENSHOTS_TO_DOCS") != "1":
            return
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for path in self.taken:
            shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)


@pytest.fixture(scope="module")
def shots() -> Iterator[Shots]:
    """The module's screenshots, published to docs/ at the end when asked."""
    taken = Shots()
    yield taken
    taken.publish()
