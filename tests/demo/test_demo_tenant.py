"""`openmira demo`'s tenant: working, stable credentials for an organization and an MSP with sub-accounts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.config import Settings
from openmira.demo.banner import banner
from openmira.demo.tenant import DEMO_MSP_ID, DEMO_ORG_ID, ensure_demo_tenant
from tests.helpers import API, get_token


def test_demo_credentials_are_stable_and_work(client: TestClient, db: Session, tmp_path: Path) -> None:
    first = ensure_demo_tenant(db, tmp_path)
    db.commit()
    again = ensure_demo_tenant(db, tmp_path)
    db.commit()
    assert [(c.client_id, c.client_secret) for c in first] == [(c.client_id, c.client_secret) for c in again]
    assert {c.name for c in first} == {"org-rw", "org-ro", "msp-rw"}
    assert (tmp_path / "demo-credentials.json").stat().st_mode & 0o077 == 0
    for cred in first:
        token = get_token(client, cred.client_id, cred.client_secret)
        path = "/msp/accounts" if cred.name == "msp-rw" else "/org/users"
        assert client.get(f"{API}{path}", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    text = banner(Settings(), first)
    assert all(c.client_id in text and c.client_secret in text for c in first)
    assert "/oauth/token" in text and "/public-api/v1/ui/" in text


def test_demo_msp_has_licensed_and_free_sub_accounts(client: TestClient, db: Session, tmp_path: Path) -> None:
    creds = {c.name: c for c in ensure_demo_tenant(db, tmp_path)}
    db.commit()
    msp = creds["msp-rw"]
    assert msp.org_id == str(DEMO_MSP_ID) != str(DEMO_ORG_ID)
    headers = {"Authorization": f"Bearer {get_token(client, msp.client_id, msp.client_secret)}"}
    accounts = client.get(f"{API}/msp/accounts", headers=headers).json()["data"]
    assert len(accounts) >= 3
    licenses = {
        a["account_id"]: client.get(f"{API}/msp/accounts/{a['account_id']}", headers=headers).json()["data"]["license"]
        for a in accounts
    }
    free = {account for account, license in licenses.items() if license == "FREE"}
    assert len(free) == 1 and len(licenses) - len(free) >= 2
    assert all(a["open_findings"] >= 0 for a in accounts)
    findings = client.get(f"{API}/msp/accounts/findings?limit=5000", headers=headers).json()
    seen = {f["org_id"] for f in findings["data"]}
    assert findings["meta"]["total_items"] > 0 and seen and not seen & free
    assert seen <= set(licenses)


def test_demo_has_a_disabled_webhook_with_past_deliveries(client: TestClient, db: Session, tmp_path: Path) -> None:
    creds = {c.name: c for c in ensure_demo_tenant(db, tmp_path)}
    db.commit()
    ensure_demo_tenant(db, tmp_path)  # idempotent
    db.commit()
    org = creds["org-rw"]
    headers = {"Authorization": f"Bearer {get_token(client, org.client_id, org.client_secret)}"}
    (hook,) = client.get(f"{API}/org/webhooks", headers=headers).json()["data"]
    assert hook["enabled"] is False and hook["url"].startswith("http://127.0.0.1:")
    deliveries = client.get(f"{API}/org/webhooks/{hook['id']}/deliveries", headers=headers).json()["data"]
    assert sorted(d["status"] for d in deliveries) == ["failed", "succeeded"]
    rotated = client.post(f"{API}/org/webhooks/{hook['id']}/rotate-secret", headers=headers)
    assert rotated.status_code == 200 and rotated.json()["data"]["secret"].startswith("whsec_")


def test_demo_reset_replaces_only_the_demo_tenant(client: TestClient, db: Session, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from openmira.demo.banner import banner_json
    from openmira.demo.tenant import reset_demo_tenant
    from openmira.findings.models import Finding
    from openmira.orgs.service import create_org

    bystander = create_org(db, "Not the demo")
    first = {c.name: c for c in ensure_demo_tenant(db, tmp_path)}
    db.commit()
    reset_demo_tenant(db, tmp_path)
    db.commit()
    assert not (tmp_path / "demo-credentials.json").exists()
    again = {c.name: c for c in ensure_demo_tenant(db, tmp_path)}
    db.commit()
    assert again["org-rw"].client_secret != first["org-rw"].client_secret
    org = again["org-rw"]
    headers = {"Authorization": f"Bearer {get_token(client, org.client_id, org.client_secret)}"}
    # The unfiltered total comes from the trigger-kept count: it must not carry the deleted findings.
    total = client.get(f"{API}/org/findings?limit=1", headers=headers).json()["meta"]["total_items"]
    assert total == db.scalar(select(func.count()).select_from(Finding).where(Finding.org_id == DEMO_ORG_ID))
    assert db.get(type(bystander), bystander.id) is not None
    facts = banner_json(Settings(), list(again.values()))
    assert {c["client_id"] for c in facts["credentials"]} == {c.client_id for c in again.values()}  # type: ignore[union-attr]
