"""End to end on a real server process: the lifespan's worker delivers a resolution to a receiver on
loopback, signed; SIGTERM stops the server (and its worker) with status 0; the log holds no secret."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.hardening.seed import seed_org
from tests.helpers import API
from tests.live import live_server
from tests.webhooks.conftest import Receiver
from tests.webhooks.test_delivery import verify


def test_a_live_server_delivers_a_resolution_and_stops_cleanly(tmp_path: Path, receiver: Receiver) -> None:
    org = seed_org(tmp_path, 3)
    env = {"OPENMIRA_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1:*", "OPENMIRA_WEBHOOK_POLL_SECONDS": "0.2"}
    with live_server(org.database_url, tmp_path, log_level="info", **env) as server, server.client() as http:
        token = http.post("/oauth/token", json={
            "grant_type": "client_credentials", "client_id": org.client_id, "client_secret": org.client_secret,
        }).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = http.post(f"{API}/org/webhooks", headers=headers, json={
            "url": receiver.url("/live?token=url-token-xyz"), "events": ["finding.resolved"],
        })
        assert created.status_code == 201, created.text
        secret = created.json()["data"]["secret"]
        finding_id = str(org.finding_ids[0])
        resolved = http.post(f"{API}/org/findings/{finding_id}/resolve", headers=headers, json={"resolution": 30})
        assert resolved.status_code == 200, resolved.text

        deadline = time.monotonic() + 20
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        (got,) = receiver.requests
        assert got.headers["x-openmira-event"] == "finding.resolved"
        assert got.json()["data"]["finding"]["finding_id"] == finding_id
        assert verify(secret, got.headers, got.body)

        os.kill(server.process.pid, signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
    log = server.log.read_text()
    assert "webhook delivery" in log and "succeeded" in log
    for leaked in (secret, "url-token-xyz", got.headers["x-openmira-signature"]):
        assert leaked not in log
