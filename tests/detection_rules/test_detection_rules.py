"""Detection rules under /org and /msp/accounts/{account_id}, and the MSP-only basis catalog."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from openmira.detection_rules.models import BasisDetectionRule, DetectionRule
from openmira.orgs.models import Organization
from openmira.orgs.service import create_org
from tests.helpers import API, Tenant, assert_problem, make_tenant

RULES = f"{API}/org/detection-rules"
BASIS = f"{API}/msp/basis-detection-rules"
T0 = datetime(2026, 5, 1, tzinfo=UTC)
RULE_FIELDS = {
    "id", "name", "org_id", "status", "status_label", "priority", "type_name", "description", "basis_rule_id",
    "created", "modified",
}
# (name, type, priority, status in the tenant)
SPECS = [
    ("Possible Kerberoasting Activity", 10, 1, 1),
    ("Password spray against Azure AD", 20, 2, 1),
    ("RDP exposed to the internet", 30, 3, 5),
    ("Backup job failed", 40, 3, 0),
    ("Sensor offline", 50, 4, 1),
]


def _catalog(db: Session) -> list[BasisDetectionRule]:
    basis = [
        BasisDetectionRule(name=name, type=type_, priority=prio, description=f"Detects {name.lower()}.",
                           created=T0 + timedelta(days=i), modified=T0 + timedelta(days=i))
        for i, (name, type_, prio, _) in enumerate(SPECS)
    ]
    db.add_all(basis)
    db.flush()
    return basis


def _derive(db: Session, org_id: uuid.UUID, basis: list[BasisDetectionRule]) -> list[DetectionRule]:
    rules = [
        DetectionRule(org_id=org_id, basis_rule_id=b.id, name=b.name, type=b.type, priority=b.priority,
                      description=b.description, status=spec[3], created=T0 + timedelta(days=10, hours=i),
                      modified=T0 + timedelta(days=10, hours=i))
        for i, (b, spec) in enumerate(zip(basis, SPECS, strict=True))
    ]
    db.add_all(rules)
    db.commit()
    return rules


@pytest.fixture
def world(db: Session, tenant: Tenant, other_tenant: Tenant) -> dict[str, Any]:
    basis = _catalog(db)
    mine, theirs = _derive(db, tenant.org_id, basis), _derive(db, other_tenant.org_id, basis)
    return {"basis": basis, "mine": mine, "theirs": theirs}


def _walk(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    body = client.get(url, headers=headers, params=params).json()
    items = list(body["data"])
    while body["links"]["next"]:
        body = client.get(body["links"]["next"], headers=headers).json()
        items += body["data"]
    return items


def test_list_is_scoped_complete_and_shaped(client: TestClient, tenant: Tenant, world: dict[str, Any]) -> None:
    response = client.get(RULES, headers=tenant.ro.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"] == {"page": 1, "page_size": 50, "total_items": 5, "total_pages": 1}
    assert [r["name"] for r in body["data"]] == [s[0] for s in reversed(SPECS)]  # created;desc
    by_name = {r["name"]: r for r in body["data"]}
    for rule, basis in zip(world["mine"], world["basis"], strict=True):
        item = by_name[rule.name]
        assert set(item) == RULE_FIELDS and item["org_id"] == str(tenant.org_id)
        assert item["basis_rule_id"] == str(basis.id) and item["id"] == str(rule.id)
    assert by_name["Possible Kerberoasting Activity"]["type_name"] == "Threat"
    assert by_name["Sensor offline"]["type_name"] == "System Notification"
    labels = {r["status"]: r["status_label"] for r in body["data"]}
    assert labels == {0: "Not Deployed", 1: "Enabled", 5: "Disabled"}


@pytest.mark.parametrize("order_by", ["name", "priority;desc", "status,name;desc", "modified"])
def test_pages_cover_every_rule_once(
    client: TestClient, tenant: Tenant, world: dict[str, Any], order_by: str
) -> None:
    items = _walk(client, RULES, tenant.rw.headers, order_by=order_by, page_size=2)
    assert len({i["id"] for i in items}) == len(items) == 5
    if order_by == "name":
        assert [i["name"] for i in items] == sorted(s[0] for s in SPECS)


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"status": 1}, {"Possible Kerberoasting Activity", "Password spray against Azure AD", "Sensor offline"}),
        ({"status": 0}, {"Backup job failed"}),
        ({"priority": 3}, {"RDP exposed to the internet", "Backup job failed"}),
        ({"type_name": "Risk"}, {"RDP exposed to the internet"}),
        ({"status": 1, "priority": 4}, {"Sensor offline"}),
        ({"type_name": "Threat", "status": 5}, set()),
    ],
)
def test_filters(
    client: TestClient, tenant: Tenant, world: dict[str, Any], params: dict[str, Any], names: set[str]
) -> None:
    body = client.get(RULES, headers=tenant.rw.headers, params=params).json()
    assert {r["name"] for r in body["data"]} == names and body["meta"]["total_items"] == len(names)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"status": 2}, "status"),
        ({"status": "enabled"}, "status"),
        ({"priority": 0}, "priority"),
        ({"priority": 6}, "priority"),
        ({"type_name": "threat"}, "type_name"),
        ({"order_by": "type"}, "order_by"),
        ({"page_size": 0}, "page_size"),
    ],
)
def test_bad_filters_are_400(
    client: TestClient, tenant: Tenant, world: dict[str, Any], params: dict[str, Any], param: str
) -> None:
    assert_problem(client.get(RULES, headers=tenant.rw.headers, params=params), 400, param)


def test_rule_by_id_and_foreign_ids(client: TestClient, tenant: Tenant, world: dict[str, Any]) -> None:
    rule = world["mine"][2]
    response = client.get(f"{RULES}/{rule.id}", headers=tenant.ro.headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"status", "data"}
    data = response.json()["data"]
    assert set(data) == RULE_FIELDS
    assert data["name"] == "RDP exposed to the internet" and data["status"] == 5 and data["priority"] == 3
    assert datetime.fromisoformat(data["created"]) == rule.created
    assert_problem(client.get(f"{RULES}/{world['theirs'][2].id}", headers=tenant.rw.headers), 404)
    assert_problem(client.get(f"{RULES}/{uuid.uuid4()}", headers=tenant.rw.headers), 404)
    # A basis rule's ID is not an organization rule's.
    assert_problem(client.get(f"{RULES}/{world['basis'][0].id}", headers=tenant.rw.headers), 404)
    assert_problem(client.get(f"{RULES}/not-a-uuid", headers=tenant.rw.headers), 400, "rule_id")


def test_basis_rules_are_for_msp_keys_only(
    client: TestClient, db: Session, tenant: Tenant, world: dict[str, Any]
) -> None:
    msp = make_tenant(db, client, "MSP", msp=True)
    body = client.get(BASIS, headers=msp.ro.headers, params={"order_by": "created"}).json()
    assert body["meta"]["total_items"] == 5
    assert [b["id"] for b in body["data"]] == [str(b.id) for b in world["basis"]]
    for item in body["data"]:
        assert set(item) == RULE_FIELDS - {"org_id"} and item["basis_rule_id"] is None
    one = client.get(f"{BASIS}/{world['basis'][0].id}", headers=msp.ro.headers)
    assert one.status_code == 200 and one.json()["data"]["type_name"] == "Threat"
    assert one.json()["data"]["description"] == "Detects possible kerberoasting activity."
    assert_problem(client.get(f"{BASIS}/{uuid.uuid4()}", headers=msp.ro.headers), 404)
    assert_problem(client.get(f"{BASIS}/{world['mine'][0].id}", headers=msp.ro.headers), 404)
    assert_problem(client.get(f"{BASIS}/nope", headers=msp.ro.headers), 400, "rule_id")
    for url in (BASIS, f"{BASIS}/{world['basis'][0].id}"):
        assert_problem(client.get(url, headers=tenant.rw.headers), 403)
        assert_problem(client.get(url), 401)


@pytest.fixture
def sub_accounts(db: Session) -> Iterator[list[uuid.UUID]]:
    made: list[uuid.UUID] = []
    yield made
    db.rollback()
    db.execute(delete(Organization).where(Organization.id.in_(made)))
    db.commit()


def test_msp_reads_a_sub_accounts_rules_and_not_a_siblings(
    client: TestClient, db: Session, world: dict[str, Any], sub_accounts: list[uuid.UUID]
) -> None:
    msp = make_tenant(db, client, "MSP", msp=True)
    subs = [create_org(db, name, parent_id=msp.org_id) for name in ("Sub One", "Sub Two")]
    db.commit()
    sub_accounts.extend(s.id for s in subs)
    mine, sibling = (_derive(db, s.id, world["basis"]) for s in subs)
    base = f"{API}/msp/accounts/{subs[0].id}/detection-rules"
    items = _walk(client, base, msp.ro.headers, page_size=2, status=1)
    assert {i["id"] for i in items} == {str(r.id) for r in mine if r.status == 1}
    assert client.get(f"{base}/{mine[0].id}", headers=msp.ro.headers).json()["data"]["org_id"] == str(subs[0].id)
    assert_problem(client.get(f"{base}/{sibling[0].id}", headers=msp.ro.headers), 404)
    assert_problem(client.get(f"{base}/{world['mine'][0].id}", headers=msp.ro.headers), 404)
    org_key = make_tenant(db, client, "Plain").rw.headers
    assert_problem(client.get(base, headers=org_key), 403)


def test_operation_ids(client: TestClient) -> None:
    schema = client.get(f"{API}/openapi.json").json()
    ops = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {
        "api.controller.direct_org.get_detection_rules_by_org", "api.controller.direct_org.get_detection_rule",
        "api.controller.msp.get_detection_rules_by_account", "api.controller.msp.get_detection_rule_by_account",
        "api.controller.msp.get_msp_detection_rules", "api.controller.msp.get_msp_detection_rule",
        "api.controller.direct_org.get_action_catalog", "api.controller.direct_org.dispatch_action_endpoint",
        "api.controller.direct_org.get_action_status",
        "api.controller.msp.dispatch_account_agent_action", "api.controller.msp.get_account_agent_action",
    } <= ops
    assert "/msp/accounts/{account_id}/agents/actions" not in schema["paths"]  # the contract lists no MSP catalog
    dispatch = schema["paths"]["/org/agents/devices/{device_id}/actions"]["post"]
    assert {"202", "409", "403", "404", "400"} <= set(dispatch["responses"])
