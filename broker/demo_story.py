"""The chapters of ``broker demo``; each capability adds one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.demo import Narrator


def chapter_chain(n: Narrator) -> None:
    """Who is in the chain, and whom to call: desks, not private persons."""
    n.say("The example chain of Rotterdam-Rijnmond, as the broker's administrator sees it")
    orgs = n.call("GET", "/v1/organisations", org="broker", role="admin", user="beheer")
    for org in orgs["items"]:
        desk = org["desks"][0]
        print(f"  {org['id']:<22} {org['type']:<17} {desk['name']} ({desk['phone']})")


CHAPTERS: list[Callable[[Narrator], None]] = [chapter_chain]
