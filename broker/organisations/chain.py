"""The shipped description of the chain: organisations and their desks, as data."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.errors import InvalidRequest
from broker.types import OrgDomain, OrgType


class ChainConfigError(InvalidRequest):
    """The chain file is malformed."""

    slug = "chain-config-error"
    title = "Invalid chain configuration"


@dataclass(frozen=True)
class DeskSpec:
    """A contact desk as configured."""

    id: str
    name: str
    phone: str
    hours: str


@dataclass(frozen=True)
class OrganisationSpec:
    """An organisation as configured, with an optional JWKS file."""

    id: str
    name: str
    type: OrgType
    domain: OrgDomain
    desks: tuple[DeskSpec, ...]
    jwks: tuple[dict[str, Any], ...] = ()
    webhook_url: str | None = None


def load_chain(path: Path) -> tuple[OrganisationSpec, ...]:
    """Read and validate the chain file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        specs = tuple(_organisation(item, base=path.parent) for item in raw["organisation"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ChainConfigError(f"{path.name}: {type(exc).__name__}: {exc}") from exc
    ids = [spec.id for spec in specs]
    if len(set(ids)) != len(ids):
        raise ChainConfigError(f"{path.name}: duplicate organisation ids")
    return specs


def _organisation(item: dict[str, Any], *, base: Path) -> OrganisationSpec:
    desks = tuple(
        DeskSpec(id=d["id"], name=d["name"], phone=d["phone"], hours=d["hours"])
        for d in item.get("desks", [])
    )
    if not desks:
        raise ValueError(f"organisation {item['id']} has no contact desk")
    jwks: tuple[dict[str, Any], ...] = ()
    if "jwks" in item:
        document = json.loads((base / item["jwks"]).read_text(encoding="utf-8"))
        jwks = tuple(document["keys"])
    return OrganisationSpec(
        id=item["id"],
        name=item["name"],
        type=OrgType(item["type"]),
        domain=OrgDomain(item["domain"]),
        desks=desks,
        jwks=jwks,
        webhook_url=item.get("webhook_url"),
    )
