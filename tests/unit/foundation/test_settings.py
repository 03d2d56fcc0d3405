"""Production refuses unsafe configuration and says why."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from broker.settings import Settings, production_problems


def test_local_has_no_production_problems() -> None:
    assert production_problems(Settings(env="local"), has_development_keys=True) == []


def test_production_lists_every_problem() -> None:
    problems = production_problems(Settings(env="production"), has_development_keys=True)
    text = " ".join(problems)
    assert "PostgreSQL" in text and "REDIS" in text and "PASSPHRASE" in text
    assert "development signing keys" in text


def test_production_fit_configuration_passes() -> None:
    settings = Settings(
        env="production",
        database_url="postgresql+psycopg://db/broker",
        redis_url="redis://cache:6379/0",
        keystore_passphrase=SecretStr("a long and unguessable passphrase"),
    )
    assert production_problems(settings, has_development_keys=False) == []


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/broker.db"
