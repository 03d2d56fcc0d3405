"""Tables for organisations, their desks and their token-verification keys."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Organisation(SQLModel, table=True):
    """An organisation in the chain."""

    __tablename__ = "organisation"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    type: str = Field(max_length=32, index=True)
    domain: str = Field(max_length=16)
    webhook_url: str | None = Field(default=None, max_length=500)
    created_at: datetime


class Desk(SQLModel, table=True):
    """A contact desk: a function with phone and hours, never a private person."""

    __tablename__ = "desk"

    org_id: str = Field(foreign_key="organisation.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    phone: str = Field(max_length=40)
    hours: str = Field(max_length=200)


class OrganisationKey(SQLModel, table=True):
    """A public key that verifies an organisation's tokens (one JWK of its JWKS)."""

    __tablename__ = "organisation_key"

    org_id: str = Field(foreign_key="organisation.id", primary_key=True, max_length=64)
    kid: str = Field(primary_key=True, max_length=128)
    jwk: str = Field(max_length=4000)
    is_development: bool = False
    created_at: datetime
    revoked_at: datetime | None = None
