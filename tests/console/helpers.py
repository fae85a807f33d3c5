"""Console test helpers: users with passwords, signing in, and the forms' CSRF tokens."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.db.base import utcnow
from openmira.findings.models import EvidenceRow, Finding, FindingComment, FindingOwner
from openmira.users.models import User
from openmira.users.service import set_password

PASSWORD = "correct horse battery"
C = "/console"

# Every way a comment could try to run script or restyle the page.
XSS_BODY = (
    '<p>Investigated: <b>benign</b> scanner.</p>'
    '<script>window.__pwned = "script"; alert("script")</script>'
    '<img src="x" onerror="window.__pwned = \'onerror\'; alert(\'onerror\')">'
    '<a href="javascript:window.__pwned=\'javascript\';alert(1)" id="evil-link">click me</a>'
    '<svg onload="window.__pwned = \'svg\'"><script>window.__pwned = "svg-script"</script></svg>'
    '<iframe src="javascript:parent.__pwned=\'iframe\'"></iframe>'
    '<style>body { display: none !important; }</style>'
    '<p style="position:fixed;inset:0;background:red" onclick="window.__pwned=\'click\'">styled</p>'
    '<form action="javascript:alert(1)"><button>go</button></form>'
)


def with_password(db: Session, user_id: uuid.UUID, password: str = PASSWORD) -> str:
    user = db.get(User, user_id)
    assert user is not None
    set_password(db, user.email, password)
    db.commit()
    return user.email


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get(f"{C}/sign-in")
    assert page.status_code == 200
    return client.post(
        f"{C}/sign-in", data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def page_token(client: TestClient, path: str = f"{C}/settings/organization") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def make_finding(db: Session, org_id: uuid.UUID, *, name: str = "Possible brute force", comment: str | None = None,
                 sender: uuid.UUID | None = None, priority: int = 2, status: int = 10, type: int = 10,
                 short_id: str | None = None, minutes_ago: int = 5, owner: uuid.UUID | None = None) -> Finding:
    created = utcnow() - timedelta(minutes=minutes_ago)
    finding = Finding(
        org_id=org_id, short_id=short_id or uuid.uuid4().hex[:8].upper(), name=name, priority=priority,
        status=status, type=type, analysis="Many failed logins followed by a success.", summary="Sign-in anomaly",
        category_name="Authentication", jurisdiction_name="Microsoft 365", created=created, modified=created,
        matched=created,
    )
    db.add(finding)
    db.flush()
    if comment is not None:
        db.add(FindingComment(finding_id=finding.id, subject="Triage", body=comment, sender_id=sender))
    if owner is not None:
        db.add(FindingOwner(finding_id=finding.id, owner_type="responder", user_id=owner))
    db.add(EvidenceRow(finding_id=finding.id, position=0,
                       data={"user": "bob@example.com", "client_ip": "203.0.113.7", "client_ip_geoip.countrycode": "NL",
                             "note": "<img src=x onerror=alert(1)>"}))
    db.commit()
    return finding
