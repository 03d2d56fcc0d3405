"""The ``broker`` command line on a fresh data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.cli import main


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BROKER_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BROKER_ENV", "test")
    return tmp_path / "var"


def test_init_is_idempotent(fresh: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    assert "11 new" in capsys.readouterr().out
    assert main(["init"]) == 0
    assert "0 new" in capsys.readouterr().out
    assert (fresh / "broker.db").exists()


def test_orgs_lists_ids(fresh: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["orgs"]) == 0
    ids = capsys.readouterr().out.split()
    assert "vt-rr" in ids and "politie-rr" in ids


def test_token_is_refused_in_production(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["token", "--org", "vt-rr", "--user", "u", "--role", "professional"]) == 0
    assert capsys.readouterr().out.count(".") == 2
    monkeypatch.setenv("BROKER_ENV", "production")
    assert main(["token", "--org", "vt-rr", "--user", "u", "--role", "professional"]) == 2
    assert "refused" in capsys.readouterr().err


def test_serve_refuses_unsafe_production(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BROKER_ENV", "production")
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "PostgreSQL" in err and "REDIS" in err and "PASSPHRASE" in err
