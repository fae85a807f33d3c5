"""`openmira serve --workers N` on one database and Redis: one budget, revocation and key rotation everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
from sqlalchemy.orm import Session

from openmira.credentials.service import create_key_pair
from openmira.orgs.service import create_org
from tests.helpers import API
from tests.live import live_server, server_env

USERS = f"{API}/org/users"


def _token(http: httpx.Client, client_id: str, secret: str) -> str:
    body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = http.post("/oauth/token", json=body)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _cli(database_url: str, *args: str) -> dict[str, str]:
    result = subprocess.run([sys.executable, "-m", "openmira.cli", *args, "--json"], env=server_env(database_url),
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_workers_share_budget_revocation_and_signing_keys(
    database_url: str, redis_url: str, db: Session, tmp_path: Path
) -> None:
    org = create_org(db, "Workers Org")
    issued = create_key_pair(db, org.id)
    db.commit()
    client_id, secret = issued.pair.client_id, issued.client_secret
    env = {"OPENMIRA_REDIS_URL": redis_url, "OPENMIRA_RATE_LIMIT": "10"}
    # Fresh connections, so the kernel spreads requests over both worker processes.
    limits = httpx.Limits(max_keepalive_connections=0)
    with live_server(database_url, tmp_path, workers=2, **env) as server, \
            httpx.Client(base_url=server.url, limits=limits, timeout=10) as http:
        headers = {"Authorization": f"Bearer {_token(http, client_id, secret)}"}
        for _attempt in range(3):
            time.sleep(1.1)
            start = time.monotonic()
            codes = [http.get(USERS, headers=headers).status_code for _ in range(11)]
            if time.monotonic() - start < 1.0:
                assert codes == [200] * 10 + [429], codes
                break

        new_kid = _cli(database_url, "keys", "rotate")["kid"]
        deadline = time.monotonic() + 8  # each process re-reads the key table every 5 s
        while True:
            time.sleep(0.5)
            token = _token(http, client_id, secret)
            if jwt.get_unverified_header(token)["kid"] == new_kid:
                break
            assert time.monotonic() < deadline, "the new signing key was not used"
        fresh = {"Authorization": f"Bearer {token}"}
        time.sleep(1.1)
        assert all(http.get(USERS, headers=fresh).status_code == 200 for _ in range(8))

        _cli(database_url, "credentials", "rotate", client_id)
        done = time.monotonic()
        time.sleep(2.0)
        codes = [http.get(USERS, headers=fresh).status_code for _ in range(8)]
        assert codes == [401] * 8, f"revocation not seen by every worker {time.monotonic() - done:.1f} s later"
