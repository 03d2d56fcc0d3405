"""The safety check on an erasure request: could erasing put someone at risk?

A perpetrator pressured a victim to have her Veilig Thuis dossier erased (DOMAIN.md,
scenario 9). The check looks at the person's active signals as the officer's organisation
may see them: another organisation's embargoed signal stays invisible, as in a hit.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from broker.auth.principal import Principal
from broker.container import Container
from broker.matches.service import find_involvements
from broker.policy import UnknownCategory
from broker.signals.models import Signal
from broker.signals.repository import SignalFacts, SignalRepository
from broker.signals.schemas import PersonRole
from broker.subject_access.schemas import SafetyFlag
from keys import MatchingPseudonym

RESTRAINING_ORDER = "restraining_order"


def safety_flags(
    session: Session,
    container: Container,
    principal: Principal,
    y: MatchingPseudonym,
    *,
    now: datetime,
) -> list[SafetyFlag]:
    """Flags for the reviewing officer; an empty list means none of the known risks applies."""

    def visible(signal: Signal | SignalFacts) -> bool:
        return not signal.embargo or signal.org_id == principal.org_id

    repo = SignalRepository(session)
    tokens = set(container.pseudonymiser.lookup_tokens(y).values())
    direct = [(p, s) for p, s in repo.active_by_tokens(tokens, now=now) if visible(s)]
    flags: set[SafetyFlag] = set()
    roles = {person.role for person, _ in direct}
    if PersonRole.VICTIM.value in roles:
        flags.add(SafetyFlag.VICTIM_IN_ACTIVE_CASE)
    if PersonRole.SUSPECT.value in roles:
        flags.add(SafetyFlag.SUSPECT_IN_ACTIVE_CASE)
    if any(_shielded(container, signal) for _, signal in direct):
        flags.add(SafetyFlag.SHIELDED_STAY)
    involvements = find_involvements(session, container, [y], now=now)
    if any(
        inv.signal.category == RESTRAINING_ORDER and visible(inv.signal) for inv in involvements
    ):
        flags.add(SafetyFlag.RESTRAINING_ORDER)
    # A suspect registered together with the person, where the person is not that suspect.
    exposed = {signal.id for person, signal in direct if person.role != PersonRole.SUSPECT.value}
    if any(
        p.role == PersonRole.SUSPECT.value and p.index_token not in tokens
        for p in repo.persons_of(exposed)
    ):
        flags.add(SafetyFlag.POSSIBLE_PRESSURE)
    return sorted(flags)


def _shielded(container: Container, signal: Signal | SignalFacts) -> bool:
    try:
        return signal.shielded or container.catalogue.category(signal.category).shielded
    except UnknownCategory:
        return signal.shielded
