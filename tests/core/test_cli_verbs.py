"""The admin CLI's lifecycle verbs, run as a user runs them: a separate process against the same database."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.cli import app
from openmira.config import get_settings
from tests.console.helpers import C, sign_in
from tests.core.test_cli import as_json, openmira
from tests.helpers import API, get_token


def test_orgs_rename_and_delete(database_url: str, db: Session, client: TestClient) -> None:
    org = as_json(database_url, "orgs", "create", "--name", "Old name")
    user = as_json(database_url, "users", "create", "--org", org["id"], "--email", "o@example.com")
    pair = as_json(database_url, "credentials", "create", "--org", org["id"])
    token = get_token(client, pair["client_id"], pair["client_secret"])

    assert as_json(database_url, "orgs", "rename", org["id"], "--name", " New name ")["name"] == "New name"
    refused = openmira(database_url, "orgs", "delete", org["id"], ok=False)  # no --yes, nobody to say yes
    assert refused.returncode != 0 and org["id"] in {o["id"] for o in as_json(database_url, "orgs", "list")}

    assert as_json(database_url, "orgs", "delete", org["id"], "--yes") == {"id": org["id"], "deleted": True}
    assert org["id"] not in {o["id"] for o in as_json(database_url, "orgs", "list")}
    assert openmira(database_url, "users", "disable", user["id"], ok=False).returncode == 1
    assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_msp_is_deleted_only_without_sub_accounts(database_url: str, db: Session) -> None:
    msp = as_json(database_url, "orgs", "create", "--name", "MSP", "--msp")
    sub = as_json(database_url, "orgs", "create", "--name", "Customer", "--parent", msp["id"])
    refused = openmira(database_url, "orgs", "delete", msp["id"], "--yes", ok=False)
    assert refused.returncode == 1 and "1 sub-account" in refused.stderr and "Traceback" not in refused.stderr
    as_json(database_url, "orgs", "delete", sub["id"], "--yes")
    as_json(database_url, "orgs", "delete", msp["id"], "--yes")


def test_disabled_users_cannot_sign_in_and_deleted_users_are_gone(
    database_url: str, db: Session, client: TestClient
) -> None:
    org = as_json(database_url, "orgs", "create", "--name", "Org")
    # --password-stdin: the password never appears on a command line.
    user = openmira(database_url, "users", "create", "--org", org["id"], "--email", "d@example.com",
                    "--role", "administrator", "--password-stdin", "--json", stdin="long enough password\n")
    assert '"has_password": true' in user.stdout
    assert sign_in(client, "d@example.com", "long enough password").status_code == 303
    assert client.get(f"{C}/settings/organization", follow_redirects=False).status_code == 200

    assert as_json(database_url, "users", "disable", "D@example.com")["disabled"] is True
    # The open session ends, and signing in again is refused like a wrong password.
    assert client.get(f"{C}/settings/organization", follow_redirects=False).status_code == 303
    assert sign_in(client, "d@example.com", "long enough password").status_code == 401
    listed = as_json(database_url, "users", "list", "--org", org["id"])
    assert [u["disabled"] for u in listed] == [True]

    enabled = as_json(database_url, "users", "enable", listed[0]["id"])
    assert enabled["disabled"] is False
    assert sign_in(client, "d@example.com", "long enough password").status_code == 303

    assert as_json(database_url, "users", "delete", "d@example.com", "--yes")["deleted"] is True
    assert as_json(database_url, "users", "list", "--org", org["id"]) == []
    missing = openmira(database_url, "users", "delete", "d@example.com", "--yes", ok=False)
    assert missing.returncode == 1 and "no user d@example.com" in missing.stderr


def test_keys_list_shows_the_signing_key_and_retired_ones(database_url: str, db: Session) -> None:
    before = {k["kid"]: k["state"] for k in as_json(database_url, "keys", "list")}
    assert "signing" in before.values()
    new = as_json(database_url, "keys", "rotate")["kid"]
    keys = {k["kid"]: k for k in as_json(database_url, "keys", "list")}
    assert keys[new]["state"] == "signing" and keys[new]["retired"] is None
    # The key table outlives a test (tests/conftest.py): a key an earlier test revoked stays revoked; every
    # other one, the one that signed until now included, is published.
    expected = {kid: "revoked" if state == "revoked" else "published" for kid, state in before.items()}
    assert {kid: k["state"] for kid, k in keys.items() if kid != new} == expected


def test_db_current_and_upgrade(database_url: str, db: Session) -> None:
    current = as_json(database_url, "db", "current")
    assert current["revision"] == current["head"] and current["up_to_date"] is True
    assert as_json(database_url, "db", "upgrade")["revision"] == current["head"]


def test_password_prompt_hides_the_password(
    database_url: str, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    monkeypatch.setenv("OPENMIRA_DATABASE_URL", database_url)
    monkeypatch.setattr("openmira.cli.users.interactive", lambda: True)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        org = runner.invoke(app, ["orgs", "create", "--name", "Prompted", "--json"])
        org_id = json.loads(org.stdout)["id"]
        created = runner.invoke(app, ["users", "create", "--org", org_id, "--email", "p@example.com"],
                                input="s3cret-password\ns3cret-password\n")
        assert created.exit_code == 0, created.output
        assert "s3cret-password" not in created.output and "Console password" in created.output
        differ = runner.invoke(app, ["users", "set-password", "--email", "p@example.com"], input="one-password\ntwo\n")
        assert differ.exit_code == 1 and "differ" in differ.output
    finally:
        get_settings.cache_clear()
