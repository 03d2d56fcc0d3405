"""Tamper evidence: proofs verify, and edits straight in the database are detected."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import text
from sqlmodel import Session

from broker.container import Container
from broker.db import unit_of_work
from broker.disclosure_log.retention import redact_expired
from broker.disclosure_log.verify import verify_log
from broker.ledger import leaf_hash, verify_checkpoint, verify_consistency, verify_inclusion
from tests.integration.log.helpers import append_events, swap_entries


def verify(container: Container):
    with Session(container.engine) as session:
        return verify_log(
            session,
            verifier_keys=container.log.verifier_keys(),
            origin=container.settings.log_origin,
        )


def checkpoint(container: Container):
    with unit_of_work(container.engine) as session:
        return container.log.checkpoint(session)


def test_inclusion_and_consistency_proofs_verify(clean: Container) -> None:
    append_events(clean, 7)
    old = checkpoint(clean)
    append_events(clean, 30)
    new = checkpoint(clean)
    cp = verify_checkpoint(new.note, verifiers=clean.log.verifier_keys())
    assert cp.size == 37 and cp.root_hash == new.root
    with Session(clean.engine) as session:
        for index in (0, 6, 20, 36):
            entry, proof = clean.log.inclusion(session, index, size=new.size)
            assert verify_inclusion(
                leaf_hash(entry.body.encode()),
                index=index,
                size=new.size,
                proof=proof,
                root=new.root,
            )
        proof = clean.log.consistency(session, old.size, new.size)
    assert verify_consistency(
        old.size, new_size=new.size, old_root=old.root, new_root=new.root, proof=proof
    )
    assert verify(clean).ok


def tamper(container: Container, sql: str, **params: object) -> None:
    with container.engine.begin() as conn:
        conn.execute(text(sql), params)


@pytest.mark.parametrize(
    ("sql", "first_bad"),
    [
        ("UPDATE log_entry SET body = replace(body, 'no_hit', 'hit') WHERE \"index\" = 5", 5),
        ("UPDATE log_entry SET outcome = 'hit' WHERE \"index\" = 8", 8),
        ('DELETE FROM log_entry WHERE "index" = 11', 11),
        ("UPDATE log_node SET hash = :junk WHERE level = 2 AND idx = 1", 4),
    ],
    ids=["edit-body", "edit-column", "delete-row", "edit-tree-node"],
)
def test_direct_database_edits_are_detected(clean: Container, sql: str, first_bad: int) -> None:
    append_events(clean, 20)
    checkpoint(clean)
    assert verify(clean).ok
    tamper(clean, sql, junk=b"\x00" * 32)
    report = verify(clean)
    assert not report.ok and report.first_bad == first_bad, report.problems


def test_reordered_rows_are_detected(clean: Container) -> None:
    append_events(clean, 12)
    checkpoint(clean)
    swap_entries(clean, 3, 9)
    report = verify(clean)
    assert not report.ok and report.first_bad == 3


def test_recomputed_forgery_breaks_the_signed_checkpoint(clean: Container) -> None:
    append_events(clean, 16)
    checkpoint(clean)
    # A careful forger rewrites the body, its leaf hash and the level-0 node consistently.
    with clean.engine.begin() as conn:
        body = conn.execute(text('SELECT body FROM log_entry WHERE "index" = 2')).scalar_one()
        forged = body.replace("no_hit", "hit")
        digest = leaf_hash(forged.encode())
        conn.execute(
            text(
                "UPDATE log_entry SET body = :b, outcome = 'hit', leaf_hash = :h "
                'WHERE "index" = 2'
            ),
            {"b": forged, "h": digest},
        )
        conn.execute(
            text("UPDATE log_node SET hash = :h WHERE level = 0 AND idx = 2"), {"h": digest}
        )
    report = verify(clean)
    assert not report.ok
    assert report.first_bad is not None and report.first_bad <= 2


def test_forged_checkpoint_signature_is_detected(clean: Container) -> None:
    append_events(clean, 4)
    head = checkpoint(clean)
    forged = head.note.replace(
        base64.b64encode(head.root).decode(), base64.b64encode(b"x" * 32).decode()
    )
    tamper(clean, "UPDATE log_checkpoint SET note = :n", n=forged)
    assert not verify(clean).ok


def test_retention_redacts_bodies_and_proofs_still_verify(clean: Container) -> None:
    from datetime import timedelta

    append_events(clean, 10)
    head = checkpoint(clean)
    with unit_of_work(clean.engine) as session:
        redacted = redact_expired(
            session, now=clean.clock.now() + timedelta(days=1), retention=timedelta(hours=1)
        )
    assert redacted == 10
    with Session(clean.engine) as session:
        entry, proof = clean.log.inclusion(session, 4, size=head.size)
        assert entry.body is None and entry.redacted_at is not None
        assert verify_inclusion(
            entry.leaf_hash, index=4, size=head.size, proof=proof, root=head.root
        )
    assert verify(clean).ok
