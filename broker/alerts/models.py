"""The alert table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class Alert(SQLModel, table=True):
    """A pattern a privacy officer should look at, linked to the log entries behind it."""

    __tablename__ = "alert"

    id: str = Field(primary_key=True, max_length=32)
    org_id: str = Field(max_length=64, index=True)
    user_id: str | None = Field(default=None, max_length=128)
    kind: str = Field(max_length=40)
    dedupe_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(index=True)
    window_start: datetime
    window_end: datetime
    details: str = Field(sa_column=Column(Text, nullable=False))
    resolved_at: datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=128)
    resolution: str | None = Field(default=None, max_length=1000)
