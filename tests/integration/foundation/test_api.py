"""The HTTP surface of the foundation: operations, problem+json, limits, the security ladder."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

Auth = Callable[..., dict[str, str]]


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:dv-broker:problem:")
    assert "Traceback" not in response.text
    return body


def test_health_ready_metrics_openapi(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["status"] == "ready" and ready["checks"]["database"] == "ok"
    assert "broker_http_requests_total" in client.get("/metrics").text
    spec = client.get("/openapi.json").json()
    assert "/v1/organisations" in spec["paths"]


def test_unknown_path_and_method_are_problems(client: TestClient) -> None:
    is_problem(client.get("/v1/nothing-here"), 404)
    is_problem(client.delete("/health"), 405)


def test_security_headers_present(client: TestClient) -> None:
    headers = client.get("/health").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_oversized_body_is_refused(client: TestClient, auth: Auth, broker_env) -> None:
    limit = broker_env.settings.max_body_bytes
    response = client.post(
        "/v1/organisations",
        content=b"x" * (limit + 1),
        headers={"content-type": "application/json", **auth("broker", "admin")},
    )
    is_problem(response, 413)


def test_organisations_security_ladder(client: TestClient, auth: Auth) -> None:
    is_problem(client.get("/v1/organisations"), 401)
    is_problem(client.get("/v1/organisations", headers={"Authorization": "Bearer nonsense"}), 401)
    is_problem(client.get("/v1/organisations", headers=auth("vt-rr", "professional")), 403)
    own = client.get("/v1/organisations", headers=auth("vt-rr", "admin")).json()["items"]
    assert [org["id"] for org in own] == ["vt-rr"]
    is_problem(client.get("/v1/organisations/politie-rr", headers=auth("vt-rr", "admin")), 404)
    everyone = client.get("/v1/organisations", headers=auth("broker", "admin")).json()["items"]
    assert {"politie-rr", "vt-rr", "zvhrr", "blijf-groep", "jbrr"} <= {o["id"] for o in everyone}
    vt = client.get("/v1/organisations/vt-rr", headers=auth("vt-rr", "admin")).json()
    assert vt["type"] == "veilig_thuis" and vt["desks"][0]["phone"]
    assert vt["jwks"]["keys"][0]["kty"] == "OKP" and "d" not in vt["jwks"]["keys"][0]


def test_replayed_token_is_refused(client: TestClient, token) -> None:
    headers = {"Authorization": f"Bearer {token('broker', 'admin')}"}
    assert client.get("/v1/organisations", headers=headers).status_code == 200
    body = is_problem(client.get("/v1/organisations", headers=headers), 401)
    assert "already used" in body["detail"]
