"""``broker demo`` tells its story against a real broker served over HTTP."""

from __future__ import annotations

import pytest

from broker.demo import run_demo


@pytest.mark.e2e
def test_demo_runs_through_the_http_api(broker_env, clean, capsys: pytest.CaptureFixture[str]):
    assert run_demo(broker_env.settings) == 0
    out = capsys.readouterr().out
    assert "Rotterdam-Rijnmond" in out and "Done." in out
