"""Standard Webhooks verification, and the example receiver over real HTTP."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from connectors import WebhookVerificationError, sign_webhook, verify_webhook
from connectors.webhook_receiver import make_server

pytestmark = pytest.mark.e2e

SECRET = "whsec_" + base64.b64encode(b"a-thirty-two-byte-test-secret!!!").decode()
Tamper = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]
BODY = json.dumps({"kind": "match", "match_id": "m1"}).encode()


def signed(body: bytes = BODY, *, msg_id: str = "msg_1", at: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if at is None else at
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(SECRET, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def test_a_correctly_signed_webhook_is_accepted() -> None:
    assert verify_webhook(SECRET, signed(), BODY) == {"kind": "match", "match_id": "m1"}


def test_header_names_are_case_insensitive_and_any_listed_signature_may_match() -> None:
    headers = {name.title(): value for name, value in signed().items()}
    headers["Webhook-Signature"] = "v1,bm90LXRoaXMtb25l " + headers["Webhook-Signature"]

    assert verify_webhook(SECRET, headers, BODY)["match_id"] == "m1"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b.replace(b"m1", b"m2")),  # body changed
        lambda h, b: ({**h, "webhook-id": "msg_2"}, b),  # id changed
        lambda h, b: ({**h, "webhook-signature": "v1," + "A" * 44}, b),  # forged
        lambda h, b: ({**h, "webhook-signature": h["webhook-signature"][3:]}, b),  # no scheme
        lambda h, b: ({k: v for k, v in h.items() if k != "webhook-timestamp"}, b),
    ],
)
def test_a_tampered_webhook_is_refused(tamper: Tamper) -> None:
    headers, body = tamper(signed(), BODY)

    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, headers, body)


def test_an_old_or_future_webhook_is_refused_even_when_signed() -> None:
    now = int(time.time())

    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, signed(at=now - 301), BODY)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, signed(at=now + 301), BODY)
    assert verify_webhook(SECRET, signed(at=now - 3600), BODY, tolerance=7200)


def test_another_secret_does_not_verify() -> None:
    other = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes-long!").decode()

    with pytest.raises(WebhookVerificationError):
        verify_webhook(other, signed(), BODY)


def test_the_example_receiver_writes_verified_events_once(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    server = make_server(SECRET, out)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    try:
        first = httpx.post(url, content=BODY, headers=signed(msg_id="msg_9"))
        duplicate = httpx.post(url, content=BODY, headers=signed(msg_id="msg_9"))
        forged = httpx.post(url, content=b'{"kind":"x"}', headers=signed(msg_id="msg_10"))
    finally:
        server.shutdown()
        server.server_close()

    assert (first.status_code, duplicate.status_code, forged.status_code) == (204, 204, 401)
    [line] = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["event"] == {"kind": "match", "match_id": "m1"}
