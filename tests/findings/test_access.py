"""Read-only keys cannot write; another organization's findings are 404 on every route; 405s."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.credentials.models import AccessLevel
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.findings.conftest import Seeded, snapshot
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant, assert_problem, new_pair


def _writes(tenant: Tenant) -> list[tuple[str, dict[str, object]]]:
    return [
        ("comments", {"body": "<b>hi</b>", "sender": str(tenant.analyst_id)}),
        ("resolve", {"resolution": 20, "resolution_notes": "benign"}),
        ("assign", {"owner_type": "responder", "owners": [str(tenant.analyst_id)]}),
    ]


READS = ["", "/details", "/comments", "/evidence"]


def test_read_only_key_gets_403_on_every_write_and_nothing_changes(
    client: TestClient, db: Session, tenant: Tenant, seeded: Seeded
) -> None:
    before = snapshot(db, seeded.mine)
    for action, body in _writes(tenant):
        response = client.post(f"{API}/org/findings/{seeded.mine.id}/{action}", json=body, headers=tenant.ro.headers)
        assert_problem(response, 403)
    assert snapshot(db, seeded.mine) == before
    # The read-only key still reads.
    for suffix in READS:
        assert client.get(f"{API}/org/findings/{seeded.mine.id}{suffix}", headers=tenant.ro.headers).status_code == 200


def test_another_orgs_finding_is_404_everywhere(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant, seeded: Seeded
) -> None:
    before = snapshot(db, seeded.foreign)
    for target in (seeded.foreign.id, uuid.uuid4()):
        for suffix in READS:
            assert_problem(client.get(f"{API}/org/findings/{target}{suffix}", headers=tenant.rw.headers), 404)
        # Bodies that would be valid in the other organization.
        for action, body in _writes(other_tenant):
            response = client.post(f"{API}/org/findings/{target}/{action}", json=body, headers=tenant.rw.headers)
            assert_problem(response, 404)
    assert snapshot(db, seeded.foreign) == before
    listed = client.get(f"{API}/org/findings", params={"limit": 5000}, headers=tenant.rw.headers).json()
    assert [f["finding_id"] for f in listed["data"]] == [str(seeded.mine.id)]


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_changing_a_finding_directly_is_405(client: TestClient, tenant: Tenant, seeded: Seeded, method: str) -> None:
    response = client.request(method, f"{API}/org/findings/{seeded.mine.id}", json={}, headers=tenant.rw.headers)
    assert_problem(response, 405)
    assert "GET" in response.headers.get("allow", "")


def test_no_token_is_401(client: TestClient, seeded: Seeded) -> None:
    assert_problem(client.get(f"{API}/org/findings"), 401)
    assert_problem(client.post(f"{API}/org/findings/{seeded.mine.id}/resolve", json={"resolution": 10}), 401)


def test_msp_account_routes_share_the_handlers(client: TestClient, db: Session, tenant: Tenant) -> None:
    msp = create_org(db, "MSP", msp=True)
    create_user(db, msp.id, f"msp-{uuid.uuid4().hex[:6]}@example.com", roles=[Role.ADMINISTRATOR])
    sub = create_org(db, "Sub account", parent_id=msp.id)
    sub_user = create_user(db, sub.id, f"sub-{uuid.uuid4().hex[:6]}@example.com", roles=[Role.ANALYST])
    finding = make_finding(db, sub.id, name="Sub finding")
    not_mine = make_finding(db, tenant.org_id, name="Tenant finding")
    db.commit()
    pair = new_pair(db, client, msp.id, AccessLevel.READ_WRITE)
    base = f"{API}/msp/accounts/{sub.id}/findings"
    body = client.get(base, headers=pair.headers).json()
    assert [f["finding_id"] for f in body["data"]] == [str(finding.id)]
    assert body["data"][0]["org_name"] == "Sub account"
    assert client.get(f"{base}/{finding.id}", headers=pair.headers).status_code == 200
    assert_problem(client.get(f"{base}/{not_mine.id}", headers=pair.headers), 404)
    # Blumira has no MSP details endpoint.
    assert client.get(f"{base}/{finding.id}/details", headers=pair.headers).status_code in (404, 405)
    response = client.post(f"{base}/{finding.id}/comments", json={"body": "from the MSP", "sender": str(sub_user.id)},
                           headers=pair.headers)
    assert response.status_code == 201, response.text
    # An account that is not a sub-account of this MSP is 404 too.
    assert_problem(client.get(f"{API}/msp/accounts/{tenant.org_id}/findings", headers=pair.headers), 404)
