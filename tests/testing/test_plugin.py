"""The pytest plugin as an integrator uses it: fixtures from the pytest11 entry point, a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

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


def test_faults_from_the_plugin_reach_the_server_process(openmira: OpenMiraServer) -> None:
    from openmira_client import RateLimited, ServiceUnavailable

    org = openmira.create_org()
    assert org.rw is not None
    with openmira.client(org.rw) as client, openmira.client(org.rw, max_retries=0) as no_retry:
        openmira.faults.set(org.rw, status=503, count=1)
        assert client.org.users.list().meta.total_items == 4  # retried past the one injected 503
        assert [f["remaining"] for f in openmira.faults.list()] == [0]
        openmira.faults.set(org.rw, status=429, count=1, retry_after=7)
        with pytest.raises(RateLimited) as limited:
            no_retry.org.users.list()
        assert limited.value.retry_after == 7 and limited.value.fault and limited.value.fault.startswith("status=429")
        openmira.faults.set(status=503)
        with pytest.raises(ServiceUnavailable):
            no_retry.org.users.list()
        assert openmira.faults.clear() == 3
        assert no_retry.org.users.list().meta.total_items == 4
    assert "injected fault" in openmira.log()


def test_revoked_tokens_are_replaced_by_the_client(openmira: OpenMiraServer) -> None:
    org = openmira.create_org()
    assert org.rw is not None
    with openmira.client(org.rw) as client:
        client.org.users.list()
        before = client._tokens.token.value
        openmira.faults.revoke_tokens(org.rw)
        deadline = time.monotonic() + 10  # the server's key-pair cache notices within about a second
        while client._tokens.token.value == before and time.monotonic() < deadline:
            assert client.org.users.list().meta.total_items == 4
            time.sleep(0.2)
        assert client._tokens.token.value != before


def test_the_cli_sets_faults_and_makes_tenants_for_other_languages(openmira: OpenMiraServer) -> None:
    env = {**os.environ, "OPENMIRA_DATABASE_URL": openmira.database_url}
    made = subprocess.run([sys.executable, "-m", "openmira.cli", "fixtures", "org", "--findings", "7"],
                          env=env, capture_output=True, text=True, check=True)
    org = json.loads(made.stdout)
    token = httpx.post(openmira.token_url, json={"grant_type": "client_credentials", "audience": "public-api",
                                                 "client_id": org["rw"]["client_id"],
                                                 "client_secret": org["rw"]["client_secret"]}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{openmira.base_url}/org/findings", headers=headers).json()["meta"]["total_items"] == 7
    subprocess.run([sys.executable, "-m", "openmira.cli", "faults", "set", "--client-id", org["rw"]["client_id"],
                    "--status", "500", "--count", "1"], env=env, check=True, capture_output=True)
    failed = httpx.get(f"{openmira.base_url}/org/findings", headers=headers)
    assert failed.status_code == 500 and failed.headers["x-openmira-fault"].startswith("status=500")
    assert httpx.get(f"{openmira.base_url}/org/findings", headers=headers).status_code == 200
    cleared = subprocess.run([sys.executable, "-m", "openmira.cli", "faults", "clear", "--json"],
                             env=env, capture_output=True, text=True, check=True)
    assert json.loads(cleared.stdout) == {"removed": 1}
