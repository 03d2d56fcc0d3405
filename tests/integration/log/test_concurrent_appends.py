"""Several appenders at once leave one chain without gaps or forks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session

from broker.container import Container
from broker.disclosure_log.repository import LogRepository
from tests.integration.log.helpers import append_events
from tests.integration.log.test_tamper_evidence import checkpoint, verify


def test_threads_appending_concurrently(clean: Container) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: append_events(clean, 1 + n % 3, org="vt-rr"), range(60)))
    checkpoint(clean)
    with Session(clean.engine) as session:
        assert LogRepository(session).size() == sum(1 + n % 3 for n in range(60))
    report = verify(clean)
    assert report.ok, report.problems


def test_processes_appending_concurrently(clean: Container, broker_env) -> None:
    settings = broker_env.settings
    script = textwrap.dedent(f"""
        from broker.settings import Settings
        from broker.container import build_container
        from tests.integration.log.helpers import append_events
        settings = Settings(env="test", data_dir={str(settings.data_dir)!r},
                            database_url={settings.database_url!r},
                            redis_url={settings.redis_url!r})
        container = build_container(settings)
        for n in range(25):
            append_events(container, 2)
        container.close()
    """)
    workers = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    assert all(w.wait(timeout=120) == 0 for w in workers)
    checkpoint(clean)
    with Session(clean.engine) as session:
        assert LogRepository(session).size() == 3 * 25 * 2
    report = verify(clean)
    assert report.ok, report.problems
