"""The fishing detector: bursts, clustered or random identifiers, off-hours querying.

It sees only keyed tokens: a query's BSNs are reduced to HMACs of their block of 1,000
numbers (so an enumeration that walks the number space is visible as many queries in one
block) and counts live in Redis (or process memory) for an hour. Nothing here stores an
identifier.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlmodel import Session

from broker.alerts.service import raise_alert
from broker.auth.principal import Principal
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.service import record
from broker.persons import PersonRef

BURST_QUERIES, BURST_WINDOW = 20, 600
BLOCK_SIZE, BLOCK_DISTINCT = 1000, 3
RANDOM_MIN_QUERIES, RANDOM_NO_HIT_SHARE = 15, 0.9
OFF_HOURS, OFF_HOURS_QUERIES = (22, 6), 5


def watch_query(
    session: Session,
    container: Container,
    principal: Principal,
    *,
    persons: list[PersonRef],
    log_keys: tuple[str, ...],
    known: bool,
) -> None:
    """Count this query and raise an alert when a pattern crosses its threshold."""
    now = container.clock.now()
    who = f"{principal.org_id}:{principal.user}"
    night = now.hour >= OFF_HOURS[0] or now.hour < OFF_HOURS[1]
    blocks = _blocks(container, persons, log_keys)
    # One round trip for every counter: the detector must not slow the answer down.
    (bursts, hour_total, no_hits, nightly), distinct = container.limiter.observe(
        [
            (f"fish:burst:{who}", 1, BURST_WINDOW),
            (f"fish:total:{who}", 1, 3600),
            (f"fish:nohit:{who}", 0 if known else 1, 3600),
            (f"fish:night:{who}", 1 if night else 0, 8 * 3600),
        ],
        [(f"fish:block:{who}:{block}", person_key, 3600) for block, person_key in blocks],
    )
    findings: list[tuple[str, int, dict[str, object]]] = []
    if bursts > BURST_QUERIES:
        findings.append(("burst", BURST_WINDOW, {"queries": bursts, "minutes": 10}))
    if hour_total >= RANDOM_MIN_QUERIES and no_hits / hour_total >= RANDOM_NO_HIT_SHARE:
        findings.append(("random_identifiers", 3600, {"queries": hour_total, "no_hit": no_hits}))
    if any(size >= BLOCK_DISTINCT for size in distinct):
        findings.append(("sequential_identifiers", 3600, {"distinct_in_block": max(distinct)}))
    if night and nightly > OFF_HOURS_QUERIES:
        findings.append(("off_hours_burst", 8 * 3600, {"queries": nightly}))
    for kind, window, details in findings:
        alert = raise_alert(
            session,
            org_id=principal.org_id,
            user_id=principal.user,
            kind=kind,
            window=(_window_start(now, window), now),
            details=details,
            memo=container.alert_memo,
        )
        if alert is not None:
            record(
                session,
                LogEvent.by(
                    principal,
                    EventType.QUERY,
                    f"alert:{kind}",
                    persons=log_keys,
                    details={"alert_id": alert.id},
                ),
            )


def _window_start(now: datetime, seconds: int) -> datetime:
    return now - timedelta(seconds=int(now.timestamp()) % seconds)


def _blocks(
    container: Container, persons: list[PersonRef], log_keys: tuple[str, ...]
) -> list[tuple[str, str]]:
    """(keyed token of the BSN's block of 1,000, the person's log pseudonym) per BSN."""
    key = container.keystore.log_pseudonym_key()
    return [
        (
            hmac.new(
                key, f"bsn-block:{int(p.bsn) // BLOCK_SIZE}".encode(), hashlib.sha256
            ).hexdigest()[:32],
            person_key,
        )
        for p, person_key in zip(persons, log_keys, strict=True)
        if p.bsn is not None
    ]
