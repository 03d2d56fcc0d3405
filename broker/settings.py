"""Broker settings: one pydantic-settings class with the ``BROKER_`` prefix."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from policies import POLICY_DIR

DEFAULT_PASSPHRASE = "development-only-passphrase"  # noqa: S105 - refused outside local/test


class Environment(StrEnum):
    """Where the broker runs; production tightens every check."""

    LOCAL = "local"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting the broker reads, with safe defaults for the embedded mode."""

    model_config = SettingsConfigDict(env_prefix="BROKER_", extra="ignore")

    env: Environment = Environment.LOCAL
    data_dir: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    keystore_passphrase: SecretStr = SecretStr(DEFAULT_PASSPHRASE)
    policy_dir: Path = POLICY_DIR
    chain_file: Path | None = None
    token_audience: str = "dv-broker"  # noqa: S105 - an audience, not a secret
    token_max_lifetime_seconds: int = Field(default=900, ge=60, le=900)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Requests in progress per process before more are answered 503 (load shedding).
    max_inflight_requests: int = Field(default=32, ge=1)
    log_origin: str = "dv-broker.local/disclosure-log"
    checkpoint_interval_seconds: int = Field(default=60, ge=1, le=60)
    log_retention_days: int = Field(default=5 * 365, ge=1)
    override_review_hours: int = Field(default=72, ge=1)
    database_pool_size: int = Field(default=10, ge=1)
    # Organisations, desks and active token keys are cached per process for this long. A key
    # revoked or a desk changed through this process applies at once; other processes see it
    # within this many seconds. 0 reads the database on every lookup.
    organisation_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    query_limit_per_user_minute: int = Field(default=30, ge=1)
    query_limit_per_org_minute: int = Field(default=600, ge=1)
    # Bulk imports take the blind path too; the log and alerts watch the volume.
    blind_limit_per_org_minute: int = Field(default=200_000, ge=1)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'broker.db').resolve()}"

    @property
    def resolved_chain_file(self) -> Path:
        """The organisation chain to load on ``broker init``."""
        return self.chain_file or self.policy_dir / "chain.toml"

    @property
    def keystore_path(self) -> Path:
        """Encrypted keystore file."""
        return self.data_dir / "keystore.json"

    @property
    def dev_key_dir(self) -> Path:
        """Development signing keys of the example organisations."""
        return self.data_dir / "dev-keys"

    @property
    def log_dir(self) -> Path:
        """Structured application logs."""
        return self.data_dir / "logs"

    @property
    def is_production(self) -> bool:
        """True when every production safeguard applies."""
        return self.env is Environment.PRODUCTION


def production_problems(settings: Settings, *, has_development_keys: bool) -> list[str]:
    """Reasons the configuration is unfit for production; empty when it is fit."""
    if not settings.is_production:
        return []
    problems: list[str] = []
    if settings.resolved_database_url.startswith("sqlite"):
        problems.append("BROKER_DATABASE_URL must point to PostgreSQL, not SQLite")
    if not settings.redis_url:
        problems.append("BROKER_REDIS_URL is required (replay protection and rate limits)")
    passphrase = settings.keystore_passphrase.get_secret_value()
    if passphrase == DEFAULT_PASSPHRASE or len(passphrase) < 16:
        problems.append("BROKER_KEYSTORE_PASSPHRASE is the default or shorter than 16 characters")
    if has_development_keys:
        problems.append("organisations still trust development signing keys; load their JWKS")
    return problems
