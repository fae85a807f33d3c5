"""Finding writes queue one delivery per subscribed, enabled endpoint, in the write's own transaction;
an MSP's endpoints hear its licensed sub-accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.orgs.models import License
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from openmira.webhooks.events import emit, stored_body
from openmira.webhooks.models import WebhookDelivery
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant, assert_problem, make_tenant
from tests.webhooks.conftest import create_webhook


def _deliveries(db: Session, endpoint_id: str) -> list[WebhookDelivery]:
    db.expire_all()
    return list(db.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == uuid.UUID(endpoint_id))))


def _write(client: TestClient, tenant: Tenant, finding_id: uuid.UUID, kind: str, prefix: str = "/org"):  # type: ignore[no-untyped-def]
    base = f"{API}{prefix}/findings/{finding_id}"
    if kind == "resolve":
        return client.post(f"{base}/resolve", json={"resolution": 20}, headers=tenant.rw.headers)
    if kind == "assign":
        body = {"owner_type": "analyst", "owners": [str(tenant.analyst_id)]}
        return client.post(f"{base}/assign", json=body, headers=tenant.rw.headers)
    return client.post(f"{base}/comments", json={"body": "<p>seen</p>", "sender": str(tenant.admin_id)},
                       headers=tenant.rw.headers)


EVENT_OF = {"resolve": "finding.resolved", "assign": "finding.updated", "comment": "finding.comment_added"}


@pytest.mark.parametrize("kind", ["resolve", "assign", "comment"])
def test_each_write_queues_exactly_one_delivery_per_subscribed_endpoint(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session, kind: str
) -> None:
    finding = make_finding(db, tenant.org_id)
    db.commit()
    event = EVENT_OF[kind]
    subscribed = [create_webhook(client, tenant.rw, f"https://s{i}.example.com/", [event, "ping"]) for i in range(2)]
    other_events = create_webhook(client, tenant.rw, "https://o.example.com/", [e for e in EVENT_OF.values()
                                                                                   if e != event])
    disabled = create_webhook(client, tenant.rw, "https://d.example.com/", [event], enabled=False)
    foreign = create_webhook(client, other_tenant.rw, "https://f.example.com/", list(EVENT_OF.values()))

    response = _write(client, tenant, finding.id, kind)
    assert response.status_code in (200, 201), response.text

    for endpoint in subscribed:
        (delivery,) = _deliveries(db, endpoint["id"])
        assert delivery.event == event and delivery.status == "pending"
        body = stored_body(db, delivery)
        assert set(body) == {"id", "event", "created", "org_id", "data"}
        assert body["id"] == str(delivery.id) and body["org_id"] == str(tenant.org_id)
        assert body["data"]["finding"]["finding_id"] == str(finding.id)
    for endpoint in (other_events, disabled, foreign):
        assert _deliveries(db, endpoint["id"]) == []
    data = stored_body(db, _deliveries(db, subscribed[0]["id"])[0])["data"]
    if kind == "resolve":
        assert data["finding"]["status"] == 40 and data["finding"]["resolution"] == 20
    elif kind == "assign":
        assert data["change"] == {"owner_type": "analyst", "owners": [str(tenant.analyst_id)]}
    else:
        assert data["comment"]["body"] == "<p>seen</p>" and data["comment"]["sender"]["id"] == str(tenant.admin_id)


def test_a_failed_write_queues_nothing(client: TestClient, tenant: Tenant, db: Session) -> None:
    finding = make_finding(db, tenant.org_id)
    db.commit()
    endpoint = create_webhook(client, tenant.rw, "https://s.example.com/", list(EVENT_OF.values()))
    stranger = str(uuid.uuid4())
    failures = [
        client.post(f"{API}/org/findings/{finding.id}/resolve", json={"resolution": 99}, headers=tenant.rw.headers),
        client.post(f"{API}/org/findings/{finding.id}/assign", json={"owner_type": "analyst", "owners": [stranger]},
                    headers=tenant.rw.headers),
        client.post(f"{API}/org/findings/{finding.id}/comments", json={"body": "x", "sender": stranger},
                    headers=tenant.rw.headers),
        client.post(f"{API}/org/findings/{finding.id}/resolve", json={"resolution": 20}, headers=tenant.ro.headers),
    ]
    assert [r.status_code for r in failures] == [400, 400, 400, 403]
    assert _deliveries(db, endpoint["id"]) == []


def test_a_rolled_back_transaction_takes_its_deliveries_with_it(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    endpoint = create_webhook(client, tenant.rw, "https://s.example.com/", ["finding.created"])
    emit(db, tenant.org_id, "finding.created", {"finding": {"finding_id": "x"}})
    assert len(_pending_in_session(db)) == 1
    db.rollback()
    assert _deliveries(db, endpoint["id"]) == []
    emit(db, tenant.org_id, "finding.created", lambda: {"finding": {"finding_id": "y"}})
    db.commit()
    (delivery,) = _deliveries(db, endpoint["id"])
    assert stored_body(db, delivery)["data"] == {"finding": {"finding_id": "y"}}


def _pending_in_session(db: Session) -> list[WebhookDelivery]:
    return list(db.scalars(select(WebhookDelivery)))


@dataclass
class Msp:
    msp: Tenant
    licensed: uuid.UUID
    free: uuid.UUID
    users: dict[uuid.UUID, uuid.UUID]


def _msp(db: Session, client: TestClient, name: str) -> Msp:
    msp = make_tenant(db, client, name, msp=True)
    users = {}
    orgs = []
    for suffix, lic in (("licensed", License.ADVANCED), ("free", License.FREE)):
        org = create_org(db, f"{name} {suffix}", parent_id=msp.org_id, license=lic)
        users[org.id] = create_user(db, org.id, f"{suffix}-{uuid.uuid4().hex[:6]}@example.com",
                                    roles=[Role.RESPONDER]).id
        orgs.append(org.id)
    db.commit()
    return Msp(msp, orgs[0], orgs[1], users)


def test_an_msps_endpoints_hear_its_licensed_sub_accounts_only(client: TestClient, db: Session) -> None:
    a, b = _msp(db, client, "MSP A"), _msp(db, client, "MSP B")
    events = list(EVENT_OF.values())
    msp_a_hook = create_webhook(client, a.msp.rw, "https://a.example.com/", events, prefix="/msp")
    msp_b_hook = create_webhook(client, b.msp.rw, "https://b.example.com/", events, prefix="/msp")
    licensed, free = make_finding(db, a.licensed), make_finding(db, a.free)
    db.commit()
    for finding, account in ((licensed, a.licensed), (free, a.free)):
        prefix = f"/msp/accounts/{account}"
        assert _write(client, a.msp, finding.id, "resolve", prefix).status_code == 200
        body = {"body": "<p>ok</p>", "sender": str(a.users[account])}
        response = client.post(f"{API}{prefix}/findings/{finding.id}/comments", json=body, headers=a.msp.rw.headers)
        assert response.status_code == 201, response.text
    got = _deliveries(db, msp_a_hook["id"])
    assert sorted(d.event for d in got) == ["finding.comment_added", "finding.resolved"]
    assert {stored_body(db, d)["org_id"] for d in got} == {str(a.licensed)}
    assert _deliveries(db, msp_b_hook["id"]) == []


def test_org_and_msp_webhooks_are_separate(client: TestClient, tenant: Tenant, db: Session) -> None:
    a = _msp(db, client, "MSP A")
    msp_hook = create_webhook(client, a.msp.rw, "https://a.example.com/", prefix="/msp")
    org_hook = create_webhook(client, tenant.rw, "https://o.example.com/")
    org_list = client.get(f"{API}/org/webhooks", headers=tenant.rw.headers).json()["data"]
    assert [w["id"] for w in org_list] == [org_hook["id"]]
    msp_list = client.get(f"{API}/msp/webhooks", headers=a.msp.rw.headers).json()["data"]
    assert [w["id"] for w in msp_list] == [msp_hook["id"]]
    assert_problem(client.get(f"{API}/msp/webhooks", headers=tenant.rw.headers), 403)
    assert_problem(client.post(f"{API}/msp/webhooks/{msp_hook['id']}/test", headers=tenant.rw.headers), 403)
    assert_problem(client.get(f"{API}/org/webhooks/{msp_hook['id']}", headers=tenant.rw.headers), 404)
    assert_problem(client.get(f"{API}/msp/webhooks/{org_hook['id']}", headers=a.msp.rw.headers), 404)
    assert client.get(f"{API}/msp/webhooks", headers=a.msp.ro.headers).status_code == 200
    assert_problem(client.delete(f"{API}/msp/webhooks/{msp_hook['id']}", headers=a.msp.ro.headers), 403)


def test_emit_refuses_an_unknown_event(db: Session, tenant: Tenant) -> None:
    with pytest.raises(ValueError, match="unknown webhook event"):
        emit(db, tenant.org_id, "finding.exploded", {})
