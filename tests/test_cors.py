"""OPENMIRA_CORS_ORIGINS: browser clients of allowed origins may call the API and the token endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openmira.app import create_app
from tests.conftest import make_runtime, make_settings
from tests.helpers import API, Tenant, get_token

ALLOWED = "https://app.example.com"
REFUSED = "https://evil.example.net"


@pytest.fixture
def cors_client(database_url: str, engine: Engine, db: Session) -> Iterator[TestClient]:
    settings = make_settings(database_url, cors_origins=f"{ALLOWED}, https://other.example.com")
    with TestClient(create_app(settings, make_runtime(settings, engine))) as c:
        yield c


def _preflight(client: TestClient, path: str, origin: str) -> dict[str, str]:
    response = client.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    return {"status": str(response.status_code), **{k.lower(): v for k, v in response.headers.items()}}


@pytest.mark.parametrize("path", ["/oauth/token", f"{API}/org/findings"])
def test_preflight_from_an_allowed_and_a_refused_origin(cors_client: TestClient, path: str) -> None:
    allowed = _preflight(cors_client, path, ALLOWED)
    assert allowed["status"] == "200" and allowed["access-control-allow-origin"] == ALLOWED
    assert "authorization" in allowed["access-control-allow-headers"].lower()
    assert "POST" in allowed["access-control-allow-methods"]
    refused = _preflight(cors_client, path, REFUSED)
    assert refused["status"] == "400" and "access-control-allow-origin" not in refused


def test_simple_requests_carry_the_header_only_for_allowed_origins(cors_client: TestClient, tenant: Tenant) -> None:
    token = get_token(cors_client, tenant.rw.client_id, tenant.rw.client_secret)
    headers = {"Authorization": f"Bearer {token}"}
    allowed = cors_client.get(f"{API}/org/users", headers={**headers, "Origin": ALLOWED})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "X-RateLimit-Remaining" in allowed.headers["access-control-expose-headers"]
    assert "access-control-allow-credentials" not in allowed.headers
    refused = cors_client.get(f"{API}/org/users", headers={**headers, "Origin": REFUSED})
    assert refused.status_code == 200 and "access-control-allow-origin" not in refused.headers
    # An error is readable by the allowed browser client too.
    unauthorized = cors_client.get(f"{API}/org/users", headers={"Origin": ALLOWED})
    assert unauthorized.status_code == 401 and unauthorized.headers["access-control-allow-origin"] == ALLOWED


def test_the_console_and_other_paths_never_answer_cross_origin(cors_client: TestClient) -> None:
    assert "access-control-allow-origin" not in _preflight(cors_client, "/console/sign-in", ALLOWED)
    page = cors_client.get("/console/sign-in", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in page.headers
    jwks = cors_client.get("/.well-known/jwks.json", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in jwks.headers


def test_off_by_default(client: TestClient) -> None:
    assert "access-control-allow-origin" not in _preflight(client, "/oauth/token", ALLOWED)
    assert "access-control-allow-origin" not in client.get(f"{API}/health", headers={"Origin": ALLOWED}).headers
