"""Example webhook receiver: verify the broker's signature, append the event to a file.

Standard library only, so it shows the whole contract in a few lines; an organisation
would put the same three steps into its own system: verify with ``verify_webhook``, drop
anything that fails (401), deduplicate on ``webhook-id`` (the broker delivers at least
once), then hand the event on. Here, "hand on" is one JSON line in ``--out``::

    WEBHOOK_SECRET=whsec_... python -m connectors.webhook_receiver --out events.jsonl

The secret is read from the environment, never from the command line (``ps`` shows that).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from connectors.errors import WebhookVerificationError
from connectors.webhooks import DEFAULT_TOLERANCE, verify_webhook

MAX_BODY = 1024 * 1024


class EventLog:
    """Verified events, one JSON line each, written once per ``webhook-id``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                self._seen.add(json.loads(line)["webhook_id"])

    def append(self, webhook_id: str, timestamp: str, event: Any) -> bool:
        """Write the event unless it was written before; return whether it was new."""
        with self._lock:
            if webhook_id in self._seen:
                return False
            record = {"webhook_id": webhook_id, "timestamp": int(timestamp), "event": event}
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
            self._seen.add(webhook_id)
            return True


def make_handler(
    secret: str, events: EventLog, *, tolerance: int = DEFAULT_TOLERANCE
) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one secret and one event log."""

    class WebhookHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                event = verify_webhook(secret, headers, body, tolerance=tolerance)
            except WebhookVerificationError:
                self._answer(HTTPStatus.UNAUTHORIZED)
                return
            events.append(headers["webhook-id"], headers["webhook-timestamp"], event)
            # A duplicate is acknowledged too, or the broker would keep sending it.
            self._answer(HTTPStatus.NO_CONTENT)

        def _answer(self, status: HTTPStatus) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            # Quiet by default: the access line adds nothing the event file lacks.
            pass

    return WebhookHandler


def make_server(
    secret: str, out: Path, *, host: str = "127.0.0.1", port: int = 0
) -> ThreadingHTTPServer:
    """A receiver bound to ``host:port`` (port 0: any free port)."""
    return ThreadingHTTPServer((host, port), make_handler(secret, EventLog(out)))


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description="Example receiver of broker webhooks.")
    parser.add_argument("--out", type=Path, default=Path("webhook-events.jsonl"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret-env", default="WEBHOOK_SECRET", help="variable with whsec_...")
    args = parser.parse_args(argv)
    secret = os.environ.get(args.secret_env)
    if not secret:
        parser.error(f"set {args.secret_env} to the endpoint's whsec_ secret")
    server = make_server(secret, args.out, host=args.host, port=args.port)
    print(f"listening on http://{args.host}:{server.server_port}/, writing {args.out}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
