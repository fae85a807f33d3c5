"""Fault injection through the real middleware, on SQLite and PostgreSQL: what an integrator's client sees."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.config import Settings
from openmira.faults.service import FaultSpec, clear_faults, list_faults, revoke_tokens, set_fault
from openmira.runtime import Runtime
from tests.conftest import make_settings
from tests.helpers import API, Tenant, get_token, make_tenant

ADMIN_TOKEN = "admin-token-for-tests-0123456789"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Checked on every request, so a fault set by the test applies to its next request.
    return make_settings(database_url, fault_check_interval=0, admin_token=ADMIN_TOKEN)


def _set(db: Session, **spec: object) -> str:
    fault = set_fault(db, FaultSpec(**spec))  # type: ignore[arg-type]
    db.commit()
    return str(fault.id)


def _users(client: TestClient, tenant: Tenant) -> int:
    return client.get(f"{API}/org/users", headers=tenant.rw.headers).status_code


def test_nothing_happens_without_faults(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"{API}/org/users", headers=tenant.rw.headers)
    assert response.status_code == 200 and "x-openmira-fault" not in response.headers


def test_the_next_n_requests_of_one_key_pair_get_429_with_retry_after(
    db: Session, client: TestClient, tenant: Tenant, other_tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    fault_id = _set(db, client_id=tenant.rw.client_id, status=429, count=2, retry_after=3)
    with caplog.at_level(logging.WARNING, logger="openmira.faults"):
        first = client.get(f"{API}/org/findings", headers=tenant.rw.headers)
    assert first.status_code == 429 and first.headers["retry-after"] == "3"
    assert first.headers["x-openmira-fault"] == f"status=429; id={fault_id}"
    assert first.headers["content-type"].startswith("application/problem+json")
    assert "injected fault" in first.json()["detail"]
    assert _users(client, other_tenant) == 200  # another key pair is untouched
    assert client.get(f"{API}/org/users", headers=tenant.ro.headers).status_code == 200
    assert [_users(client, tenant) for _ in range(3)] == [429, 200, 200]
    assert [f.remaining for f in list_faults(db)] == [0]
    logged = [r for r in caplog.records if r.name == "openmira.faults"]
    assert logged and logged[0].fields["client_id"] == tenant.rw.client_id  # type: ignore[attr-defined]
    assert tenant.rw.token not in caplog.text


def test_a_fault_for_everybody_until_cleared(db: Session, client: TestClient, tenant: Tenant,
                                             other_tenant: Tenant) -> None:
    _set(db, status=503)
    assert [_users(client, tenant), _users(client, other_tenant), _users(client, tenant)] == [503, 503, 503]
    assert clear_faults(db) == 1
    db.commit()
    assert [_users(client, tenant), _users(client, other_tenant)] == [200, 200]


def test_a_share_of_requests(db: Session, client: TestClient, tenant: Tenant) -> None:
    _set(db, client_id=tenant.rw.client_id, status=500, share=1.0)
    assert _users(client, tenant) == 500
    clear_faults(db, tenant.rw.client_id)
    _set(db, client_id=tenant.rw.client_id, status=500, share=0.000001)
    assert [_users(client, tenant) for _ in range(5)].count(200) >= 4


def test_latency_answers_the_real_response_marked(db: Session, client: TestClient, tenant: Tenant) -> None:
    fault_id = _set(db, client_id=tenant.rw.client_id, latency_ms=20, count=1)
    marked = client.get(f"{API}/org/users", headers=tenant.rw.headers)
    assert marked.status_code == 200 and marked.json()["status"] == "OK"
    assert marked.headers["x-openmira-fault"] == f"latency=20ms; id={fault_id}"
    assert "x-openmira-fault" not in client.get(f"{API}/org/users", headers=tenant.rw.headers).headers


def test_revoked_tokens_get_401_and_a_new_token_works(db: Session, client: TestClient, tenant: Tenant) -> None:
    assert revoke_tokens(db, tenant.rw.client_id) == 1
    db.commit()
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    runtime.credentials.invalidate(tenant.rw.client_id)  # what the 1 s cache would do on its own
    assert _users(client, tenant) == 401
    fresh = get_token(client, tenant.rw.client_id, tenant.rw.client_secret)
    assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_bad_specs_are_refused(db: Session, tenant: Tenant) -> None:
    from openmira.core.errors import BadRequest, NotFound

    for spec in ({"status": 418}, {"status": 429, "latency_ms": 5}, {}, {"status": 500, "count": 1, "share": 0.5},
                 {"status": 500, "retry_after": 2}, {"latency_ms": 0}):
        with pytest.raises(BadRequest):
            set_fault(db, FaultSpec(**spec))  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        set_fault(db, FaultSpec(client_id="no-such-client", status=500))


def test_admin_endpoint_needs_the_admin_token(client: TestClient, tenant: Tenant) -> None:
    body = {"client_id": tenant.rw.client_id, "status": 503, "count": 1}
    assert client.post("/admin/faults", json=body).status_code == 401
    assert client.post("/admin/faults", json=body, headers=tenant.rw.headers).status_code == 401
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    created = client.post("/admin/faults", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert client.get("/admin/faults", headers=admin).json()["data"][0]["remaining"] == 1
    assert _users(client, tenant) == 503
    assert client.post("/admin/faults", json={"status": 404}, headers=admin).status_code == 400
    assert client.post("/admin/faults/revoke-tokens", json={}, headers=admin).json()["data"]["key_pairs"] >= 2
    assert client.delete("/admin/faults", headers=admin).json()["data"]["removed"] == 1


@pytest.fixture
def plain_client(database_url: str, runtime: Runtime) -> Iterator[TestClient]:
    settings = make_settings(database_url)
    with TestClient(create_app(settings, runtime)) as c:
        yield c


def test_no_admin_endpoint_without_an_admin_token(plain_client: TestClient, db: Session) -> None:
    make_tenant(db, plain_client, "No Admin")
    assert plain_client.get("/admin/faults").status_code == 404
