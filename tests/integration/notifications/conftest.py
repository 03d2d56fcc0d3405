"""A real webhook receiver on 127.0.0.1, and organisations pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from broker.app import create_app
from broker.container import Container
from broker.db import unit_of_work
from broker.matches.webhook_endpoints import router as webhook_router
from broker.organisations.models import Organisation
from tests.conftest import BrokerEnv
from tests.integration.notifications.receiver import Receiver

SECRET_PATH = "/v1/organisations/{org_id}/webhook-secret"


@pytest.fixture
def client(broker_env: BrokerEnv, clean: Container) -> Iterator[TestClient]:
    """The suite's client, with the webhook router until the app includes it itself."""
    app = create_app(broker_env.settings, container=clean, run_tasks=False)
    if not any(getattr(route, "path", None) == SECRET_PATH for route in app.routes):
        app.include_router(webhook_router)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver, stopped after the test."""
    running = Receiver()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def hooks(
    clean: Container, client: TestClient, auth: Callable[..., dict[str, str]], receiver: Receiver
) -> Iterator[Callable[[str], None]]:
    """Point an organisation's webhook at the receiver; every change is undone afterwards."""
    originals: dict[str, str | None] = {}

    def point(org_id: str) -> None:
        set_webhook(clean, org_id, receiver.url(org_id), originals)
        response = client.get(
            f"/v1/organisations/{org_id}/webhook-secret", headers=auth(org_id, "admin")
        )
        assert response.status_code == 200, response.text
        receiver.learn_secret(org_id, response.json()["secret"])

    yield point
    for org_id, url in originals.items():
        set_webhook(clean, org_id, url, {})


def set_webhook(
    container: Container, org_id: str, url: str | None, originals: dict[str, str | None]
) -> None:
    with unit_of_work(container.engine) as session:
        organisation = session.get(Organisation, org_id)
        assert organisation is not None
        originals.setdefault(org_id, organisation.webhook_url)
        organisation.webhook_url = url
        session.add(organisation)
