"""Purpose binding: the one place the broker asks Casbin whether a request is allowed."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from pathlib import Path

import casbin

from broker.policy.catalogue import CATEGORIES_FILE, PURPOSES_FILE, Catalogue
from broker.policy.enforcers import build_enforcers, file_stamp
from broker.policy.errors import PolicyConfigError
from broker.policy.vocabulary import ANY_CATEGORY, Action, OrgType, Role
from broker.policy.watcher import PolicyWatcher

MODEL_FILE = "model.conf"
POLICY_FILE = "policy.csv"

# The request space is small (types x roles x purposes x actions x categories); the bound
# only guards against callers inventing purposes or categories.
_CACHE_LIMIT = 4096

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessRequest:
    """Who asks (organisation type and role), for which purpose, to do what, on what."""

    org_type: OrgType
    _: KW_ONLY
    role: Role
    purpose: str
    action: Action
    category: str = ANY_CATEGORY


@dataclass(frozen=True)
class Decision:
    """Allowed or not, and the policy rule that allowed it, for the disclosure log."""

    allowed: bool
    _: KW_ONLY
    rule: tuple[str, ...] | None = None


class PolicyEngine:
    """Thread-safe wrapper around Casbin and the catalogue, reloadable while serving.

    Rules and catalogue are loaded, checked against each other and swapped together, so a
    caller never sees rules of one version with categories of another.
    """

    def __init__(
        self,
        directory: Path,
        *,
        watcher: PolicyWatcher | None = None,
        check_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._paths = tuple(
            directory / name for name in (MODEL_FILE, POLICY_FILE, PURPOSES_FILE, CATEGORIES_FILE)
        )
        self._watcher = watcher
        self._check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._cache: dict[AccessRequest, Decision] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._stamp = file_stamp(self._paths)
        self._catalogue, self._enforcers = self._build()
        self._checked_at = clock()
        if watcher is not None:
            watcher.set_update_callback(self._on_peer_update)

    @classmethod
    def from_dir(
        cls,
        path: Path,
        *,
        watcher: PolicyWatcher | None = None,
        check_interval: float | None = 5.0,
    ) -> PolicyEngine:
        """Load rules and catalogue from a policy directory such as POLICY_DIR."""
        return cls(path, watcher=watcher, check_interval=check_interval)

    @property
    def catalogue(self) -> Catalogue:
        """The purposes and categories that belong to the rules in force."""
        with self._lock:
            return self._catalogue

    def decide(self, request: AccessRequest) -> Decision:
        """Return whether the request is allowed and by which rule; deny when none matches."""
        self._maybe_check_files()
        with self._lock:
            cached = self._cache.get(request)
            if cached is not None:
                return cached
            try:
                enforcer = self._enforcers.get(request.org_type)
                if enforcer is None:
                    return Decision(False)
                # str() rather than .value: a caller's plain string is judged, not crashed on.
                allowed, rule = enforcer.enforce_ex(
                    str(request.org_type),
                    str(request.role),
                    request.purpose,
                    str(request.action),
                    request.category,
                )
            except Exception as exc:  # Casbin raises bare exceptions; never leak them.
                raise PolicyConfigError("The policy could not be evaluated") from exc
            decision = Decision(bool(allowed), rule=tuple(rule) if allowed else None)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[request] = decision
            return decision

    def reload(self, *, notify_peers: bool = False) -> None:
        """Re-read the policy files; on error keep the current policy and raise."""
        with self._reload_lock:
            stamp = file_stamp(self._paths)
            try:
                catalogue, enforcers = self._build()
            finally:
                # A broken file is not retried on every check, only after the next edit.
                self._stamp = stamp
            with self._lock:
                self._catalogue, self._enforcers = catalogue, enforcers
                self._cache.clear()
        logger.info("policy reloaded from %s", self._directory)
        digest = self.digest()
        for listener in list(self._listeners):
            listener(digest)
        if notify_peers and self._watcher is not None:
            self._watcher.update()

    def add_reload_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener`` with the new policy digest after every reload."""
        self._listeners.append(listener)

    def digest(self) -> str:
        """SHA-256 over the policy files, naming the policy version in force."""
        sha = hashlib.sha256()
        for path in sorted(self._directory.glob("*")):
            if path.suffix in {".conf", ".csv", ".toml"}:
                sha.update(path.name.encode() + b"\0" + path.read_bytes())
        return sha.hexdigest()

    def reload_if_changed(self) -> bool:
        """Reload when any policy file changed on disk; return whether it did."""
        self._checked_at = self._clock()
        if file_stamp(self._paths) == self._stamp:
            return False
        self.reload()
        return True

    def close(self) -> None:
        """Stop listening for policy changes from other processes."""
        if self._watcher is not None:
            self._watcher.close()

    def _maybe_check_files(self) -> None:
        interval = self._check_interval
        if interval is None or self._clock() - self._checked_at < interval:
            return
        try:
            self.reload_if_changed()
        except PolicyConfigError:
            logger.exception("edited policy files are invalid; keeping the current policy")

    def _on_peer_update(self, message: str) -> None:
        try:
            self.reload()
        except PolicyConfigError:
            logger.exception("policy change from a peer is invalid; keeping the current policy")

    def _build(self) -> tuple[Catalogue, dict[OrgType, casbin.Enforcer]]:
        catalogue = Catalogue.from_dir(self._directory)
        enforcers = build_enforcers(
            self._directory / MODEL_FILE,
            policy_path=self._directory / POLICY_FILE,
            catalogue=catalogue,
        )
        return catalogue, enforcers
