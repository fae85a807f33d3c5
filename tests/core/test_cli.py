"""The admin CLI, run as a user runs it: a separate process against the same database."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.helpers import API, get_token
from tests.live import server_env


def openmira(
    database_url: str, *args: str, ok: bool = True, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "openmira.cli", *args], env=server_env(database_url, **{"COLUMNS": "200", **env}),
        input=stdin, capture_output=True, text=True, timeout=60,
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def as_json(database_url: str, *args: str) -> Any:
    return json.loads(openmira(database_url, *args, "--json").stdout)


def test_organizations_users_and_key_pairs_round_trip(database_url: str, db: Session, client: TestClient) -> None:
    msp = as_json(database_url, "orgs", "create", "--name", "Big MSP", "--msp")
    sub = as_json(database_url, "orgs", "create", "--name", "Customer One", "--parent", msp["id"], "--license", "FREE")
    assert sub["parent_id"] == msp["id"] and sub["license"] == "FREE"
    listed = as_json(database_url, "orgs", "list")
    assert {(o["id"], o["name"]) for o in listed} >= {(msp["id"], "Big MSP"), (sub["id"], "Customer One")}

    user = as_json(database_url, "users", "create", "--org", sub["id"], "--email", "Pat@Example.com",
                   "--first-name", "Pat", "--role", "administrator", "--password", "correct horse")
    assert user["email"] == "pat@example.com" and user["roles"] == ["administrator"]
    assert [u["id"] for u in as_json(database_url, "users", "list", "--org", sub["id"])] == [user["id"]]

    created = as_json(database_url, "credentials", "create", "--org", sub["id"], "--label", "SIEM sync", "--read-only")
    assert len(created["client_id"]) == 32 and len(created["client_secret"]) == 64 and created["access"] == "ro"
    token = get_token(client, created["client_id"], created["client_secret"])
    assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    listed_pairs = as_json(database_url, "credentials", "list", "--org", sub["id"])
    assert [p["client_id"] for p in listed_pairs] == [created["client_id"]]
    assert "client_secret" not in listed_pairs[0] and listed_pairs[0]["label"] == "SIEM sync"

    rotated = as_json(database_url, "credentials", "rotate", created["client_id"])
    assert rotated["client_id"] == created["client_id"] and rotated["client_secret"] != created["client_secret"]
    assert client.post("/oauth/token", json={"grant_type": "client_credentials", "client_id": created["client_id"],
                                             "client_secret": created["client_secret"]}).status_code == 401
    get_token(client, created["client_id"], rotated["client_secret"])

    assert as_json(database_url, "credentials", "delete", created["client_id"])["deleted"] is True
    assert as_json(database_url, "credentials", "list", "--org", sub["id"]) == []


def test_a_key_pairs_own_rate_limit_is_set_and_cleared(database_url: str, db: Session, client: TestClient) -> None:
    msp = as_json(database_url, "orgs", "create", "--name", "Dashboards MSP", "--msp")
    created = as_json(database_url, "credentials", "create", "--org", msp["id"], "--rate-limit", "25")
    assert created["rate_limit"] == 25
    token = get_token(client, created["client_id"], created["client_secret"])
    answer = client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.headers["x-ratelimit-limit"] == "25"

    assert as_json(database_url, "credentials", "set-limit", created["client_id"], "250")["rate_limit"] == 250
    assert as_json(database_url, "credentials", "list", "--org", msp["id"])[0]["rate_limit"] == 250
    assert "250/s" in openmira(database_url, "credentials", "list", "--org", msp["id"]).stdout
    assert as_json(database_url, "credentials", "set-limit", created["client_id"], "--clear")["rate_limit"] is None
    assert as_json(database_url, "credentials", "list", "--org", msp["id"])[0]["rate_limit"] is None
    plain = as_json(database_url, "credentials", "create", "--org", msp["id"])
    assert plain["rate_limit"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["credentials", "set-limit", "no-such-client", "5"], "no key pair"),
        (["credentials", "set-limit", "no-such-client"], "either n or --clear"),
        (["credentials", "set-limit", "no-such-client", "5", "--clear"], "either n or --clear"),
        (["credentials", "set-limit", "no-such-client", "0"], "greater than or equal to 1"),
        (["credentials", "create", "--org", "00000000-0000-4000-8000-000000000000", "--rate-limit", "100001"],
         "less than or equal to 100000"),
        (["credentials", "create", "--org", "00000000-0000-4000-8000-000000000000"], "no organization"),
        (["credentials", "rotate", "no-such-client"], "no key pair"),
        (["credentials", "delete", "no-such-client"], "no key pair"),
        (["users", "list", "--org", "00000000-0000-4000-8000-000000000000"], "no organization"),
        (["orgs", "create", "--name", "X", "--parent", "00000000-0000-4000-8000-000000000000"], "no organization"),
        (["credentials", "create", "--org", "not-a-uuid"], "invalid value for '--org'"),
    ],
)
def test_clear_errors(database_url: str, db: Session, args: list[str], message: str) -> None:
    result = openmira(database_url, *args, ok=False)
    assert result.returncode != 0
    assert message in (result.stderr + result.stdout).lower()
    assert "Traceback" not in result.stderr


def test_sub_account_of_a_regular_org_is_refused(database_url: str, db: Session) -> None:
    org = as_json(database_url, "orgs", "create", "--name", "Plain")
    result = openmira(database_url, "orgs", "create", "--name", "Child", "--parent", org["id"], ok=False)
    assert result.returncode == 1 and "not an msp" in result.stderr.lower()


def test_duplicate_email_is_refused(database_url: str, db: Session) -> None:
    org = as_json(database_url, "orgs", "create", "--name", "Org")
    as_json(database_url, "users", "create", "--org", org["id"], "--email", "a@example.com")
    result = openmira(database_url, "users", "create", "--org", org["id"], "--email", "A@example.com", ok=False)
    assert result.returncode == 1 and "already exists" in result.stderr


def test_signing_key_rotation(database_url: str, db: Session) -> None:
    first = as_json(database_url, "keys", "rotate")["kid"]
    second = as_json(database_url, "keys", "rotate")["kid"]
    assert first != second
