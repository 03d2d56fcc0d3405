"""Every table, imported in one place so migrations see the whole schema."""

from __future__ import annotations

from sqlmodel import SQLModel

from broker.disclosure_log.models import (
    LogCheckpoint,
    LogEntry,
    LogHead,
    LogNode,
    LogParty,
    LogPerson,
)
from broker.organisations.models import Desk, Organisation, OrganisationKey

metadata = SQLModel.metadata

__all__ = [
    "Desk",
    "LogCheckpoint",
    "LogEntry",
    "LogHead",
    "LogNode",
    "LogParty",
    "LogPerson",
    "Organisation",
    "OrganisationKey",
    "metadata",
]
