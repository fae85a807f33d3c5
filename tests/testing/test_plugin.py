"""The pytest plugin as an integrator uses it: fixtures from the pytest11 entry point, a live server."""

from __future__ import annotations

import httpx

from openmira.testing import OpenMiraServer


def test_the_session_server_is_live_on_loopback(openmira_server: OpenMiraServer) -> None:
    assert openmira_server.base_url.startswith("http://127.0.0.1:")
    assert openmira_server.token_url == openmira_server.url + "/oauth/token"
    assert httpx.get(f"{openmira_server.base_url}/health").json()["status"] == "OK"


def test_a_tenant_is_usable_with_plain_http(openmira: OpenMiraServer) -> None:
    org = openmira.create_org(findings=12)
    assert org.rw is not None
    token = openmira.token(org.rw)
    response = httpx.get(f"{openmira.base_url}/org/findings", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["meta"]["total_items"] == 12


def test_openmira_starts_each_test_empty(openmira: OpenMiraServer) -> None:
    msp = openmira.create_msp(accounts=1, findings=3)
    with openmira.client(msp.rw) as client:
        assert client.msp.accounts.list().meta.total_items == 1
    openmira.reset()
    refused = httpx.post(openmira.token_url, data={"grant_type": "client_credentials", "client_id": msp.rw.client_id,
                                                   "client_secret": msp.rw.client_secret})
    assert refused.status_code == 401
