"""The console over HTTP (in-process): sign-in, sessions, CSRF, administrator checks, tenant isolation,
and inert rendering of HTML that arrives through the API."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.console import routes_auth
from openmira.credentials.models import KeyPair
from openmira.credentials.service import hash_secret
from openmira.orgs.models import License
from openmira.orgs.service import create_org
from openmira.runtime import Runtime
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.console.helpers import PASSWORD, XSS_BODY, C, csrf_of, make_finding, page_token, sign_in, with_password
from tests.helpers import API, Tenant, get_token


def _pairs(db: Session, org_id: uuid.UUID) -> dict[str, KeyPair]:
    db.expire_all()
    return {p.client_id: p for p in db.scalars(select(KeyPair).where(KeyPair.org_id == org_id))}


def test_pages_need_a_session(client: TestClient) -> None:
    response = client.get(f"{C}/settings/organization", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{C}/sign-in?next=%2Fconsole%2Fsettings%2Forganization"
    assert client.get("/", follow_redirects=False).headers["location"] == f"{C}/sign-in"
    assert client.get(f"{API}/ui/").status_code == 200


def test_sign_in_sets_a_protected_cookie_and_sign_out_ends_the_session(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    email = with_password(db, tenant.admin_id)
    response = sign_in(client, email)
    assert response.status_code == 303
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "openmira_console=" in v)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    page = client.get(f"{C}/settings/organization")
    assert page.status_code == 200 and "Blumira API Credentials" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"

    stolen = dict(client.cookies)
    response = client.post(f"{C}/sign-out", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    # The session is gone on the server: a copy of the old cookie no longer works.
    client.cookies.clear()
    client.cookies.update(stolen)
    assert client.get(f"{C}/settings/organization", follow_redirects=False).status_code == 303


def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: TestClient, db: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = with_password(db, tenant.admin_id)
    calls: list[str | None] = []
    real_verify = routes_auth.verify_password

    def counting_verify(password: str, stored_hash: str | None) -> bool:
        calls.append(stored_hash)
        return real_verify(password, stored_hash)

    monkeypatch.setattr(routes_auth, "verify_password", counting_verify)
    token = csrf_of(client.get(f"{C}/sign-in").text)
    answers = []
    for who, password in [(email, "wrong password!"), ("nobody-here@example.com", "wrong password!"),
                          # an existing user without a password is no different
                          (email.replace("admin-", "analyst-"), PASSWORD)]:
        response = client.post(f"{C}/sign-in", data={"email": who, "password": password, "csrf_token": token},
                                follow_redirects=False)
        headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "date", "x-request-id")}
        answers.append((response.status_code, response.text.replace(who, "EMAIL"), headers))
        assert "openmira_console=" not in response.headers.get("set-cookie", "")
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401 and "Incorrect email or password." in answers[0][1]
    # Every attempt verified one argon2 hash (a dummy one when there was no user or no password).
    assert len(calls) == 3


def test_sign_in_without_its_csrf_token_is_refused(client: TestClient, db: Session, tenant: Tenant) -> None:
    email = with_password(db, tenant.admin_id)
    client.get(f"{C}/sign-in")
    response = client.post(f"{C}/sign-in", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert "openmira_console=" not in response.headers.get("set-cookie", "")


def test_sign_in_redirects_only_inside_the_console(client: TestClient, db: Session, tenant: Tenant) -> None:
    email = with_password(db, tenant.admin_id)
    token = csrf_of(client.get(f"{C}/sign-in").text)
    for evil in ["//evil.example/x", "https://evil.example/", "/console/\\evil", "/elsewhere"]:
        response = client.post(f"{C}/sign-in", follow_redirects=False,
                               data={"email": email, "password": PASSWORD, "csrf_token": token, "next": evil})
        assert response.headers["location"] == f"{C}/", evil
        token = csrf_of(client.get(f"{C}/sign-in").text)


def test_generate_in_the_console_gives_a_working_pair(client: TestClient, db: Session, tenant: Tenant) -> None:
    sign_in(client, with_password(db, tenant.admin_id))
    token = page_token(client)
    response = client.post(f"{C}/settings/organization/credentials",
                           data={"csrf_token": token, "label": "SOAR <b>bot</b>", "access": "ro"})
    assert response.status_code == 200
    client_id = re.search(r'id="issued-client-id">([^<]+)<', response.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="issued-client-secret" class="secret">([^<]+)<', response.text).group(1)  # type: ignore[union-attr]
    assert "will not be shown again" in response.text
    assert "SOAR &lt;b&gt;bot&lt;/b&gt;" in response.text and "<b>bot</b>" not in response.text
    pair = _pairs(db, tenant.org_id)[client_id]
    assert pair.access == "ro" and pair.secret_hash == hash_secret(secret) and secret not in pair.secret_hash
    bearer = get_token(client, client_id, secret)
    assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {bearer}"}).status_code == 200
    # The secret is never shown again.
    assert secret not in client.get(f"{C}/settings/organization").text


def test_a_post_without_a_valid_csrf_token_changes_nothing(client: TestClient, db: Session, tenant: Tenant) -> None:
    sign_in(client, with_password(db, tenant.admin_id))
    before = {cid: (p.secret_hash, p.tokens_valid_after) for cid, p in _pairs(db, tenant.org_id).items()}
    cid = tenant.rw.client_id
    for data in [{}, {"csrf_token": ""}, {"csrf_token": "forged-token"}]:
        for path in ["/settings/organization/credentials", f"/settings/organization/credentials/{cid}/rotate",
                     f"/settings/organization/credentials/{cid}/delete"]:
            response = client.post(C + path, data={**data, "label": "x"})
            assert response.status_code == 403, (path, data)
            assert "security token" in response.text
        assert client.post(f"{C}/sign-out", data=data).status_code == 403
    after = {cid: (p.secret_hash, p.tokens_valid_after) for cid, p in _pairs(db, tenant.org_id).items()}
    assert after == before
    assert client.get(f"{C}/settings/organization").status_code == 200  # still signed in
    # The old secret still works.
    get_token(client, tenant.rw.client_id, tenant.rw.client_secret)


def test_non_administrators_see_no_buttons_and_cannot_forge_posts(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    sign_in(client, with_password(db, tenant.analyst_id))
    page = client.get(f"{C}/settings/organization")
    assert page.status_code == 200 and tenant.rw.client_id in page.text
    assert "Generate API Credentials" not in page.text
    assert "/rotate" not in page.text and "/delete" not in page.text
    assert "Only administrators" in page.text
    token = csrf_of(page.text)
    before = {cid: p.secret_hash for cid, p in _pairs(db, tenant.org_id).items()}
    cid = tenant.rw.client_id
    for path in ["/settings/organization/credentials", f"/settings/organization/credentials/{cid}/rotate",
                 f"/settings/organization/credentials/{cid}/delete"]:
        response = client.post(C + path, data={"csrf_token": token})
        assert response.status_code == 403, path
    assert {cid: p.secret_hash for cid, p in _pairs(db, tenant.org_id).items()} == before


def test_rotate_and_delete_from_the_console(client: TestClient, db: Session, tenant: Tenant) -> None:
    sign_in(client, with_password(db, tenant.admin_id))
    cid, old_secret, old_token = tenant.rw.client_id, tenant.rw.client_secret, tenant.rw.token
    response = client.post(
        f"{C}/settings/organization/credentials/{cid}/rotate", data={"csrf_token": page_token(client)}
    )
    assert response.status_code == 200 and "Rotated Client Secret" in response.text
    new_secret = re.search(r'id="issued-client-secret" class="secret">([^<]+)<', response.text).group(1)  # type: ignore[union-attr]
    body = {"grant_type": "client_credentials", "client_id": cid, "client_secret": old_secret, "audience": "public-api"}
    assert client.post("/oauth/token", json=body).status_code == 401
    assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {old_token}"}).status_code == 401
    new_token = get_token(client, cid, new_secret)
    assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {new_token}"}).status_code == 200

    response = client.post(f"{C}/settings/organization/credentials/{cid}/delete",
                           data={"csrf_token": page_token(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert cid not in _pairs(db, tenant.org_id)
    assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {new_token}"}).status_code == 401
    assert cid not in client.get(response.headers["location"]).text


def test_another_tenants_objects_are_not_found(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = make_finding(db, other_tenant.org_id)
    sign_in(client, with_password(db, tenant.admin_id))
    token = page_token(client)
    assert client.get(f"{C}/orgs/{other_tenant.org_id}/findings").status_code == 404
    assert client.get(f"{C}/orgs/{other_tenant.org_id}/findings/{theirs.id}").status_code == 404
    assert client.get(f"{C}/orgs/{tenant.org_id}/findings/{theirs.id}").status_code == 404
    assert client.get(f"{C}/orgs/not-a-uuid/findings").status_code == 404
    assert client.get(f"{C}/msp/integrations").status_code == 404  # not an MSP
    before = _pairs(db, other_tenant.org_id)[other_tenant.rw.client_id].secret_hash
    for action in ["rotate", "delete"]:
        response = client.post(f"{C}/settings/organization/credentials/{other_tenant.rw.client_id}/{action}",
                               data={"csrf_token": token})
        assert response.status_code == 404
    assert _pairs(db, other_tenant.org_id)[other_tenant.rw.client_id].secret_hash == before


def test_msp_integrations_lists_sub_accounts_and_manages_msp_pairs(client: TestClient, db: Session) -> None:
    msp = create_org(db, "Northwind MSP", msp=True)
    admin = create_user(db, msp.id, "msp-admin@example.com", roles=[Role.ADMINISTRATOR], password=PASSWORD)
    analyst = create_user(db, msp.id, "msp-analyst@example.com", roles=[Role.ANALYST], password=PASSWORD)
    sub = create_org(db, "Contoso Dental", parent_id=msp.id, license=License.M365)
    free = create_org(db, "Fabrikam Free", parent_id=msp.id, license=License.FREE)
    stranger = create_org(db, "Somebody Else")
    db.commit()
    finding = make_finding(db, sub.id, name="Impossible travel")
    stranger_finding = make_finding(db, stranger.id)
    del admin, analyst

    sign_in(client, "msp-admin@example.com")
    page = client.get(f"{C}/msp/integrations")
    assert page.status_code == 200
    for text in ["MSP API Credentials", "Contoso Dental", "M365", "Fabrikam Free", "FREE", "Generate API Credentials"]:
        assert text in page.text
    response = client.post(f"{C}/msp/integrations/credentials", data={"csrf_token": csrf_of(page.text)})
    client_id = re.search(r'id="issued-client-id">([^<]+)<', response.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="issued-client-secret" class="secret">([^<]+)<', response.text).group(1)  # type: ignore[union-attr]
    bearer = get_token(client, client_id, secret)
    accounts = client.get(f"{API}/msp/accounts/{sub.id}/users", headers={"Authorization": f"Bearer {bearer}"})
    assert accounts.status_code == 200
    # An MSP user may look at its sub-accounts' findings, and nobody else's.
    assert "Impossible travel" in client.get(f"{C}/orgs/{sub.id}/findings").text
    assert client.get(f"{C}/orgs/{sub.id}/findings/{finding.id}").status_code == 200
    assert client.get(f"{C}/orgs/{free.id}/findings").status_code == 200
    assert client.get(f"{C}/orgs/{stranger.id}/findings/{stranger_finding.id}").status_code == 404

    client.cookies.clear()
    sign_in(client, "msp-analyst@example.com")
    page = client.get(f"{C}/msp/integrations")
    assert page.status_code == 200 and client_id in page.text and "Generate API Credentials" not in page.text
    response = client.post(
        f"{C}/msp/integrations/credentials/{client_id}/delete", data={"csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 403
    assert client_id in _pairs(db, msp.id)


def test_comment_html_is_rendered_inert(client: TestClient, db: Session, tenant: Tenant) -> None:
    finding = make_finding(db, tenant.org_id, comment=XSS_BODY, sender=tenant.analyst_id, owner=tenant.analyst_id)
    sign_in(client, with_password(db, tenant.admin_id))
    page = client.get(f"{C}/orgs/{tenant.org_id}/findings/{finding.id}")
    assert page.status_code == 200
    # The rendered comments: from the section's start to the console's own comment form.
    body = page.text.split('id="comments"', 1)[1].split('<form id="comment-form"', 1)[0]
    lowered = body.lower()
    for forbidden in ["<script", "onerror", "onload", "onclick", "javascript:", "<iframe", "<style", "style=", "<form",
                      "<img", "<svg", "__pwned"]:
        assert forbidden not in lowered, forbidden
    assert "<b>benign</b>" in body  # harmless formatting is kept
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text  # evidence values are text
    assert "Ann Analyst" in page.text  # owners and sender


def test_findings_list_filters_and_pages(client: TestClient, db: Session, tenant: Tenant) -> None:
    for i in range(30):
        make_finding(db, tenant.org_id, name=f"Finding {i:02d}", priority=1 if i % 3 == 0 else 3,
                     status=40 if i % 2 else 10, type=30 if i < 5 else 10, minutes_ago=i)
    sign_in(client, with_password(db, tenant.analyst_id))
    first = client.get(f"{C}/orgs/{tenant.org_id}/findings")
    assert "30 findings" in first.text and "Page 1 of 2" in first.text
    assert "Finding 00" in first.text and "Finding 29" not in first.text
    assert "Finding 29" in client.get(f"{C}/orgs/{tenant.org_id}/findings?page=2").text
    filtered = client.get(f"{C}/orgs/{tenant.org_id}/findings?status=10&priority=1&type=")
    assert "5 findings" in filtered.text  # i in 0, 6, 12, 18, 24
    assert "3 findings" in client.get(f"{C}/orgs/{tenant.org_id}/findings?type=30&status=10").text
    # Nonsense filter values are an error on the page, never a silently unfiltered list
    # (test_findings_lists_http.py has the details).
    refused = client.get(f"{C}/orgs/{tenant.org_id}/findings?status=x&priority=9&page=-3")
    assert refused.status_code == 400 and "30 findings" not in refused.text and 'role="alert"' in refused.text


def test_the_api_finding_url_opens_the_finding_page(client: TestClient, db: Session, tenant: Tenant) -> None:
    finding = make_finding(db, tenant.org_id, name="Finding from the API")
    details = client.get(f"{API}/org/findings/{finding.id}/details", headers=tenant.ro.headers)
    assert details.status_code == 200, details.text
    url = details.json()["data"]["url"]
    assert url.startswith("http://testserver/console/")
    path = url.removeprefix("http://testserver")
    # Signed out, the link goes through sign-in and comes back.
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and "/console/sign-in?next=" in response.headers["location"]
    email = with_password(db, tenant.analyst_id)
    token = csrf_of(client.get(response.headers["location"]).text)
    response = client.post(f"{C}/sign-in", follow_redirects=False,
                           data={"email": email, "password": PASSWORD, "csrf_token": token, "next": path})
    assert response.headers["location"] == path
    assert "Finding from the API" in client.get(path).text


def test_an_unexpected_error_is_a_500_page_logged_once(
    runtime: Runtime, db: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The console's error page answers, and the error is logged once with its traceback, though it passes
    the console's error layer and then the outer app's."""
    from openmira.console import routes_settings

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a console bug")

    email = with_password(db, tenant.admin_id)
    with TestClient(create_app(runtime.settings, runtime), raise_server_exceptions=False) as client:
        sign_in(client, email)
        monkeypatch.setattr(routes_settings.credentials, "list_key_pairs", broken)
        response = client.get(f"{C}/settings/organization")
    assert response.status_code == 500 and "Something went wrong" in response.text
    assert "a console bug" not in response.text
    logged = [r for r in caplog.records if r.name.startswith("openmira") and r.exc_info]
    assert len(logged) == 1 and str(logged[0].exc_info[1]) == "a console bug"
