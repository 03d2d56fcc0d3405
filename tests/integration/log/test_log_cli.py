"""``broker log verify | checkpoint | redact`` against the session's database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session

from broker.cli import main
from broker.clock import FrozenClock
from broker.container import Container
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.repository import LogRepository
from broker.disclosure_log.sequencer import pending
from broker.disclosure_log.service import DisclosureLog, body_of
from broker.disclosure_log.signer import KeystoreSigner
from broker.ledger import verify_checkpoint
from tests.integration.log.helpers import append_events


def sign_checkpoint(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["log", "checkpoint"]) == 0
    return capsys.readouterr().out


def test_verify_an_empty_log(cli: Container, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", "verify"]) == 0
    assert "entries: 0" in capsys.readouterr().out


def test_verify_folds_queued_events_in_before_checking(
    cli: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    append_events(cli, 3)
    with Session(cli.engine) as session, session.begin():
        cli.log.append(session, [LogEvent.system(EventType.REFUSAL, "refused")])
        session.info.clear()  # committed but left queued, as between commit and integration
    with Session(cli.engine) as session:
        assert pending(session) == 1
    assert main(["log", "verify"]) == 0
    out = capsys.readouterr().out
    assert "entries: 4," in out and "queued (committed since, not yet in the tree): 0" in out
    with Session(cli.engine) as session:
        assert pending(session) == 0


def test_verify_an_intact_log(cli: Container, capsys: pytest.CaptureFixture[str]) -> None:
    append_events(cli, 20)
    sign_checkpoint(capsys)
    append_events(cli, 7)
    assert main(["log", "verify"]) == 0
    captured = capsys.readouterr()
    assert "entries: 27, checkpoints: 1" in captured.out
    assert "log verified" in captured.out
    assert "FIRST BAD ENTRY" not in captured.err


@pytest.mark.parametrize(
    ("sql", "first_bad"),
    [
        ("UPDATE log_entry SET body = replace(body, 'no_hit', 'hit') WHERE \"index\" = 7", 7),
        ("UPDATE log_entry SET user_id = 'someone-else' WHERE \"index\" = 12", 12),
        ('DELETE FROM log_entry WHERE "index" = 3', 3),
        # Not hashed, but they decide who sees an entry and whose search finds it.
        ("INSERT INTO log_party (entry_index, org_id) VALUES (9, 'wijkteam-feijenoord')", 9),
        ("DELETE FROM log_party WHERE entry_index = 15", 15),
        ("DELETE FROM log_person WHERE entry_index = 4", 4),
        ("UPDATE log_person SET pseudonym = 'lp_other' WHERE entry_index = 11", 11),
    ],
    ids=[
        "edit-body",
        "edit-column",
        "delete-row",
        "add-party",
        "remove-party",
        "remove-person",
        "swap-person",
    ],
)
def test_verify_names_the_first_bad_entry(
    cli: Container, capsys: pytest.CaptureFixture[str], sql: str, first_bad: int
) -> None:
    append_events(cli, 20)
    sign_checkpoint(capsys)
    with cli.engine.begin() as conn:
        conn.execute(text(sql))
    assert main(["log", "verify"]) == 1
    captured = capsys.readouterr()
    assert f"FIRST BAD ENTRY: {first_bad}\n" in captured.err
    assert "log verified" not in captured.out


def test_checkpoint_prints_a_signed_note(
    cli: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    append_events(cli, 5)
    out = sign_checkpoint(capsys)
    headline, _, note = out.partition("\n")
    assert headline.startswith("checkpoint at size 5, root ")
    checkpoint = verify_checkpoint(
        note, verifiers=cli.log.verifier_keys(), origin=cli.settings.log_origin
    )
    assert checkpoint.size == 5
    # Signing again without new entries serves the same checkpoint.
    assert sign_checkpoint(capsys) == out
    append_events(cli, 1)
    assert "checkpoint at size 6," in sign_checkpoint(capsys)


def test_redact_applies_retention_and_logs_the_purge(
    cli: Container, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_LOG_RETENTION_DAYS", "7")
    past = DisclosureLog(
        engine=cli.engine,
        clock=FrozenClock(cli.clock.now() - timedelta(days=10)),
        signer=KeystoreSigner(cli.keystore, cli.settings.log_origin),
        origin=cli.settings.log_origin,
    )
    append_events(replace(cli, log=past), 3)
    append_events(cli, 2)
    sign_checkpoint(capsys)
    assert main(["log", "redact"]) == 0
    assert "redacted 3 entries older than 7 days" in capsys.readouterr().out
    with Session(cli.engine) as session:
        repo = LogRepository(session)
        assert repo.size() == 6
        old, recent, purge = repo.entry(0), repo.entry(3), repo.entry(5)
        assert old is not None and old.body is None and old.redacted_at is not None
        assert recent is not None and recent.body is not None
        assert purge is not None and purge.event_type == EventType.PURGE.value
        assert (body_of(purge) or {})["details"] == {"redacted_entries": 3}
        persons = session.execute(text("SELECT entry_index FROM log_person")).scalars().all()
        assert sorted(persons) == [3, 4]
    # A second run finds nothing left to redact, and the redacted log still verifies.
    assert main(["log", "redact"]) == 0
    assert "redacted 0 entries" in capsys.readouterr().out
    assert main(["log", "verify"]) == 0
