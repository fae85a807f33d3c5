"""End to end against real server processes: the documented curl flow, Redis-shared budgets, revocation."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from openmira.credentials.models import AccessLevel
from openmira.credentials.service import create_key_pair
from openmira.orgs.service import create_org
from tests.helpers import API
from tests.live import live_server, server_env


def _pair(db: Session, access: AccessLevel = AccessLevel.READ_WRITE) -> tuple[str, str]:
    org = create_org(db, "Live Org")
    issued = create_key_pair(db, org.id, access=access)
    db.commit()
    return issued.pair.client_id, issued.client_secret


def test_documented_curl_flow_with_both_body_forms(database_url: str, db: Session, tmp_path: Path) -> None:
    client_id, secret = _pair(db)
    with live_server(database_url, tmp_path) as server:
        form = subprocess.run(
            ["curl", "-sS", "-X", "POST", f"{server.url}/oauth/token",
             "-H", "Content-Type: application/x-www-form-urlencoded",
             "-d", f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}&audience=public-api"],
            capture_output=True, text=True, check=True,
        )
        as_json = subprocess.run(
            ["curl", "-sS", "-X", "POST", f"{server.url}/oauth/token", "-H", "Content-Type: application/json",
             "-d", json.dumps({"grant_type": "client_credentials", "client_id": client_id,
                               "client_secret": secret, "audience": "public-api"})],
            capture_output=True, text=True, check=True,
        )
        for result in (form, as_json):
            token = json.loads(result.stdout)["access_token"]
            with server.client() as http:
                response = http.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            assert response.json()["meta"]["total_items"] == 0


def _token(url: str, client_id: str, secret: str) -> str:
    import httpx

    response = httpx.post(
        f"{url}/oauth/token",
        json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_two_processes_share_one_budget_through_redis(
    database_url: str, redis_url: str, db: Session, tmp_path: Path
) -> None:
    hammered, hammered_secret = _pair(db)
    quiet, quiet_secret = _pair(db)
    env = {"OPENMIRA_REDIS_URL": redis_url, "OPENMIRA_RATE_LIMIT": "10"}
    with live_server(database_url, tmp_path, **env) as a, live_server(database_url, tmp_path, **env) as b:
        token = _token(a.url, hammered, hammered_secret)
        headers = {"Authorization": f"Bearer {token}"}
        with a.client() as ca, b.client() as cb:
            for _attempt in range(3):
                time.sleep(1.1)  # an empty window
                start = time.monotonic()
                codes = [(ca if i % 2 else cb).get(f"{API}/org/users", headers=headers).status_code for i in range(11)]
                if time.monotonic() - start < 1.0:
                    break
            else:
                pytest.skip("the machine was too slow to send 11 requests within one second")
            assert codes == [200] * 10 + [429], codes
            quiet_headers = {"Authorization": f"Bearer {_token(b.url, quiet, quiet_secret)}"}
            assert ca.get(f"{API}/org/users", headers=quiet_headers).status_code == 200
            assert cb.get(f"{API}/org/users", headers=quiet_headers).status_code == 200


def test_rotation_by_the_cli_reaches_every_server_within_two_seconds(
    database_url: str, db: Session, tmp_path: Path
) -> None:
    client_id, secret = _pair(db)
    with live_server(database_url, tmp_path) as a, live_server(database_url, tmp_path) as b:
        headers = {"Authorization": f"Bearer {_token(a.url, client_id, secret)}"}
        with a.client() as ca, b.client() as cb:
            assert ca.get(f"{API}/org/users", headers=headers).status_code == 200
            assert cb.get(f"{API}/org/users", headers=headers).status_code == 200
            rotated = subprocess.run(
                [sys.executable, "-m", "openmira.cli", "credentials", "rotate", client_id, "--json"],
                env=server_env(database_url), capture_output=True, text=True, check=True,
            )
            done = time.monotonic()
            new_secret = json.loads(rotated.stdout)["client_secret"]
            for http in (ca, cb):
                while http.get(f"{API}/org/users", headers=headers).status_code != 401:
                    assert time.monotonic() - done < 2.0, "revocation not seen within 2 s"
                    time.sleep(0.05)
            fresh = {"Authorization": f"Bearer {_token(b.url, client_id, new_secret)}"}
            assert ca.get(f"{API}/org/users", headers=fresh).status_code == 200


def test_server_log_never_shows_a_secret(database_url: str, db: Session, tmp_path: Path) -> None:
    client_id, secret = _pair(db)
    with live_server(database_url, tmp_path, log_level="debug") as server:
        token = _token(server.url, client_id, secret)
        with server.client() as http:
            http.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"})
            http.post("/oauth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                            "client_secret": "wrong-" + secret})
    log = server.log.read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [e for e in lines if e["logger"] == "openmira.request" and not e["path"].endswith("/health")]
    assert [(e["method"], e["path"], e["status"]) for e in requests] == [
        ("POST", "/oauth/token", 200), ("GET", f"{API}/org/users", 200), ("POST", "/oauth/token", 401)
    ]
    assert requests[1]["client_id"] == client_id and all(len(e["request_id"]) == 32 for e in requests)
    assert secret not in log and token not in log
