"""``verify_log`` in worker processes over small ranges finds what one process finds.

Every case runs three ways on the same tampered log: in this process with the default
range size (one range), in this process with ranges of 4 indices, and in a pool of two
worker processes with ranges of 4 (so ranges, the levels joined above them and checkpoints
inside and at the end of a range are all exercised). The first bad entry and the problems
must be the same each time.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from broker.cli import main
from broker.container import Container
from broker.db import unit_of_work
from broker.disclosure_log import verify as verify_module
from broker.disclosure_log.retention import redact_expired
from broker.disclosure_log.verify import VerifyReport, verify_log
from broker.ledger import leaf_hash
from tests.integration.log.helpers import append_events, swap_entries

SIZE = 40
CHUNK = 4


def verify(container: Container, *, workers: int | None, chunk: int | None) -> VerifyReport:
    with Session(container.engine) as session:
        return verify_log(
            session,
            verifier_keys=container.log.verifier_keys(),
            origin=container.settings.log_origin,
            workers=workers,
            chunk=chunk,
        )


def three_ways(container: Container) -> VerifyReport:
    """Verify in one range, in ranges of 4, and in two workers; all must agree."""
    single = verify(container, workers=1, chunk=None)
    ranges = verify(container, workers=1, chunk=CHUNK)
    pooled = verify(container, workers=2, chunk=CHUNK)
    assert (single.workers, ranges.workers, pooled.workers) == (1, 1, 2)
    for other in (ranges, pooled):
        assert other.first_bad == single.first_bad
        assert other.problems == single.problems
        assert other.entries == single.entries
        assert other.checkpoints == single.checkpoints
    return pooled


def build(container: Container) -> None:
    """40 entries; checkpoints inside a range (13) and at a range's end (40)."""
    append_events(container, 13, source="jbrr")
    with unit_of_work(container.engine) as session:
        container.log.checkpoint(session)
    append_events(container, SIZE - 13, source="jbrr")
    with unit_of_work(container.engine) as session:
        container.log.checkpoint(session)


def run_sql(container: Container, *statements: str, **params: object) -> None:
    with container.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def test_an_intact_log_verifies_in_workers(clean: Container) -> None:
    build(clean)
    report = three_ways(clean)
    assert report.ok, report.problems
    assert report.entries == SIZE and report.checkpoints == 2
    # Every complete node of a 40-leaf tree: 40 + 20 + 10 + 5 + 2 + 1.
    assert report.nodes == verify(clean, workers=1, chunk=None).nodes == 78


JUNK = b"\x00" * 32
DUPLICATE_LAST = (
    'INSERT INTO log_entry ("index", created_at, event_type, outcome, org_id, user_id, '
    "purpose, legal_basis, body, leaf_hash, redacted_at) "
    "SELECT 40, created_at, event_type, outcome, org_id, user_id, purpose, legal_basis, body, "
    'leaf_hash, redacted_at FROM log_entry WHERE "index" = 39'
)


@pytest.mark.parametrize(
    ("statements", "first_bad"),
    [
        (["UPDATE log_entry SET body = replace(body, 'no_hit', 'hit') WHERE \"index\" = 21"], 21),
        (["UPDATE log_entry SET outcome = 'hit' WHERE \"index\" = 8"], 8),
        (["UPDATE log_entry SET user_id = 'someone-else' WHERE \"index\" = 35"], 35),
        (['DELETE FROM log_entry WHERE "index" = 11'], 11),
        (['DELETE FROM log_entry WHERE "index" BETWEEN 16 AND 19'], 16),  # a whole range
        (['DELETE FROM log_entry WHERE "index" = 39'], 39),  # the end: only the head says so
        ([DUPLICATE_LAST], 40),  # a row beyond the head
        (["INSERT INTO log_party (entry_index, org_id) VALUES (9, 'wijkteam-feijenoord')"], 9),
        (["DELETE FROM log_party WHERE entry_index = 30 AND org_id = 'jbrr'"], 30),
        (["DELETE FROM log_person WHERE entry_index = 4"], 4),
        (["UPDATE log_person SET pseudonym = 'lp_other' WHERE entry_index = 27"], 27),
        (['UPDATE log_entry SET body = NULL WHERE "index" = 17'], 17),  # not redacted
        (['UPDATE log_entry SET leaf_hash = :junk WHERE "index" = 26'], 26),
        (["UPDATE log_node SET hash = :junk WHERE level = 0 AND idx = 33"], 33),
        (["UPDATE log_node SET hash = :junk WHERE level = 2 AND idx = 3"], 12),  # a range root
        (["UPDATE log_node SET hash = :junk WHERE level = 3 AND idx = 1"], 8),  # joined above
        (["UPDATE log_node SET hash = :junk WHERE level = 5 AND idx = 0"], 0),
        (["DELETE FROM log_node WHERE level = 1 AND idx = 19"], 38),
        (["DELETE FROM log_node WHERE level = 4 AND idx = 1"], 16),
        # Two faults: the lower one is named even though it sits in a higher node.
        (
            [
                "UPDATE log_entry SET body = replace(body, 'no_hit', 'hit') WHERE \"index\" = 6",
                "UPDATE log_node SET hash = :junk WHERE level = 3 AND idx = 0",
            ],
            0,
        ),
        # A changed leaf makes the nodes above it differ, a tampered node among them too.
        (
            [
                'UPDATE log_entry SET leaf_hash = :junk WHERE "index" = 6',
                "UPDATE log_node SET hash = :junk WHERE level = 2 AND idx = 1",
            ],
            4,
        ),
    ],
    ids=[
        "edit-body",
        "edit-column",
        "edit-column-last-range",
        "delete-row",
        "delete-range",
        "delete-last-row",
        "row-beyond-head",
        "add-party",
        "remove-party",
        "remove-person",
        "swap-person",
        "drop-body",
        "edit-leaf-hash",
        "edit-leaf-node",
        "edit-range-root",
        "edit-upper-node",
        "edit-top-node",
        "delete-node",
        "delete-upper-node",
        "body-and-higher-node",
        "leaf-and-node-above",
    ],
)
def test_workers_name_the_same_first_bad_entry(
    clean: Container, statements: list[str], first_bad: int
) -> None:
    build(clean)
    run_sql(clean, *statements, junk=JUNK)
    report = three_ways(clean)
    assert not report.ok
    assert report.first_bad == first_bad, report.problems


def test_reordered_rows_are_detected_in_workers(clean: Container) -> None:
    build(clean)
    swap_entries(clean, 3, 9)
    report = three_ways(clean)
    assert not report.ok and report.first_bad == 3


@pytest.mark.parametrize("index", [2, 12, 38])
def test_recomputed_forgery_breaks_the_signed_checkpoints(clean: Container, index: int) -> None:
    build(clean)
    # The forger rewrites body, leaf hash and level-0 node; only the checkpoints catch it.
    with clean.engine.begin() as conn:
        body = conn.execute(
            text('SELECT body FROM log_entry WHERE "index" = :i'), {"i": index}
        ).scalar_one()
        forged = body.replace("no_hit", "hit")
        digest = leaf_hash(forged.encode())
        conn.execute(
            text(
                "UPDATE log_entry SET body = :b, outcome = 'hit', leaf_hash = :h "
                'WHERE "index" = :i'
            ),
            {"b": forged, "h": digest, "i": index},
        )
        conn.execute(
            text("UPDATE log_node SET hash = :h WHERE level = 0 AND idx = :i"),
            {"h": digest, "i": index},
        )
    report = three_ways(clean)
    assert not report.ok
    assert report.first_bad == index - index % 2  # the level-1 node above the forged leaf
    mismatched = [p for p in report.problems if "does not match the entries" in p]
    assert mismatched == [
        f"checkpoint at size {size} does not match the entries" for size in (13, 40) if index < size
    ]


def test_redacted_log_verifies_in_workers(clean: Container) -> None:
    from datetime import timedelta

    build(clean)
    with unit_of_work(clean.engine) as session:
        redact_expired(
            session, now=clean.clock.now() + timedelta(days=1), retention=timedelta(hours=1)
        )
    assert three_ways(clean).ok
    run_sql(clean, "INSERT INTO log_person (entry_index, pseudonym) VALUES (22, 'lp_back')")
    report = three_ways(clean)
    assert report.first_bad == 22
    assert report.problems == ["entry 22: person rows after redaction"]


def test_cli_verify_with_workers(
    cli: Container,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verify_module, "CHUNK", CHUNK)
    build(cli)
    assert main(["log", "verify", "--workers", "2"]) == 0
    assert f"entries: {SIZE}, checkpoints: 2" in capsys.readouterr().out
    run_sql(cli, "DELETE FROM log_person WHERE entry_index = 14")
    assert main(["log", "verify", "--workers", "2"]) == 1
    assert "FIRST BAD ENTRY: 14\n" in capsys.readouterr().err


def test_cli_refuses_zero_workers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["log", "verify", "--workers", "0"])
    assert exit_.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_range_size_must_be_a_power_of_two(clean: Container) -> None:
    with pytest.raises(ValueError, match="power of two"):
        verify(clean, workers=1, chunk=6)
