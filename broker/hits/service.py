"""Answering "is this family known elsewhere?" without revealing content.

Only other organisations' active signals count. Embargoed signals are invisible to the
asker (only their registrant learns of the match). Shielded signals show no organisation,
type or category: at most "known, contact via Veilig Thuis". Every query, hit or not, is
written to the disclosure log; the fishing detector watches the asker's pattern.
"""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session

from broker.auth.principal import Principal
from broker.authorization import authorize
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.errors import PolicyDenied
from broker.hits.fishing import watch_query
from broker.hits.schemas import HIT_NOTICE, NO_HIT_NOTICE, HitAnswer, OrganisationHit, PersonAnswer
from broker.matches.directory import Directory
from broker.matches.service import (
    Actor,
    Involvement,
    find_involvements,
    is_hidden_org,
    notify_matches,
)
from broker.persons import PersonRef
from broker.policy import Action
from broker.ratelimit import Limit


def find_hits(
    session: Session,
    container: Container,
    principal: Principal,
    *,
    purpose: str,
    persons: list[PersonRef],
) -> HitAnswer:
    """Answer a hit query for ``purpose`` about ``persons``."""
    decision = authorize(
        session,
        principal,
        policy=container.policy,
        catalogue=container.catalogue,
        action=Action.QUERY,
        purpose=purpose,
    )
    # Per user, then per organisation: one round trip, counted as if one after the other.
    container.limiter.hit_all(
        [
            Limit(
                f"user:{principal.org_id}:{principal.user}",
                limit=container.settings.query_limit_per_user_minute,
                window_seconds=60,
            ),
            Limit(
                f"org:{principal.org_id}",
                limit=container.settings.query_limit_per_org_minute,
                window_seconds=60,
            ),
        ]
    )
    now = container.clock.now()
    ys = [person.pseudonym(container.pseudonymiser) for person in persons]
    involvements = find_involvements(session, container, ys, now=now)
    own = [inv for inv in involvements if inv.signal.org_id == principal.org_id]
    others = [inv for inv in involvements if inv.signal.org_id != principal.org_id]
    _check_reciprocity(container, principal, purpose, has_own=bool(own))
    organisations = _organisations(session, container, principal, others)
    visible_people = {p for hit in organisations for p in hit.persons}
    known = bool(organisations)
    log_keys = tuple(container.pseudonymiser.log_pseudonym(y) for y in ys)
    shown = sorted({h.organisation["id"] for h in organisations if h.organisation})
    record(
        session,
        LogEvent.by(
            principal,
            EventType.QUERY,
            "hit" if known else "no_hit",
            purpose=purpose,
            rule=decision.rule,
            persons=log_keys,
            parties=tuple(shown),
            details={
                "persons": len(persons),
                "organisations": shown,
                "via_fallback": sum(1 for h in organisations if h.organisation is None),
            },
        ),
    )
    actor = Actor(
        org_id=principal.org_id,
        org_type=principal.org_type,
        desk=None,
        hidden=is_hidden_org(principal.org_type),
    )
    notify_matches(session, container, actor=actor, ys=ys, involvements=others, cause="query")
    watch_query(session, container, principal, persons=persons, log_keys=log_keys, known=known)
    return HitAnswer(
        known=known,
        notice=HIT_NOTICE if known else NO_HIT_NOTICE,
        persons=[PersonAnswer(person=i, known=i in visible_people) for i in range(len(ys))],
        organisations=organisations,
    )


def _check_reciprocity(
    container: Container, principal: Principal, purpose: str, *, has_own: bool
) -> None:
    # The SluiS rule: for these purposes you see who else is involved only once you
    # have registered your own involvement with one of the persons.
    if purpose in container.reciprocity_purposes and not has_own:
        raise PolicyDenied(
            "For this purpose the broker answers only after your organisation has "
            "registered its own signal on one of the persons (reciprocity).",
            purpose=purpose,
        )


def _organisations(
    session: Session, container: Container, principal: Principal, others: list[Involvement]
) -> list[OrganisationHit]:
    directory = Directory(session)
    grouped: dict[str, list[Involvement]] = defaultdict(list)
    fallback: dict[tuple[str, str], list[Involvement]] = defaultdict(list)
    for inv in others:
        if inv.signal.embargo:
            continue
        category = container.catalogue.category(inv.signal.category)
        if inv.signal.shielded or category.shielded:
            desk = category.fallback_desk
            if desk is not None:
                fallback[(desk.organisation, desk.desk)].append(inv)
            continue
        grouped[inv.signal.org_id].append(inv)
    hits: list[OrganisationHit] = []
    for org_id, invs in sorted(grouped.items()):
        first = min(invs, key=lambda inv: inv.signal.created_at)
        categories = sorted(
            {
                inv.signal.category
                for inv in invs
                if container.catalogue.category(inv.signal.category).shows_category_to(
                    principal.org_type
                )
            }
        )
        hits.append(
            OrganisationHit(
                organisation=directory.describe(org_id),
                contact=directory.contact(org_id, first.signal.desk_id),
                since=first.signal.created_at.strftime("%Y-%m"),
                category=", ".join(categories) or None,
                persons=sorted({inv.person for inv in invs}),
                via_family=all(inv.via_family for inv in invs),
            )
        )
    for (org_id, desk_id), invs in sorted(fallback.items()):
        hits.append(
            OrganisationHit(
                organisation=None,
                contact=directory.contact(org_id, desk_id),
                since=None,
                persons=sorted({inv.person for inv in invs}),
                via_family=all(inv.via_family for inv in invs),
                note="Known; contact via Veilig Thuis.",
            )
        )
    return hits
