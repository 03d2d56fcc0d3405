"""PolicyEngine: reloads, refuses broken files while keeping the last good policy, watchers."""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from broker.policy import (
    AccessRequest,
    Action,
    InProcessChannel,
    InProcessWatcher,
    OrgType,
    PolicyConfigError,
    PolicyEngine,
    Role,
)
from policies import POLICY_DIR

# Not granted by the shipped policy: probation checking an address before a home visit.
NEW_RULE = "p, probation, professional, home_visit_risk_check, query, *\n"
PROBATION_VISIT = AccessRequest(
    OrgType.PROBATION,
    role=Role.PROFESSIONAL,
    purpose="home_visit_risk_check",
    action=Action.QUERY,
)


@dataclass
class FakeClock:
    """Monotonic seconds that only move when told to."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    for name in ("model.conf", "policy.csv", "purposes.toml", "categories.toml"):
        shutil.copy(POLICY_DIR / name, tmp_path / name)
    return tmp_path


def _append(policy_dir: Path, line: str) -> None:
    with (policy_dir / "policy.csv").open("a") as handle:
        handle.write(line)


def test_reload_picks_up_an_edit(policy_dir: Path) -> None:
    engine = PolicyEngine.from_dir(policy_dir, check_interval=None)
    assert not engine.decide(PROBATION_VISIT).allowed
    _append(policy_dir, NEW_RULE)
    assert not engine.decide(PROBATION_VISIT).allowed, "no reload yet, cached decision stands"
    engine.reload()
    assert engine.decide(PROBATION_VISIT).rule == tuple(NEW_RULE.strip().split(", ")[1:])


def test_reload_if_changed_notices_edits_only(policy_dir: Path) -> None:
    engine = PolicyEngine.from_dir(policy_dir, check_interval=None)
    assert engine.reload_if_changed() is False
    _append(policy_dir, NEW_RULE)
    assert engine.reload_if_changed() is True
    assert engine.decide(PROBATION_VISIT).allowed
    assert engine.reload_if_changed() is False


def test_decide_checks_files_after_the_interval(policy_dir: Path) -> None:
    clock = FakeClock()
    engine = PolicyEngine(policy_dir, check_interval=5.0, clock=clock)
    _append(policy_dir, NEW_RULE)
    clock.now += 4.9
    assert not engine.decide(PROBATION_VISIT).allowed
    clock.now += 0.2
    assert engine.decide(PROBATION_VISIT).allowed


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("p, politie, professional, acute_safety, query, *\n", "unknown organisation type"),
        ("p, police, boss, acute_safety, query, *\n", "unknown role"),
        ("p, police, professional, acute_safety, peek, *\n", "unknown action"),
        ("p, police, professional, curiosity, query, *\n", "unknown purpose"),
        ("p, police, professional, registration, register, diary\n", "unknown category"),
        ("p, police, professional, *, query, *\n", "only administer"),
        ("p, police, professional, acute_safety, query\n", "policy size"),
        ("g, coordinator, chief\n", "must be roles"),
        ("p, ggz, professional, registration, register, vt_report\n", "registrant_types"),
        ("p, police, professional, acute_safety, register, stalking\n", "only for the purpose"),
        ("p, police, professional, registration, register, *\n", "must name one category"),
        (
            "p, shelter, coordinator, case_conference, approve_release, shelter_stay\n",
            "releases no",
        ),
        ("p, ggz, coordinator, case_conference, approve_release, vt_report\n", "registrant_types"),
        (
            "p, wijkteam, professional, case_handover, request_release, shelter_stay\n",
            "releases no",
        ),
    ],
)
def test_broken_rules_are_refused_and_the_old_policy_kept(
    policy_dir: Path, line: str, message: str
) -> None:
    engine = PolicyEngine.from_dir(policy_dir, check_interval=None)
    _append(policy_dir, line)
    with pytest.raises(PolicyConfigError, match=message):
        engine.reload()
    with pytest.raises(PolicyConfigError, match=message):
        PolicyEngine.from_dir(policy_dir)
    assert not engine.decide(PROBATION_VISIT).allowed
    assert engine.decide(
        AccessRequest(OrgType.BROKER, role=Role.ADMIN, purpose="*", action=Action.ADMINISTER)
    ).allowed


def test_broken_edit_is_logged_not_raised_on_the_request_path(policy_dir: Path) -> None:
    clock = FakeClock()
    engine = PolicyEngine(policy_dir, check_interval=1.0, clock=clock)
    (policy_dir / "model.conf").write_text("[matchers]\nm = nonsense(\n")
    clock.now += 2
    assert not engine.decide(PROBATION_VISIT).allowed
    assert engine.reload_if_changed() is False, "a broken file is not retried until edited"


def test_model_must_compare_the_org_type_first(policy_dir: Path) -> None:
    # The engine indexes rules by organisation type; a matcher that does not start with that
    # comparison would make the index give wrong answers, so it is refused.
    model = policy_dir / "model.conf"
    text = model.read_text()
    first = "r.org_type == p.org_type && g(r.role, p.role)"
    assert first in text
    model.write_text(text.replace(first, "g(r.role, p.role) && r.org_type == p.org_type"))
    with pytest.raises(PolicyConfigError, match=r"must start with r\.org_type"):
        PolicyEngine.from_dir(policy_dir)


def test_catalogue_reloads_with_the_rules(policy_dir: Path) -> None:
    engine = PolicyEngine.from_dir(policy_dir, check_interval=None)
    categories = policy_dir / "categories.toml"
    categories.write_text(
        categories.read_text().replace("default_expiry_days = 90", "default_expiry_days = 60")
    )
    assert engine.reload_if_changed() is True
    assert engine.catalogue.category("restraining_order").default_expiry_days == 60


def test_missing_policy_file_is_a_config_error(policy_dir: Path) -> None:
    (policy_dir / "policy.csv").unlink()
    with pytest.raises(PolicyConfigError, match=r"policy\.csv: file not found"):
        PolicyEngine.from_dir(policy_dir)


def test_in_process_watcher_reloads_peers(policy_dir: Path) -> None:
    channel = InProcessChannel()
    first = PolicyEngine.from_dir(policy_dir, watcher=InProcessWatcher(channel))
    second = PolicyEngine.from_dir(policy_dir, watcher=InProcessWatcher(channel))
    assert not second.decide(PROBATION_VISIT).allowed
    _append(policy_dir, NEW_RULE)
    first.reload(notify_peers=True)
    assert first.decide(PROBATION_VISIT).allowed
    assert second.decide(PROBATION_VISIT).allowed
    second.close()
    (policy_dir / "policy.csv").write_text((POLICY_DIR / "policy.csv").read_text())
    first.reload(notify_peers=True)
    assert second.decide(PROBATION_VISIT).allowed, "a closed watcher no longer reloads"
    first.close()


def test_peer_update_with_broken_files_keeps_the_policy(policy_dir: Path) -> None:
    channel = InProcessChannel()
    listener = PolicyEngine.from_dir(policy_dir, watcher=InProcessWatcher(channel))
    publisher = InProcessWatcher(channel)
    _append(policy_dir, "p, nobody, professional, acute_safety, query, *\n")
    publisher.update()  # must not raise into the publisher
    assert listener.decide(
        AccessRequest(OrgType.BROKER, role=Role.ADMIN, purpose="*", action=Action.ADMINISTER)
    ).allowed


def test_decide_and_reload_concurrently(policy_dir: Path) -> None:
    engine = PolicyEngine.from_dir(policy_dir, check_interval=None)
    errors: list[BaseException] = []

    def decide_many() -> None:
        try:
            for _ in range(200):
                engine.decide(PROBATION_VISIT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=decide_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(10):
        engine.reload()
    for thread in threads:
        thread.join()
    assert errors == []
