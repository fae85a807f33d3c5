"""An API request enters the API app at its own middleware (core/dispatch.py), past FastAPI's framework
layers, which the outer app has run: an unexpected error in an API handler is still the API's 500 problem
document with the request ID, and a tenant prefix's scope (now provided by the route) still scopes as before."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from openmira.app import create_app
from openmira.findings import service
from openmira.runtime import Runtime
from tests.helpers import API, Tenant, assert_problem


def test_an_unexpected_error_in_an_api_handler_is_a_500_problem_with_the_request_id(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug, with a secret: s3cr3t")

    monkeypatch.setattr(service, "finding_out", broken)
    with TestClient(create_app(runtime.settings, runtime), raise_server_exceptions=False) as client:
        response = client.get(
            f"{API}/org/findings/{uuid.uuid4()}", headers={**tenant.rw.headers, "X-Request-ID": "trace-me-1"}
        )
        body = assert_problem(response, 500)
        assert "s3cr3t" not in response.text and body["detail"] == "The server could not complete the request."
        assert response.headers["x-request-id"] == "trace-me-1"
        # Logged once, with its traceback, though it passes the API's error layer and then the outer app's.
        logged = [r for r in caplog.records if r.name.startswith("openmira") and r.exc_info]
        assert len(logged) == 1 and "s3cr3t" in str(logged[0].exc_info[1])
        # The next request is served as usual.
        assert client.get(f"{API}/org/users", headers=tenant.rw.headers).status_code == 200


def test_the_org_scope_from_the_route_scopes_reads_to_the_tokens_organization(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = client.get(f"{API}/org/users", headers=tenant.rw.headers).json()["data"]
    theirs = client.get(f"{API}/org/users", headers=other_tenant.rw.headers).json()["data"]
    assert mine and theirs and not {u["id"] for u in mine} & {u["id"] for u in theirs}
    assert_problem(client.get(f"{API}/org/users/{theirs[0]['id']}", headers=tenant.rw.headers), 404)
