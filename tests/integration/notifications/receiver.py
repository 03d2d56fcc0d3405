"""A webhook receiver as an organisation would run one: it verifies every signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Delivery:
    """One POST as the receiver saw it."""

    org: str
    msg_id: str
    timestamp: int
    body: bytes
    valid: bool
    status: int

    @property
    def accepted(self) -> bool:
        return self.valid and 200 <= self.status < 300


class Receiver:
    """A webhook endpoint that checks signatures the way an organisation's receiver would."""

    def __init__(self) -> None:
        self.secrets: dict[str, bytes] = {}
        self.status = 200
        self.delay = 0.0
        self.received: list[Delivery] = []
        self.port = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, org: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{org}"

    @property
    def accepted(self) -> list[Delivery]:
        return [d for d in self.received if d.accepted]

    def learn_secret(self, org: str, shown: str) -> None:
        assert shown.startswith("whsec_")
        self.secrets[org] = base64.b64decode(shown.removeprefix("whsec_"))

    def verify(self, org: str, msg_id: str, timestamp: str, signatures: str, body: bytes) -> bool:
        secret = self.secrets.get(org)
        if secret is None:
            return False
        signed = f"{msg_id}.{timestamp}.".encode() + body
        expected = base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
        # The header may carry several space-separated signatures during a secret rotation.
        return any(
            version == "v1" and hmac.compare_digest(sig, expected)
            for version, _, sig in (part.partition(",") for part in signatures.split())
        )

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                org = self.path.rsplit("/", 1)[-1]
                msg_id = self.headers.get("webhook-id", "")
                timestamp = self.headers.get("webhook-timestamp", "")
                valid = receiver.verify(
                    org, msg_id, timestamp, self.headers.get("webhook-signature", ""), body
                )
                status = receiver.status if valid else 401
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.received.append(
                        Delivery(org, msg_id, int(timestamp or 0), body, valid, status)
                    )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the socket: from now on connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
