"""Hit queries on the blind path, the inbox poller and release requests, on a real broker."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from connectors import AsyncBrokerClient, BrokerClient
from connectors.cli import main
from connectors.credentials import development_key_path, load_private_key
from keys import parse_bsn

from .conftest import Imported, LiveBroker

pytestmark = pytest.mark.e2e

# The "Voorbeeld" family of the samples: mother, father, child (all fictional).
MOTHER, FATHER, CHILD = "999994979", "999992922", "999992351"
UNKNOWN = "999991048"
ANSWERS = {
    "purpose": "Home visit tomorrow; need to know whether it is safe to go alone.",
    "need_to_know": "Only whether a weapon or acute risk is known at the address.",
    "subsidiarity": "The family does not answer the phone; no less intrusive way today.",
    "proportionality": "Two fields, no history, for one visit: proportionate to the risk.",
    "effectiveness": "With this we decide to visit with the community officer or not.",
}


def test_blind_hit_query_finds_the_police_family_without_sending_a_bsn(
    live_broker: LiveBroker, imported: dict[str, Imported]
) -> None:
    sent: list[bytes] = []
    http = httpx.Client(event_hooks={"request": [lambda request: sent.append(request.read())]})
    key = load_private_key(development_key_path(live_broker.data_dir, "vt-rr"))
    with BrokerClient(live_broker.url, org_id="vt-rr", private_key=key, http=http) as client:
        answer = client.find_hits("acute_safety", [parse_bsn(MOTHER), parse_bsn(FATHER)])
        nothing = client.find_hits("acute_safety", [parse_bsn(UNKNOWN)])
    http.close()

    assert answer["known"] is True
    police = next(o for o in answer["organisations"] if o["organisation"])
    assert police["organisation"]["id"] == "politie-rr"
    assert "police_dv_incident" in police["category"]
    assert "blijf-groep" not in json.dumps(answer)  # the shelter stay shows only a fallback
    assert nothing["known"] is False and "not an assessment of safety" in nothing["notice"]
    assert sent and not any(bsn.encode() in body for body in sent for bsn in (MOTHER, FATHER))


def test_async_client_answers_the_same(
    live_broker: LiveBroker, imported: dict[str, Imported]
) -> None:
    key = load_private_key(development_key_path(live_broker.data_dir, "wijkteam-charlois"))

    async def ask() -> dict[str, Any]:
        async with AsyncBrokerClient(
            live_broker.url, org_id="wijkteam-charlois", private_key=key
        ) as client:
            return await client.find_hits("home_visit_risk_check", [parse_bsn(MOTHER)])

    answer = asyncio.run(ask())

    assert answer["known"] is True
    shown = {o["organisation"]["id"] for o in answer["organisations"] if o["organisation"]}
    assert "politie-rr" in shown


def test_inbox_poller_prints_matches_and_release_requests_once(
    live_broker: LiveBroker, imported: dict[str, Imported], capsys: pytest.CaptureFixture[str]
) -> None:
    request_home_visit_release(live_broker)
    inbox = ["inbox", "--org", "politie-rr", "--once", *live_broker.cli_args()]

    assert main(inbox) == 0
    first = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(inbox) == 0
    second = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    matches = [r for r in first if r["type"] == "notification" and r["kind"] == "match"]
    requests = [r for r in first if r["type"] == "release_request"]
    assert matches and all(r["body"]["person"].startswith("rp_") for r in matches)
    assert "blijf-groep" not in json.dumps(first)  # the shelter never shows in a notification
    assert any(r["requester"]["id"] == "wijkteam-feijenoord" for r in requests)
    assert not [r for r in second if r["type"] == "notification"]  # marked read


def test_coordinator_decides_a_release_request_through_the_sdk(
    live_broker: LiveBroker, imported: dict[str, Imported]
) -> None:
    request_home_visit_release(live_broker)
    with live_broker.client("politie-rr", role="coordinator") as police:
        pending = police.release_requests()
        decided = police.decide_release(
            pending[0]["item_id"], approve=False, reason="Visit together with the wijkagent."
        )
        left = police.release_requests()

    assert decided["status"] == "refused"
    assert pending[0]["item_id"] not in {r["item_id"] for r in left}


def request_home_visit_release(live_broker: LiveBroker) -> None:
    """The wijkteam asks the police, without consent, whether a visit is safe (pending)."""
    with live_broker.client("wijkteam-feijenoord") as wijkteam:
        wijkteam.pseudonymise([parse_bsn(MOTHER)])
        response = httpx.post(
            f"{live_broker.url}/v1/disclosures",
            headers=wijkteam.core.headers(),
            json={
                "purpose": "home_visit_risk_check",
                "persons": [wijkteam.core.person_ref(parse_bsn(MOTHER))],
                "legal_basis": {"type": "proportionality", "answers": ANSWERS},
            },
        )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
