"""Working a finding in the console: comment, resolve and assign, through the same services as the API.

Each change is checked where an integrator would see it: through the Public API.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.orgs.models import License
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.console.helpers import PASSWORD, C, csrf_of, make_finding, sign_in, with_password
from tests.helpers import API, Tenant


def _page(client: TestClient, org_id: uuid.UUID, finding_id: uuid.UUID) -> str:
    response = client.get(f"{C}/orgs/{org_id}/findings/{finding_id}")
    assert response.status_code == 200, response.text
    return response.text


def _post(client: TestClient, org_id: uuid.UUID, finding_id: uuid.UUID, action: str, data: dict[str, Any]) -> Any:
    token = csrf_of(_page(client, org_id, finding_id))
    return client.post(f"{C}/orgs/{org_id}/findings/{finding_id}/{action}", data={"csrf_token": token, **data},
                       follow_redirects=False)


def _api(client: TestClient, tenant: Tenant, path: str) -> Any:
    response = client.get(f"{API}/org/findings/{path}", headers=tenant.ro.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_resolve_comment_and_assign_from_the_finding_page(client: TestClient, db: Session, tenant: Tenant) -> None:
    finding = make_finding(db, tenant.org_id)
    db.commit()
    sign_in(client, with_password(db, tenant.analyst_id))

    response = _post(client, tenant.org_id, finding.id, "resolve",
                     {"resolution": "20", "resolution_notes": "Known scanner"})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/orgs/{tenant.org_id}/findings/{finding.id}#details")
    details = _api(client, tenant, f"{finding.id}/details")
    assert (details["status"], details["resolution"], details["resolution_notes"]) == (40, 20, "Known scanner")
    assert details["status_modified_by"]["id"] == str(tenant.analyst_id)

    response = _post(client, tenant.org_id, finding.id, "comments", {"body": "<p>Closed as <b>benign</b></p>"})
    assert response.status_code == 303
    comments = _api(client, tenant, f"{finding.id}/comments")
    assert [(c["body"], c["sender"]["id"]) for c in comments] == [
        ("<p>Closed as <b>benign</b></p>", str(tenant.analyst_id))
    ]

    response = client.post(  # several owners of one type, as a multi-select sends them
        f"{C}/orgs/{tenant.org_id}/findings/{finding.id}/assign",
        data={"csrf_token": csrf_of(_page(client, tenant.org_id, finding.id)), "owner_type": "responder",
              "owners": [str(tenant.admin_id), str(tenant.analyst_id)]},
        follow_redirects=False,
    )
    assert response.status_code == 303
    responders = _api(client, tenant, f"{finding.id}/details")["owners"]["responders"]
    assert {o["id"] for o in responders} == {str(tenant.admin_id), str(tenant.analyst_id)}

    # Nothing selected clears that owner type (the API's []).
    assert _post(client, tenant.org_id, finding.id, "assign", {"owner_type": "responder"}).status_code == 303
    assert _api(client, tenant, f"{finding.id}/details")["owners"]["responders"] == []

    page = _page(client, tenant.org_id, finding.id)
    assert "Known scanner" in page and "<b>benign</b>" in page and "False Positive" in page


@pytest.mark.parametrize(
    ("action", "data", "reason"),
    [
        ("resolve", {"resolution": "99"}, "resolution"),
        ("resolve", {"resolution": "valid"}, "Resolution"),
        ("comments", {"body": "   "}, "Body"),
        ("assign", {"owner_type": "boss"}, "Owner type"),
        ("assign", {"owner_type": "analyst", "owners": [str(uuid.uuid4())]}, "owners"),
    ],
)
def test_a_refused_change_shows_why_and_changes_nothing(
    client: TestClient, db: Session, tenant: Tenant, action: str, data: dict[str, Any], reason: str
) -> None:
    finding = make_finding(db, tenant.org_id)
    db.commit()
    sign_in(client, with_password(db, tenant.admin_id))
    before = _api(client, tenant, f"{finding.id}/details")
    response = _post(client, tenant.org_id, finding.id, action, data)
    assert response.status_code == 400
    assert 'class="alert alert-error"' in response.text and reason in response.text
    assert _api(client, tenant, f"{finding.id}/details") == before
    assert _api(client, tenant, f"{finding.id}/comments") == []


def test_changes_need_the_forms_csrf_token_and_stay_inside_the_tenant(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = make_finding(db, tenant.org_id)
    theirs = make_finding(db, other_tenant.org_id)
    db.commit()
    sign_in(client, with_password(db, tenant.admin_id))
    token = csrf_of(_page(client, tenant.org_id, mine.id))
    resolve = {"resolution": "10"}

    forged = client.post(f"{C}/orgs/{tenant.org_id}/findings/{mine.id}/resolve", data=resolve)
    assert forged.status_code == 403
    assert _api(client, tenant, str(mine.id))["status"] == 10

    for org_id in (other_tenant.org_id, tenant.org_id):  # their org, or their finding under mine
        for action, data in (("resolve", resolve), ("comments", {"body": "x"}), ("assign", {"owner_type": "analyst"})):
            response = client.post(f"{C}/orgs/{org_id}/findings/{theirs.id}/{action}",
                                   data={"csrf_token": token, **data})
            assert response.status_code == 404, (org_id, action)
    theirs_now = client.get(f"{API}/org/findings/{theirs.id}/comments", headers=other_tenant.ro.headers).json()
    assert theirs_now["data"] == []
    assert client.get(f"{API}/org/findings/{theirs.id}", headers=other_tenant.ro.headers).json()["data"]["status"] == 10


def test_msp_users_resolve_in_sub_accounts_but_comments_come_from_the_account(client: TestClient, db: Session) -> None:
    msp = create_org(db, "Northwind MSP", msp=True)
    create_user(db, msp.id, "msp-analyst@example.com", roles=[Role.ANALYST], password=PASSWORD)
    sub = create_org(db, "Contoso Dental", parent_id=msp.id, license=License.M365)
    db.commit()
    finding = make_finding(db, sub.id)
    db.commit()
    sign_in(client, "msp-analyst@example.com")
    page = _page(client, sub.id, finding.id)
    assert 'id="resolve-form"' in page and 'id="comment-form"' not in page
    assert "Comments are posted by users of Contoso Dental" in page
    assert _post(client, sub.id, finding.id, "resolve", {"resolution": "30"}).status_code == 303
    # A forged comment is refused by the service: the sender must be a user of the finding's organization.
    response = _post(client, sub.id, finding.id, "comments", {"body": "hello"})
    assert response.status_code == 400 and "sender" in response.text
    db.expire_all()
    db.refresh(finding)
    assert (finding.status, finding.resolution) == (40, 30)


def test_the_finding_page_shows_comments_a_page_at_a_time(client: TestClient, db: Session, tenant: Tenant) -> None:
    from datetime import timedelta

    from openmira.console.findings_view import COMMENT_PAGE_SIZE
    from openmira.db.base import utcnow
    from openmira.findings.models import FindingComment

    finding = make_finding(db, tenant.org_id)
    start = utcnow() - timedelta(hours=1)
    total = COMMENT_PAGE_SIZE + 5
    for n in range(total):
        db.add(FindingComment(finding_id=finding.id, body=f"<p>note-{n:03d}</p>", sender_id=tenant.analyst_id,
                              created=start + timedelta(seconds=n)))
    db.commit()
    sign_in(client, with_password(db, tenant.analyst_id))

    def shown(html: str) -> list[int]:
        return [int(n) for n in re.findall(r"note-(\d{3})", html)]

    newest = _page(client, tenant.org_id, finding.id)  # the last page by default, next to the form
    assert shown(newest) == list(range(COMMENT_PAGE_SIZE, total))
    assert f"({total})" in newest and 'href="?comments_page=1#comments"' in newest
    oldest = client.get(f"{C}/orgs/{tenant.org_id}/findings/{finding.id}", params={"comments_page": 1}).text
    assert shown(oldest) == list(range(COMMENT_PAGE_SIZE))
