"""Every table, imported in one place so migrations see the whole schema."""

from __future__ import annotations

from sqlmodel import SQLModel

from broker.organisations.models import Desk, Organisation, OrganisationKey

metadata = SQLModel.metadata

__all__ = ["Desk", "Organisation", "OrganisationKey", "metadata"]
