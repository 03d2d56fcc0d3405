"""Telling every broker process that the policy changed: Redis pub/sub, or in-process.

Both watchers follow Casbin's watcher interface (``set_update_callback``, ``update``,
``close``), so either can also be handed to a plain ``casbin.Enforcer``. The published
``casbin-redis-watcher`` package cannot be used: it pins the old ``casbin`` distribution.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Final, Protocol

import redis
from redis.client import PubSub

from broker.errors import ServiceUnavailable

POLICY_CHANNEL: Final = "dv-broker:policy"

# Times 0.1 s: how long to wait for Redis to confirm the subscription.
_SUBSCRIBE_ATTEMPTS: Final = 50

logger = logging.getLogger(__name__)

# Receives the message text; Casbin's Go and Python watchers pass one string too.
UpdateCallback = Callable[[str], None]


class PolicyWatcher(Protocol):
    """Casbin-compatible watcher: publishes policy changes and calls back on others'."""

    def set_update_callback(self, callback: UpdateCallback) -> None:
        """Set the function called when another process changed the policy."""

    def update(self) -> None:
        """Tell the other processes that the policy changed."""

    def close(self) -> None:
        """Stop listening; the callback is not called any more."""


def _run_callback(callback: UpdateCallback | None, message: str) -> None:
    # A failing reload in one subscriber must not kill the listener or the publisher.
    if callback is None:
        return
    try:
        callback(message)
    except Exception:
        logger.exception("policy update callback failed; keeping the current policy")


class InProcessChannel:
    """A process-local stand-in for the Redis channel, for the embedded broker and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watchers: list[InProcessWatcher] = []

    def join(self, watcher: InProcessWatcher) -> None:
        """Start delivering published changes to this watcher."""
        with self._lock:
            self._watchers.append(watcher)

    def leave(self, watcher: InProcessWatcher) -> None:
        """Stop delivering to this watcher."""
        with self._lock:
            self._watchers = [w for w in self._watchers if w is not watcher]

    def publish(self, sender: InProcessWatcher, message: str) -> None:
        """Deliver a message synchronously to every watcher except the sender."""
        with self._lock:
            peers = [w for w in self._watchers if w is not sender]
        for peer in peers:
            peer.deliver(message)


class InProcessWatcher:
    """Watcher for engines sharing one process; a fresh channel has no peers at all."""

    def __init__(self, channel: InProcessChannel | None = None) -> None:
        self._channel = channel or InProcessChannel()
        self._callback: UpdateCallback | None = None
        self._channel.join(self)

    def set_update_callback(self, callback: UpdateCallback) -> None:
        """Set the function called when a peer changed the policy."""
        self._callback = callback

    def update(self) -> None:
        """Tell the peers on the channel that the policy changed."""
        self._channel.publish(self, json.dumps({"event": "policy-changed"}))

    def deliver(self, message: str) -> None:
        """Run the callback for a message from a peer."""
        _run_callback(self._callback, message)

    def close(self) -> None:
        """Leave the channel; the callback is not called any more."""
        self._channel.leave(self)
        self._callback = None


class RedisWatcher:
    """Watcher over Redis pub/sub; a daemon thread listens and calls back on peers' changes."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        channel: str = POLICY_CHANNEL,
        owns_client: bool = False,
        poll_seconds: float = 0.2,
    ) -> None:
        self._client = client
        self._channel = channel
        self._owns_client = owns_client
        self._poll_seconds = poll_seconds
        # Our own messages are skipped: the publishing process has already reloaded.
        self._origin = uuid.uuid4().hex
        self._callback: UpdateCallback | None = None
        self._stop = threading.Event()
        # redis-py leaves pubsub() unannotated; it returns a PubSub.
        self._pubsub: PubSub = client.pubsub()  # type: ignore[no-untyped-call]
        try:
            self._pubsub.subscribe(channel)
            self._await_subscription()
        except redis.RedisError as exc:
            self._pubsub.close()
            raise ServiceUnavailable("The policy watcher cannot reach Redis") from exc
        self._thread = threading.Thread(target=self._listen, name="policy-watcher", daemon=True)
        self._thread.start()

    @classmethod
    def from_url(cls, url: str, *, channel: str = POLICY_CHANNEL) -> RedisWatcher:
        """Connect to Redis at ``url``; the watcher closes that connection on close()."""
        # Named, so an operator can tell the watcher apart in CLIENT LIST.
        client = redis.Redis.from_url(url, client_name="dv-broker-policy-watcher")
        try:
            return cls(client, channel=channel, owns_client=True)
        except ServiceUnavailable:
            client.close()
            raise

    @property
    def is_listening(self) -> bool:
        """Whether the listener thread is still running."""
        return self._thread.is_alive()

    def set_update_callback(self, callback: UpdateCallback) -> None:
        """Set the function called when another process changed the policy."""
        self._callback = callback

    def update(self) -> None:
        """Publish that the policy changed, for every other subscribed process."""
        message = json.dumps({"event": "policy-changed", "origin": self._origin})
        try:
            self._client.publish(self._channel, message)
        except redis.RedisError as exc:
            raise ServiceUnavailable("The policy change could not be published") from exc

    def close(self) -> None:
        """Stop the listener thread and release the Redis connection."""
        self._stop.set()
        self._thread.join(timeout=self._poll_seconds + 2)
        self._callback = None
        self._pubsub.close()
        if self._owns_client:
            self._client.close()

    def _await_subscription(self) -> None:
        # Until Redis confirms, a change published by a peer would be lost for us.
        for _ in range(_SUBSCRIBE_ATTEMPTS):
            message = self._pubsub.get_message(timeout=0.1)
            if message is not None and message["type"] == "subscribe":
                return
        raise redis.TimeoutError("no subscription confirmation")

    def _listen(self) -> None:
        backoff = self._poll_seconds
        while not self._stop.is_set():
            try:
                message = self._pubsub.get_message(timeout=self._poll_seconds)
            except (redis.RedisError, OSError):
                logger.warning("policy watcher lost Redis; retrying in %.1fs", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = self._poll_seconds
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, object]) -> None:
        if message["type"] == "subscribe":
            # redis-py resubscribes after a reconnect; changes may have been missed meanwhile.
            _run_callback(self._callback, json.dumps({"event": "resubscribed"}))
            return
        data = message.get("data")
        if message["type"] != "message" or not isinstance(data, bytes | str):
            return
        text = data.decode(errors="replace") if isinstance(data, bytes) else data
        try:
            origin = json.loads(text).get("origin")
        except (ValueError, AttributeError):
            origin = None
        if origin != self._origin:
            _run_callback(self._callback, text)
