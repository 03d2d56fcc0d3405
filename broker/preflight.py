"""Checks before serving: production refuses unsafe configuration and says why."""

from __future__ import annotations

from sqlmodel import Session

from broker.db import build_engine
from broker.errors import BrokerError
from broker.organisations.service import has_development_keys
from broker.settings import Settings, production_problems


class UnsafeConfiguration(BrokerError):
    """Production settings that must be fixed before the broker starts."""

    slug = "unsafe-configuration"
    title = "Unsafe configuration"


def check_production(settings: Settings) -> None:
    """Raise ``UnsafeConfiguration`` listing every problem when production is misconfigured."""
    if not settings.is_production:
        return
    dev_keys = False
    if not settings.resolved_database_url.startswith("sqlite"):
        engine = build_engine(settings)
        try:
            with Session(engine) as session:
                dev_keys = has_development_keys(session)
        finally:
            engine.dispose()
    problems = production_problems(settings, has_development_keys=dev_keys)
    if problems:
        raise UnsafeConfiguration("refusing to start in production: " + "; ".join(problems))
