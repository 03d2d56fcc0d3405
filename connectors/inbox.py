"""Outbound, by polling: match notifications and release requests as JSON lines.

Each notification is written out, then marked read at the broker, so a crash in between
writes it again on the next poll (at least once): consumers deduplicate on ``id``. Release
requests stay pending until someone decides on them; each is written once per process.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from connectors.sdk import BrokerClient


class InboxPoller:
    """Polls one organisation's inbox and pending release requests."""

    def __init__(self, client: BrokerClient, *, out: TextIO | None = None) -> None:
        self._client = client
        self._out = out or sys.stdout
        self._requests_seen: set[str] = set()

    def poll_once(self) -> int:
        """Write out what is new; return how many lines were written."""
        written = 0
        # The broker lists newest first; a system downstream wants them in order.
        for item in reversed(self._client.inbox(unread=True, limit=500)):
            self._write({"type": "notification", **item})
            self._client.mark_read(item["id"])
            written += 1
        for request in self._client.release_requests():
            if request["item_id"] not in self._requests_seen:
                self._requests_seen.add(request["item_id"])
                self._write({"type": "release_request", **request})
                written += 1
        self._out.flush()
        return written

    def run(self, *, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """Poll forever, ``interval`` seconds apart."""
        while True:
            self.poll_once()
            sleep(interval)

    def _write(self, record: dict[str, Any]) -> None:
        self._out.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
