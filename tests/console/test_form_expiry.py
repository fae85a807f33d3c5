"""A form posted after the session or its security token expired: nothing changes, the page says so and leads
back (through sign-in) to the form's page, where console.js puts back what was typed (checked in the browser:
test_form_expiry_browser.py)."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.console.models import ConsoleSession
from openmira.findings.models import FindingComment
from tests.console.helpers import PASSWORD, C, csrf_of, make_finding, sign_in, with_password
from tests.helpers import Tenant


def _link(page: str) -> tuple[str, str]:
    match = re.search(r'<a class="btn btn-primary" href="([^"]+)">([^<]+)</a>', page)
    assert match, page
    return html.unescape(match.group(1)), match.group(2)


def _comments(db: Session, finding_id: object) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(FindingComment.body).where(FindingComment.finding_id == finding_id)))


def test_an_expired_security_token_changes_nothing_and_leads_back_to_the_form(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    finding = make_finding(db, tenant.org_id)
    sign_in(client, with_password(db, tenant.analyst_id))
    path = f"{C}/orgs/{tenant.org_id}/findings/{finding.id}"
    response = client.post(f"{path}/comments", data={"csrf_token": "from-an-older-session", "body": "My notes"},
                           headers={"Referer": f"http://testserver{path}?comments_page=1"})
    assert response.status_code == 403
    assert "data-draft-kept" in response.text and "What you typed is kept" in response.text
    assert "security token" in response.text
    assert _link(response.text) == (f"{path}?comments_page=1", "Back to the form")
    assert _comments(db, finding.id) == []


def test_an_ended_session_changes_nothing_and_leads_back_through_sign_in(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    finding = make_finding(db, tenant.org_id)
    email = with_password(db, tenant.analyst_id)
    sign_in(client, email)
    path = f"{C}/orgs/{tenant.org_id}/findings/{finding.id}"
    token = csrf_of(client.get(path).text)
    # The session expires on the server while the page is open.
    db.execute(ConsoleSession.__table__.update().values(expires=ConsoleSession.created))
    db.commit()
    response = client.post(f"{path}/comments", data={"csrf_token": token, "body": "My notes"},
                           headers={"Referer": f"http://testserver{path}"}, follow_redirects=False)
    assert response.status_code == 403
    assert "Signed out" in response.text and "data-draft-kept" in response.text
    sign_in_url, label = _link(response.text)
    assert label == "Sign in again" and sign_in_url == f"{C}/sign-in?next={path.replace('/', '%2F')}"
    assert _comments(db, finding.id) == []

    page = client.get(sign_in_url)
    response = client.post(f"{C}/sign-in", follow_redirects=False, data={
        "email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": path})
    assert response.status_code == 303 and response.headers["location"] == path
    token = csrf_of(client.get(path).text)
    response = client.post(f"{path}/comments", data={"csrf_token": token, "body": "My notes"}, follow_redirects=False)
    assert response.status_code == 303
    assert _comments(db, finding.id) == ["My notes"]


def test_the_way_back_never_leaves_the_console(client: TestClient, db: Session, tenant: Tenant) -> None:
    sign_in(client, with_password(db, tenant.analyst_id))
    for referer in ["https://evil.example/console/x", "http://testserver/elsewhere", "http://testserver//evil",
                    "not a url"]:
        response = client.post(f"{C}/settings/organization/credentials", data={"csrf_token": "x"},
                               headers={"Referer": referer})
        assert response.status_code == 403
        assert _link(response.text)[0] == f"{C}/", referer
