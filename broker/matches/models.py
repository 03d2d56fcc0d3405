"""Tables of matches, their parties, coordinators and the notification outbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class Match(SQLModel, table=True):
    """Organisations involved with the same person (by log pseudonym, stable over rotation)."""

    __tablename__ = "match"

    id: str = Field(primary_key=True, max_length=32)
    person_key: str = Field(max_length=80, index=True, unique=True)
    created_at: datetime
    coordinator_org: str | None = Field(default=None, max_length=64)
    coordinator_desk: str | None = Field(default=None, max_length=64)
    coordinator_set_by: str | None = Field(default=None, max_length=64)
    coordinator_set_at: datetime | None = None


class MatchParty(SQLModel, table=True):
    """An organisation in a match; hidden parties (shielded, embargoed) are seen by no other."""

    __tablename__ = "match_party"

    match_id: str = Field(foreign_key="match.id", primary_key=True, max_length=32)
    org_id: str = Field(primary_key=True, max_length=64)
    hidden: bool = False
    joined_at: datetime


class MatchNotice(SQLModel, table=True):
    """At most one notification per pair of organisations per person per day."""

    __tablename__ = "match_notice"

    day: date = Field(primary_key=True)
    recipient: str = Field(primary_key=True, max_length=64)
    counterpart: str = Field(primary_key=True, max_length=64)
    person_key: str = Field(primary_key=True, max_length=80)


class Notification(SQLModel, table=True):
    """The outbox: written in the same transaction as its cause, delivered afterwards."""

    __tablename__ = "notification"

    id: str = Field(primary_key=True, max_length=32)
    org_id: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=40)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(index=True)
    read_at: datetime | None = None
    webhook_attempts: int = 0
    webhook_next_at: datetime | None = Field(default=None, index=True)
    webhook_delivered_at: datetime | None = None
    webhook_given_up_at: datetime | None = None
