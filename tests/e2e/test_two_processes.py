"""Two broker processes behind one database (and Redis, on the PostgreSQL tier)."""

from __future__ import annotations

import random
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlmodel import Session

from broker.container import Container
from broker.disclosure_log.verify import verify_log
from tests.e2e.processes import free_port, start_broker, stop
from tests.identities import BSNS

pytestmark = pytest.mark.e2e


def body(bsn: str) -> dict:
    return {
        "category": "police_dv_incident",
        "persons": [{"person": {"bsn": bsn}, "role": "victim"}],
    }


def verified(container: Container) -> None:
    with Session(container.engine) as session:
        report = verify_log(
            session,
            verifier_keys=container.log.verifier_keys(),
            origin=container.settings.log_origin,
        )
    assert report.ok, report.problems


def test_concurrent_writes_through_two_processes_keep_one_chain(broker_env, clean, token) -> None:
    ports = [free_port(), free_port()]
    procs = [start_broker(broker_env.settings, port) for port in ports]
    try:

        def work(n: int) -> int:
            url = f"http://127.0.0.1:{ports[n % 2]}"
            headers = {
                "Authorization": f"Bearer {token('politie-rr', 'professional', user=f'u{n}')}"
            }
            r = httpx.post(
                f"{url}/v1/signals", json=body(BSNS[n % 20]), headers=headers, timeout=30
            )
            ask = {"Authorization": f"Bearer {token('vt-rr', 'professional', user=f'v{n}')}"}
            q = httpx.post(
                f"{url}/v1/hits",
                headers=ask,
                timeout=30,
                json={"purpose": "safety_assessment", "persons": [{"bsn": BSNS[n % 20]}]},
            )
            return r.status_code * 1000 + q.status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, range(40)))
        assert set(results) == {201200}
    finally:
        for proc in procs:
            stop(proc)
    verified(clean)


def test_sigkill_during_writes_loses_nothing_committed(broker_env, clean, token) -> None:
    port = free_port()
    proc = start_broker(broker_env.settings, port)
    accepted: list[str] = []
    url = f"http://127.0.0.1:{port}"

    def write(n: int) -> None:
        headers = {"Authorization": f"Bearer {token('politie-rr', 'professional', user=f'k{n}')}"}
        try:
            r = httpx.post(
                f"{url}/v1/signals", json=body(BSNS[20 + n % 10]), headers=headers, timeout=10
            )
        except httpx.HTTPError:
            return
        if r.status_code == 201:
            accepted.append(r.json()["id"])

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            for n in range(80):
                pool.submit(write, n)
            deadline = time.monotonic() + 30
            while len(accepted) < 10 and time.monotonic() < deadline:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)  # mid-stream: requests are still in flight
        proc.wait(timeout=10)
    finally:
        stop(proc)
    assert len(accepted) >= 10
    restarted = start_broker(broker_env.settings, port)
    try:
        headers = {"Authorization": f"Bearer {token('politie-rr', 'professional', user='after')}"}
        stored = httpx.get(f"{url}/v1/signals?limit=500", headers=headers, timeout=10).json()
    finally:
        stop(restarted)
    # Every acknowledged signal survived; none is half-written; the log is one chain.
    assert set(accepted) <= {s["id"] for s in stored["items"]}
    assert all(s["persons"] == 1 for s in stored["items"])
    verified(clean)


def test_policy_change_reaches_both_processes(broker_env, clean, token, tmp_path) -> None:
    if broker_env.settings.redis_url is None:
        pytest.skip("cross-process policy notification runs over Redis (PostgreSQL tier)")
    policy_dir = tmp_path / "policies"
    shutil.copytree(
        broker_env.settings.policy_dir,
        policy_dir,
        ignore=shutil.ignore_patterns("__pycache__", "*.py"),
    )
    ports = [free_port(), free_port()]
    procs = [
        start_broker(broker_env.settings, port, extra_env={"BROKER_POLICY_DIR": str(policy_dir)})
        for port in ports
    ]

    def status(port: int) -> int:
        user = f"s-{random.random()}"
        headers = {"Authorization": f"Bearer {token('blijf-groep', 'professional', user=user)}"}
        return httpx.post(
            f"http://127.0.0.1:{port}/v1/hits",
            headers=headers,
            timeout=10,
            json={"purpose": "home_visit_risk_check", "persons": [{"bsn": BSNS[5]}]},
        ).status_code

    try:
        assert [status(p) for p in ports] == [403, 403]
        csv = policy_dir / "policy.csv"
        csv.write_text(
            csv.read_text() + "\np, shelter, professional, home_visit_risk_check, query, *\n"
        )
        admin = {"Authorization": f"Bearer {token('broker', 'admin')}"}
        reload = httpx.post(
            f"http://127.0.0.1:{ports[0]}/v1/policy/reload", headers=admin, timeout=10
        )
        assert reload.status_code == 200, reload.text
        deadline = time.monotonic() + 10
        while status(ports[1]) == 403 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [status(p) for p in ports] == [200, 200]
    finally:
        for proc in procs:
            stop(proc)
