"""Policy changes reach every broker process through Redis pub/sub (real Redis, db 15)."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import casbin
import pytest
import redis

from broker.errors import ServiceUnavailable
from broker.policy import (
    POLICY_CHANNEL,
    AccessRequest,
    Action,
    OrgType,
    PolicyEngine,
    RedisWatcher,
    Role,
)
from policies import POLICY_DIR

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/15"
NEW_RULE = "p, probation, professional, home_visit_risk_check, query, *\n"
PROBATION_VISIT = AccessRequest(
    OrgType.PROBATION,
    role=Role.PROFESSIONAL,
    purpose="home_visit_risk_check",
    action=Action.QUERY,
)


def _eventually(check: Callable[[], bool], *, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


@pytest.fixture
def channel() -> str:
    # Pub/sub ignores the database number: a private channel keeps parallel runs apart.
    return f"{POLICY_CHANNEL}:test:{uuid.uuid4().hex}"


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    for name in ("model.conf", "policy.csv", "purposes.toml", "categories.toml"):
        shutil.copy(POLICY_DIR / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def watchers(channel: str) -> Iterator[list[RedisWatcher]]:
    made = [RedisWatcher.from_url(REDIS_URL, channel=channel) for _ in range(2)]
    yield made
    for watcher in made:
        watcher.close()


def test_update_on_one_process_reloads_the_other(
    policy_dir: Path, watchers: list[RedisWatcher]
) -> None:
    first = PolicyEngine.from_dir(policy_dir, watcher=watchers[0], check_interval=None)
    second = PolicyEngine.from_dir(policy_dir, watcher=watchers[1], check_interval=None)
    assert not second.decide(PROBATION_VISIT).allowed
    with (policy_dir / "policy.csv").open("a") as handle:
        handle.write(NEW_RULE)
    watchers[0].update()
    assert _eventually(lambda: second.decide(PROBATION_VISIT).allowed)
    # The publisher skips its own message: whoever publishes has already reloaded.
    assert not first.decide(PROBATION_VISIT).allowed


def test_own_messages_are_skipped_and_close_stops_listening(
    channel: str, watchers: list[RedisWatcher]
) -> None:
    received: list[list[str]] = [[], []]
    for index, watcher in enumerate(watchers):
        watcher.set_update_callback(received[index].append)
    watchers[0].update()
    assert _eventually(lambda: len(received[1]) == 1)
    assert received[0] == []
    watchers[1].close()
    assert not watchers[1].is_listening
    # A fresh witness proves the next message went out; the closed watcher must miss it.
    witness = RedisWatcher.from_url(REDIS_URL, channel=channel)
    seen = threading.Event()
    witness.set_update_callback(lambda message: seen.set())
    try:
        watchers[0].update()
        assert seen.wait(5.0)
    finally:
        witness.close()
    assert len(received[1]) == 1


def test_lost_connection_resubscribes_and_resyncs(channel: str) -> None:
    name = f"policy-watcher-test-{uuid.uuid4().hex[:8]}"
    watcher = RedisWatcher(
        redis.Redis.from_url(REDIS_URL, client_name=name), channel=channel, owns_client=True
    )
    received: list[str] = []
    watcher.set_update_callback(received.append)
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        # Kill only this test's own connection, never anyone else's.
        for client in admin.client_list():
            if client.get("name") == name:
                admin.client_kill_filter(_id=client["id"])
        assert _eventually(lambda: any("resubscribed" in m for m in received))
        admin.publish(channel, '{"event": "policy-changed", "origin": "elsewhere"}')
        assert _eventually(lambda: any("elsewhere" in m for m in received))
    finally:
        watcher.close()
        admin.close()


def test_plain_casbin_enforcer_can_use_the_watcher(
    policy_dir: Path, watchers: list[RedisWatcher]
) -> None:
    arrived = threading.Event()
    watchers[1].set_update_callback(lambda message: arrived.set())
    enforcer = casbin.Enforcer(str(policy_dir / "model.conf"), str(policy_dir / "policy.csv"))
    enforcer.set_watcher(watchers[0])
    enforcer.add_policy(*NEW_RULE.strip().split(", ")[1:])
    assert arrived.wait(5.0)


def test_unreachable_redis_is_a_service_error() -> None:
    with pytest.raises(ServiceUnavailable):
        RedisWatcher.from_url("redis://127.0.0.1:1/15")
