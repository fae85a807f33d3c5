"""Agent devices and installation keys (contract sections 6 and 7)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from openmira.agents.models import AgentDevice, AgentKey
from openmira.orgs.models import Organization
from openmira.orgs.service import create_org
from tests.helpers import API, Tenant, assert_problem, make_tenant

DEVICES = f"{API}/org/agents/devices"
KEYS = f"{API}/org/agents/keys"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

DEVICE_FIELDS = {
    "device_id", "hostname", "arch", "plat", "description", "is_domain_controller", "is_excluded", "is_isolated",
    "is_sleeping", "isolation_requested", "key_id", "keyname", "org_id", "alive", "created", "modified",
}
KEY_FIELDS = {"key_id", "description", "agent_count", "agent_seat_count", "org_id", "created", "modified"}


def _fleet(
    db: Session, org_id: uuid.UUID, keys: int = 3, per_key: tuple[int, ...] = (4, 0, 2), loose: int = 1
) -> dict[str, Any]:
    """``keys`` installation keys with ``per_key`` devices each, plus ``loose`` devices without a key."""
    made_keys = [
        AgentKey(org_id=org_id, description=f"Key {i}", agent_seat_count=10 * (i + 1),
                 created=T0 + timedelta(hours=i), modified=T0 + timedelta(hours=i))
        for i in range(keys)
    ]
    db.add_all(made_keys)
    db.flush()
    devices = []
    n = 0
    plats = ["windows", "linux", "macos"]
    for key, count in zip(made_keys, per_key, strict=True):
        for _ in range(count):
            devices.append(AgentDevice(
                org_id=org_id, key_id=key.id, hostname=f"host-{n:02d}", plat=plats[n % 3],
                arch="arm64" if n % 3 == 2 else "x86_64", created=T0 + timedelta(minutes=n % 3),
                modified=T0, alive=T0 + timedelta(days=1), is_domain_controller=n == 0,
            ))
            n += 1
    for _ in range(loose):
        devices.append(AgentDevice(org_id=org_id, key_id=None, hostname=f"host-{n:02d}", created=T0, modified=T0))
        n += 1
    db.add_all(devices)
    db.commit()
    return {"keys": made_keys, "devices": devices}


@pytest.fixture
def fleet(db: Session, tenant: Tenant, other_tenant: Tenant) -> dict[str, Any]:
    mine = _fleet(db, tenant.org_id)
    mine["foreign"] = _fleet(db, other_tenant.org_id, keys=1, per_key=(2,), loose=0)
    return mine


def _walk(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    body = client.get(url, headers=headers, params=params).json()
    items += body["data"]
    while body["links"]["next"]:
        response = client.get(body["links"]["next"], headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["data"]
    return items


def test_devices_list_is_scoped_and_complete(client: TestClient, tenant: Tenant, fleet: dict[str, Any]) -> None:
    response = client.get(DEVICES, headers=tenant.rw.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "OK"
    assert body["meta"] == {"page": 1, "page_size": 50, "total_items": 7, "total_pages": 1}
    assert {d["device_id"] for d in body["data"]} == {str(d.id) for d in fleet["devices"]}
    for item in body["data"]:
        assert set(item) == DEVICE_FIELDS
        assert item["org_id"] == str(tenant.org_id)
    by_host = {d["hostname"]: d for d in body["data"]}
    key0 = fleet["keys"][0]
    assert by_host["host-00"]["key_id"] == str(key0.id)
    assert by_host["host-00"]["keyname"] == "Key 0"
    assert by_host["host-00"]["is_domain_controller"] is True
    assert by_host["host-06"]["key_id"] is None and by_host["host-06"]["keyname"] is None


@pytest.mark.parametrize("order_by", ["created;desc", "hostname", "hostname;desc", "plat,created;desc", "arch;desc"])
def test_devices_pages_cover_every_device_once(
    client: TestClient, tenant: Tenant, fleet: dict[str, Any], order_by: str
) -> None:
    items = _walk(client, DEVICES, tenant.rw.headers, order_by=order_by, page_size=2)
    ids = [i["device_id"] for i in items]
    assert len(ids) == len(set(ids)) == 7
    if order_by.startswith("hostname"):
        hosts = [i["hostname"] for i in items]
        assert hosts == sorted(hosts, reverse=order_by.endswith("desc"))


def test_devices_links_and_past_the_end(client: TestClient, tenant: Tenant, fleet: dict[str, Any]) -> None:
    body = client.get(DEVICES, headers=tenant.rw.headers, params={"page_size": 3, "order_by": "hostname"}).json()
    assert body["meta"] == {"page": 1, "page_size": 3, "total_items": 7, "total_pages": 3}
    assert body["links"]["prev"] is None and "page=2" in body["links"]["next"]
    assert [d["hostname"] for d in body["data"]] == ["host-00", "host-01", "host-02"]
    last = client.get(DEVICES, headers=tenant.rw.headers, params={"page_size": 3, "page": 3}).json()
    assert len(last["data"]) == 1 and last["links"]["next"] is None
    past = client.get(DEVICES, headers=tenant.rw.headers, params={"page_size": 3, "page": 9}).json()
    assert past["data"] == [] and past["meta"]["total_items"] == 7


def test_device_by_id(client: TestClient, tenant: Tenant, fleet: dict[str, Any]) -> None:
    device = fleet["devices"][1]
    response = client.get(f"{DEVICES}/{device.id}", headers=tenant.rw.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"status", "data"} and body["status"] == "OK"
    data = body["data"]
    assert set(data) == DEVICE_FIELDS
    assert data["device_id"] == str(device.id)
    assert data["hostname"] == "host-01" and data["plat"] == "linux" and data["keyname"] == "Key 0"
    assert datetime.fromisoformat(data["alive"]) == T0 + timedelta(days=1)


def test_keys_agent_count_matches_devices(client: TestClient, tenant: Tenant, fleet: dict[str, Any]) -> None:
    body = client.get(KEYS, headers=tenant.rw.headers).json()
    assert body["meta"]["total_items"] == 3
    # Default order: newest first.
    assert [k["description"] for k in body["data"]] == ["Key 2", "Key 1", "Key 0"]
    counts = {k["key_id"]: k["agent_count"] for k in body["data"]}
    devices = client.get(DEVICES, headers=tenant.rw.headers).json()["data"]
    for key in fleet["keys"]:
        assert counts[str(key.id)] == sum(1 for d in devices if d["key_id"] == str(key.id))
    assert [counts[str(k.id)] for k in fleet["keys"]] == [4, 0, 2]
    for item in body["data"]:
        assert set(item) == KEY_FIELDS and item["org_id"] == str(tenant.org_id)
    single = client.get(f"{KEYS}/{fleet['keys'][0].id}", headers=tenant.rw.headers)
    assert single.status_code == 200, single.text
    assert single.json()["status"] == "OK"
    assert single.json()["data"]["agent_count"] == 4 and single.json()["data"]["agent_seat_count"] == 10


def test_agent_count_follows_changes(client: TestClient, db: Session, tenant: Tenant, fleet: dict[str, Any]) -> None:
    key1 = fleet["keys"][1]
    db.add_all([AgentDevice(org_id=tenant.org_id, key_id=key1.id, hostname=f"new-{i}") for i in range(3)])
    moved = db.get(AgentDevice, fleet["devices"][0].id)
    assert moved is not None
    moved.key_id = key1.id
    db.commit()
    counts = {k["description"]: k["agent_count"] for k in client.get(KEYS, headers=tenant.rw.headers).json()["data"]}
    assert counts == {"Key 0": 3, "Key 1": 4, "Key 2": 2}


def test_keys_paging_and_order(client: TestClient, tenant: Tenant, fleet: dict[str, Any]) -> None:
    items = _walk(client, KEYS, tenant.rw.headers, order_by="description", page_size=1)
    assert [k["description"] for k in items] == ["Key 0", "Key 1", "Key 2"]
    assert [k["agent_count"] for k in items] == [4, 0, 2]
    assert_problem(client.get(KEYS, headers=tenant.rw.headers, params={"order_by": "nope"}), 400, "order_by")
    assert_problem(client.get(DEVICES, headers=tenant.rw.headers, params={"order_by": "hostname;up"}), 400, "order_by")


def test_foreign_ids_are_404(client: TestClient, tenant: Tenant, fleet: dict[str, Any]) -> None:
    foreign = fleet["foreign"]
    assert_problem(client.get(f"{DEVICES}/{foreign['devices'][0].id}", headers=tenant.rw.headers), 404)
    assert_problem(client.get(f"{KEYS}/{foreign['keys'][0].id}", headers=tenant.rw.headers), 404)
    assert_problem(client.get(f"{DEVICES}/{uuid.uuid4()}", headers=tenant.rw.headers), 404)
    assert_problem(client.get(f"{KEYS}/{uuid.uuid4()}", headers=tenant.rw.headers), 404)


def test_bad_uuid_is_400_naming_the_parameter(client: TestClient, tenant: Tenant, fleet: dict[str, Any]) -> None:
    assert_problem(client.get(f"{DEVICES}/not-a-uuid", headers=tenant.rw.headers), 400, "device_id")
    assert_problem(client.get(f"{KEYS}/1234", headers=tenant.rw.headers), 400, "key_id")
    assert_problem(client.get(DEVICES, headers=tenant.rw.headers, params={"page_size": 0}), 400, "page_size")
    assert_problem(client.get(KEYS, headers=tenant.rw.headers, params={"page_size": 201}), 400, "page_size")


def test_read_only_key_can_read(client: TestClient, tenant: Tenant, fleet: dict[str, Any]) -> None:
    for url in (DEVICES, KEYS, f"{DEVICES}/{fleet['devices'][0].id}", f"{KEYS}/{fleet['keys'][0].id}"):
        response = client.get(url, headers=tenant.ro.headers)
        assert response.status_code == 200, (url, response.text)


def test_no_token_is_401(client: TestClient, fleet: dict[str, Any]) -> None:
    assert_problem(client.get(DEVICES), 401)
    assert_problem(client.get(KEYS), 401)


def test_empty_organization(client: TestClient, other_tenant: Tenant, tenant: Tenant) -> None:
    body = client.get(DEVICES, headers=other_tenant.rw.headers).json()
    assert body["data"] == [] and body["meta"]["total_items"] == 0 and body["meta"]["total_pages"] == 0


@pytest.fixture
def sub_accounts(db: Session) -> Iterator[list[uuid.UUID]]:
    """Sub-accounts made by a test, deleted before their MSP (the shared cleanup deletes in one statement)."""
    made: list[uuid.UUID] = []
    yield made
    db.rollback()
    db.execute(delete(Organization).where(Organization.id.in_(made)))
    db.commit()


def test_msp_reads_a_sub_account(
    client: TestClient, db: Session, tenant: Tenant, sub_accounts: list[uuid.UUID]
) -> None:
    msp = make_tenant(db, client, "MSP", msp=True)
    sub = create_org(db, "Sub", parent_id=msp.org_id)
    db.commit()
    sub_accounts.append(sub.id)
    fleet = _fleet(db, sub.id, keys=1, per_key=(2,), loose=0)
    _fleet(db, tenant.org_id, keys=1, per_key=(1,), loose=0)
    base = f"{API}/msp/accounts/{sub.id}/agents"
    devices = client.get(f"{base}/devices", headers=msp.ro.headers).json()
    assert {d["device_id"] for d in devices["data"]} == {str(d.id) for d in fleet["devices"]}
    keys = client.get(f"{base}/keys", headers=msp.ro.headers).json()
    assert [k["agent_count"] for k in keys["data"]] == [2]
    one = client.get(f"{base}/keys/{fleet['keys'][0].id}", headers=msp.ro.headers)
    assert one.status_code == 200 and one.json()["data"]["agent_count"] == 2
    # Another organization's account is 404, as is its device through the sub-account.
    assert_problem(client.get(f"{API}/msp/accounts/{tenant.org_id}/agents/devices", headers=msp.ro.headers), 404)
    other_device = client.get(DEVICES, headers=tenant.rw.headers).json()["data"][0]["device_id"]
    assert_problem(client.get(f"{base}/devices/{other_device}", headers=msp.ro.headers), 404)


def test_operation_ids(client: TestClient) -> None:
    schema = client.get(f"{API}/openapi.json").json()
    ops = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {
        "api.controller.direct_org.get_agents_devices", "api.controller.direct_org.get_agents_device",
        "api.controller.direct_org.get_agents_keys", "api.controller.direct_org.get_agents_key",
        "api.controller.msp.get_account_agents_devices", "api.controller.msp.get_agents_key",
    } <= ops
