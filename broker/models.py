"""Every table, imported in one place so migrations see the whole schema."""

from __future__ import annotations

from sqlmodel import SQLModel

from broker.alerts.models import Alert
from broker.disclosure_log.models import (
    LogCheckpoint,
    LogEntry,
    LogHead,
    LogNode,
    LogParty,
    LogPerson,
    LogQueue,
)
from broker.disclosures.models import Disclosure, DisclosureItem, Override, ProportionalityAnswers
from broker.matches.models import Match, MatchNotice, MatchParty, Notification
from broker.organisations.models import Desk, Organisation, OrganisationKey
from broker.signals.models import IdempotencyRecord, Signal, SignalPerson, SignalTombstone
from broker.subject_access.models import ErasureRequest, SubjectAccessReport
from consent.models import Consent, ConsentEvent

metadata = SQLModel.metadata

__all__ = [
    "Alert",
    "Consent",
    "ConsentEvent",
    "Desk",
    "Disclosure",
    "DisclosureItem",
    "ErasureRequest",
    "IdempotencyRecord",
    "LogCheckpoint",
    "LogEntry",
    "LogHead",
    "LogNode",
    "LogParty",
    "LogPerson",
    "LogQueue",
    "Match",
    "MatchNotice",
    "MatchParty",
    "Notification",
    "Organisation",
    "OrganisationKey",
    "Override",
    "ProportionalityAnswers",
    "Signal",
    "SignalPerson",
    "SignalTombstone",
    "SubjectAccessReport",
    "metadata",
]
