"""The test factories on both databases: what they create is what the API then shows."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openmira.findings.models import Finding
from openmira.orgs.models import Organization
from openmira.testing import factories
from tests.helpers import API, get_token


def _get(client: TestClient, pair: factories.KeyPairInfo, path: str) -> dict:
    token = get_token(client, pair.client_id, pair.client_secret)
    response = client.get(f"{API}{path}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_an_org_in_one_call(db: Session, client: TestClient) -> None:
    org = factories.create_org(db, "Factory Org", users=5, findings=40)
    db.commit()
    assert org.rw is not None and org.ro is not None and org.findings == 40
    listed = _get(client, org.ro, "/org/findings?page_size=200")
    assert listed["meta"]["total_items"] == 40
    assert {f["type_name"] for f in listed["data"]} <= {"Threat", "Suspect", "Risk", "Operational",
                                                        "System Notification"}
    users = _get(client, org.rw, "/org/users")
    assert sorted(u["email"] for u in users["data"]) == sorted(u.email for u in org.users)
    assert org.users[0].roles == ["administrator"]
    assert _get(client, org.rw, "/org/agents/devices")["meta"]["total_items"] > 0
    token = get_token(client, org.ro.client_id, org.ro.client_secret)
    first = listed["data"][0]["finding_id"]
    denied = client.post(f"{API}/org/findings/{first}/resolve", json={"resolution": 10},
                         headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403


def test_more_findings_add_up_with_unique_short_ids(db: Session) -> None:
    org = factories.create_org(db, findings=10)
    assert factories.add_findings(db, org.id, 25) == 35
    db.commit()
    org_id = uuid.UUID(org.id)
    rows = db.execute(select(Finding.short_id).where(Finding.org_id == org_id)).scalars().all()
    assert len(rows) == len(set(rows)) == 35


def test_an_msp_with_licensed_and_free_accounts(db: Session, client: TestClient) -> None:
    msp = factories.create_msp(db, "Factory MSP", accounts=2, free_accounts=1, findings=6)
    db.commit()
    assert [a.license for a in msp.accounts] == ["ADVANCED", "ADVANCED", "FREE"]
    accounts = _get(client, msp.rw, "/msp/accounts")
    assert sorted(a["account_id"] for a in accounts["data"]) == sorted(a.id for a in msp.accounts)
    assert _get(client, msp.ro, "/msp/accounts/findings")["meta"]["total_items"] == 12


def test_reset_removes_every_tenant_and_their_key_pairs(db: Session, client: TestClient) -> None:
    org = factories.create_org(db, findings=5)
    factories.create_msp(db, accounts=1)
    db.commit()
    factories.reset(db)
    db.commit()
    assert db.scalar(select(func.count()).select_from(Organization)) == 0
    refused = client.post("/oauth/token", json={"grant_type": "client_credentials", "client_id": org.rw.client_id,
                                                "client_secret": org.rw.client_secret, "audience": "public-api"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
