"""Constrained identifier types and shared vocabularies."""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

OrgId = NewType("OrgId", str)
UserId = NewType("UserId", str)


class OrgType(StrEnum):
    """Kinds of organisation in the chain."""

    POLICE = "police"
    VEILIG_THUIS = "veilig_thuis"
    ZVH = "zvh"
    WIJKTEAM = "wijkteam"
    SHELTER = "shelter"
    YOUTH_PROTECTION = "youth_protection"
    PROBATION = "probation"
    GGZ = "ggz"
    BROKER = "broker"


class OrgDomain(StrEnum):
    """The chain's two worlds: safety (police, justice) and care."""

    SAFETY = "safety"
    CARE = "care"


class Role(StrEnum):
    """Roles a token may carry."""

    PROFESSIONAL = "professional"
    COORDINATOR = "coordinator"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"
