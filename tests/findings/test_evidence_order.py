"""Evidence ``order_by`` over the row keys (org and MSP), with the grammar and errors of every list."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.orgs.models import License
from openmira.orgs.service import create_org
from tests.findings.factory import add_evidence, make_finding
from tests.helpers import API, Tenant, assert_problem, make_tenant

# Numbers that sort differently as text (1200 < 500 < 75), a null, keys missing from some rows, a dotted
# literal key, and ties (two rows of 75 bytes, two of each user).
ROWS: list[dict[str, Any]] = [
    {"timestamp": "2024-03-01T12:00:00Z", "bytes": 500, "user": "carol", "client_ip_geoip.countrycode": "US"},
    {"timestamp": "2024-03-01T12:00:01Z", "bytes": 75, "user": "alice"},
    {"timestamp": "2024-03-01T12:00:02Z", "bytes": 1200, "user": "bob", "client_ip_geoip.countrycode": "DE"},
    {"timestamp": "2024-03-01T12:00:03Z", "bytes": None, "user": "alice", "client_ip_geoip.countrycode": "FR"},
    {"timestamp": "2024-03-01T12:00:04Z", "bytes": 75, "user": "bob"},
]
KEYS = ["timestamp", "bytes", "user", "client_ip_geoip.countrycode"]


@pytest.fixture
def urls(db: Session, client: TestClient, tenant: Tenant) -> dict[str, tuple[str, dict[str, str]]]:
    """The evidence of one finding under /org, and of one under an MSP's sub-account."""
    mine = make_finding(db, tenant.org_id)
    add_evidence(db, mine, ROWS)
    msp = make_tenant(db, client, "Evidence MSP", msp=True)
    account = create_org(db, "Evidence Account", parent_id=msp.org_id, license=License.ADVANCED)
    theirs = make_finding(db, account.id)
    add_evidence(db, theirs, ROWS)
    db.commit()
    return {
        "org": (f"{API}/org/findings/{mine.id}/evidence", tenant.ro.headers),
        "msp": (f"{API}/msp/accounts/{account.id}/findings/{theirs.id}/evidence", msp.ro.headers),
    }


def _rows(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get(url, params={"page_size": 50, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["evidence_keys"] == KEYS  # ordering never changes the header
    return body


@pytest.mark.parametrize("where", ["org", "msp"])
@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (None, [0, 1, 2, 3, 4]),  # the detection's order
        ("", [0, 1, 2, 3, 4]),
        ("bytes", [1, 4, 0, 2, 3]),  # as numbers; ties keep the detection's order; null last
        ("bytes;asc", [1, 4, 0, 2, 3]),
        ("bytes;desc", [2, 0, 1, 4, 3]),  # null last in this direction too
        ("user,bytes;desc", [1, 3, 2, 4, 0]),
        (" user ; DESC , timestamp;desc ", [0, 4, 2, 3, 1]),  # spaces and case as elsewhere
        ("client_ip_geoip.countrycode;desc", [0, 3, 2, 1, 4]),  # a dotted name is one literal key; missing last
        ("timestamp;desc,timestamp", [4, 3, 2, 1, 0]),  # a repeated key counts once
    ],
)
def test_order_by_over_the_row_keys(
    client: TestClient, urls: dict[str, tuple[str, dict[str, str]]], where: str, order_by: str | None,
    expected: list[int],
) -> None:
    url, headers = urls[where]
    params = {} if order_by is None else {"order_by": order_by}
    assert _rows(client, url, headers, **params)["data"] == [ROWS[i] for i in expected]


@pytest.mark.parametrize("where", ["org", "msp"])
def test_pages_follow_the_order(client: TestClient, urls: dict[str, tuple[str, dict[str, str]]], where: str) -> None:
    url, headers = urls[where]
    seen: list[dict[str, Any]] = []
    body = _rows(client, url, headers, order_by="bytes;desc", page_size=2)
    while True:
        seen.extend(body["data"])
        assert body["meta"]["total_items"] == 5 and body["meta"]["total_pages"] == 3
        if body["links"]["next"] is None:
            break
        assert "order_by=bytes" in body["links"]["next"]
        body = client.get(body["links"]["next"], headers=headers).json()
    assert seen == [ROWS[i] for i in (2, 0, 1, 4, 3)]


@pytest.mark.parametrize("where", ["org", "msp"])
@pytest.mark.parametrize("order_by", ["src_ip", "bytes;up", "bytes,", "bytes;desc;asc", "BYTES", "client_ip_geoip"])
def test_bad_order_by_is_a_400_naming_it(
    client: TestClient, urls: dict[str, tuple[str, dict[str, str]]], where: str, order_by: str
) -> None:
    url, headers = urls[where]
    problem = assert_problem(client.get(url, params={"order_by": order_by}, headers=headers), 400, "order_by")
    if order_by == "src_ip":  # the answer says which keys there are
        assert all(key in problem["detail"] for key in KEYS)


def test_a_finding_without_evidence_has_no_key_to_order_by(client: TestClient, db: Session, tenant: Tenant) -> None:
    empty = make_finding(db, tenant.org_id)
    db.commit()
    url = f"{API}/org/findings/{empty.id}/evidence"
    assert client.get(url, headers=tenant.ro.headers).json()["data"] == []
    assert_problem(client.get(url, params={"order_by": "timestamp"}, headers=tenant.ro.headers), 400, "order_by")


def test_order_by_is_documented_on_both_evidence_operations(client: TestClient) -> None:
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    for path in ("/org/findings/{finding_id}/evidence", "/msp/accounts/{account_id}/findings/{finding_id}/evidence"):
        names = [p["name"] for p in paths[path]["get"]["parameters"]]
        assert {"order_by", "page", "page_size", "limit"} <= set(names), path
