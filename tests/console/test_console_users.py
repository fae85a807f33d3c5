"""Settings > Organization > Users over HTTP: administrators add users (with a password shown once), change
roles, disable and enable them; the last administrator stays; other organizations' users are a 404."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.users.models import Role, User
from openmira.users.service import create_user, get_user_by_email
from tests.console.helpers import PASSWORD, C, csrf_of, page_token, sign_in, with_password
from tests.helpers import API, Tenant

USERS = f"{C}/settings/organization/users"


def _user(db: Session, user_id: uuid.UUID) -> User:
    db.expire_all()
    user = db.get(User, user_id)
    assert user is not None
    return user


def _post(client: TestClient, path: str, data: dict[str, object] | None = None) -> object:
    return client.post(USERS + path, data={"csrf_token": page_token(client), **(data or {})}, follow_redirects=False)


def _issued_password(html: str) -> str:
    match = re.search(r'<code id="issued-password" class="secret">([^<]+)</code>', html)
    assert match, "no password shown"
    return match.group(1)


def test_an_administrator_adds_a_user_who_signs_in_with_the_password_shown_once(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    sign_in(client, with_password(db, tenant.admin_id))
    email = f"Grace-{uuid.uuid4().hex[:6]}@Example.com"
    response = _post(client, "", {"email": email, "first_name": "Grace", "last_name": "Hopper",
                                  "roles": [str(int(Role.MANAGER)), str(int(Role.RESPONDER))]})
    assert response.status_code == 200
    password = _issued_password(response.text)
    assert len(password) >= 16
    # The API lists the user with the roles chosen.
    users = client.get(f"{API}/org/users", headers=tenant.ro.headers).json()["data"]
    added = next(u for u in users if u["email"] == email.lower())
    assert (added["first_name"], added["last_name"]) == ("Grace", "Hopper")
    assert [r["role_name"] for r in added["org_roles"]] == ["manager", "responder"]
    # Shown once: the page does not hold it again, and the database holds only a hash.
    assert password not in client.get(f"{C}/settings/organization").text
    stored = get_user_by_email(db, email)
    assert stored is not None and stored.password_hash and password not in stored.password_hash

    client.cookies.clear()
    assert sign_in(client, email, password).status_code == 303
    page = client.get(f"{C}/settings/organization")
    assert page.status_code == 200 and "Only administrators can add users" in page.text


def test_a_refused_new_user_keeps_what_was_typed_and_says_why(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    sign_in(client, with_password(db, tenant.admin_id))
    analyst = _user(db, tenant.analyst_id)
    cases = [
        ({"email": "not-an-email", "first_name": "Kim", "roles": ["30"]}, 400, "Email: must be an email address"),
        ({"email": analyst.email.upper(), "first_name": "Kim", "roles": ["30"]}, 409, "already exists"),
        ({"email": "kim@example.com", "first_name": "Kim"}, 400, "Roles: choose at least one role"),
        ({"email": "kim@example.com", "first_name": "Kim", "roles": ["99"]}, 400, "Roles: choose among"),
        ({"email": "kim@example.com", "first_name": "K" * 101, "roles": ["30"]}, 400, "first_name"),
    ]
    for data, status, message in cases:
        response = _post(client, "", data)
        assert response.status_code == status, (data, response.text)
        assert message in response.text, data
        assert f'value="{data["email"]}"' in response.text  # typed values are back in the dialog
        assert 'id="add-user-dialog"' in response.text and "data-autoshow" in response.text
        assert 'id="issued-password"' not in response.text
    assert get_user_by_email(db, "kim@example.com") is None


def test_roles_change_and_the_last_administrator_stays(client: TestClient, db: Session, tenant: Tenant) -> None:
    sign_in(client, with_password(db, tenant.admin_id))
    response = _post(client, f"/{tenant.analyst_id}/roles", {"roles": ["10", "30"]})
    assert response.status_code == 303 and response.headers["location"].endswith("?user=roles#users")
    assert _user(db, tenant.analyst_id).role_ids == [10, 30]
    assert "roles were saved" in client.get(response.headers["location"]).text

    # Alone as administrator (the other one is disabled), the admin cannot demote or disable themselves.
    assert _post(client, f"/{tenant.analyst_id}/disable").status_code == 303
    for path, data in [(f"/{tenant.admin_id}/roles", {"roles": ["20"]}), (f"/{tenant.admin_id}/disable", {})]:
        response = _post(client, path, data)
        assert response.status_code == 409, path
        assert "last enabled administrator" in response.text
    admin = _user(db, tenant.admin_id)
    assert admin.role_ids == [10] and not admin.disabled
    # With another enabled administrator, demoting yourself is allowed.
    assert _post(client, f"/{tenant.analyst_id}/enable").status_code == 303
    assert _post(client, f"/{tenant.admin_id}/roles", {"roles": ["20"]}).status_code == 303
    assert _user(db, tenant.admin_id).role_ids == [20]
    # ... after which this user is no administrator any more.
    assert _post(client, f"/{tenant.analyst_id}/roles", {"roles": ["30"]}).status_code == 403
    assert _user(db, tenant.analyst_id).role_ids == [10, 30]


def test_no_roles_is_refused(client: TestClient, db: Session, tenant: Tenant) -> None:
    sign_in(client, with_password(db, tenant.admin_id))
    response = _post(client, f"/{tenant.analyst_id}/roles", {})
    assert response.status_code == 400 and "Roles: choose at least one role" in response.text
    assert _user(db, tenant.analyst_id).role_ids == [30]


def test_a_disabled_user_is_signed_out_and_cannot_sign_in_until_enabled(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    analyst_email = with_password(db, tenant.analyst_id)
    analyst = TestClient(client.app)
    assert sign_in(analyst, analyst_email).status_code == 303
    assert analyst.get(f"{C}/settings/organization").status_code == 200

    sign_in(client, with_password(db, tenant.admin_id))
    response = _post(client, f"/{tenant.analyst_id}/disable")
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "was disabled" in page and "Disabled" in page
    # Their open session ended, and signing in again is refused.
    assert analyst.get(f"{C}/settings/organization", follow_redirects=False).status_code == 303
    old_cookies = dict(analyst.cookies)
    analyst.cookies.clear()
    assert sign_in(analyst, analyst_email).status_code == 401

    assert _post(client, f"/{tenant.analyst_id}/enable").status_code == 303
    assert not _user(db, tenant.analyst_id).disabled
    # Enabled again, they sign in afresh: the session that was open when they were disabled stays ended.
    analyst.cookies.clear()
    analyst.cookies.update(old_cookies)
    assert analyst.get(f"{C}/settings/organization", follow_redirects=False).status_code == 303
    analyst.cookies.clear()
    assert sign_in(analyst, analyst_email).status_code == 303


def test_reset_password_shows_a_new_one_once_and_ends_the_old_sessions(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    analyst_email = with_password(db, tenant.analyst_id)
    analyst = TestClient(client.app)
    sign_in(analyst, analyst_email)
    sign_in(client, with_password(db, tenant.admin_id))
    response = _post(client, f"/{tenant.analyst_id}/password")
    assert response.status_code == 200
    password = _issued_password(response.text)
    assert analyst.get(f"{C}/settings/organization", follow_redirects=False).status_code == 303
    analyst.cookies.clear()
    assert sign_in(analyst, analyst_email, PASSWORD).status_code == 401
    assert sign_in(analyst, analyst_email, password).status_code == 303


def test_non_administrators_see_the_list_read_only_and_cannot_post(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    sign_in(client, with_password(db, tenant.analyst_id))
    page = client.get(f"{C}/settings/organization").text
    admin = _user(db, tenant.admin_id)
    assert admin.email in page and "Only administrators can add users" in page
    assert "Add user" not in page and "/users/" not in page
    token = csrf_of(page)
    for path in ["", f"/{tenant.admin_id}/roles", f"/{tenant.admin_id}/disable", f"/{tenant.admin_id}/enable",
                 f"/{tenant.admin_id}/password"]:
        response = client.post(USERS + path, data={"csrf_token": token, "email": "x@example.com", "roles": ["10"]})
        assert response.status_code == 403, path
        assert "Only administrators" in response.text
    assert _user(db, tenant.admin_id).role_ids == [10]
    assert _user(db, tenant.analyst_id).role_ids == [30]
    assert get_user_by_email(db, "x@example.com") is None


def test_every_user_form_needs_the_csrf_token(client: TestClient, db: Session, tenant: Tenant) -> None:
    sign_in(client, with_password(db, tenant.admin_id))
    for path in ["", f"/{tenant.analyst_id}/roles", f"/{tenant.analyst_id}/disable",
                 f"/{tenant.analyst_id}/password"]:
        response = client.post(USERS + path, data={"csrf_token": "forged", "email": "y@example.com", "roles": ["10"]})
        assert response.status_code == 403, path
    analyst = _user(db, tenant.analyst_id)
    assert analyst.role_ids == [30] and not analyst.disabled
    assert get_user_by_email(db, "y@example.com") is None


def test_another_organizations_user_is_not_found(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    sign_in(client, with_password(db, tenant.admin_id))
    outsider = _user(db, other_tenant.analyst_id)
    before = (outsider.role_ids, outsider.disabled, outsider.password_hash)
    for path, data in [("roles", {"roles": ["10"]}), ("disable", {}), ("enable", {}), ("password", {})]:
        for user_id in [other_tenant.analyst_id, uuid.uuid4()]:
            response = _post(client, f"/{user_id}/{path}", data)
            assert response.status_code == 404, (path, user_id)
    response = _post(client, "/not-a-uuid/disable")
    assert response.status_code == 404
    outsider = _user(db, other_tenant.analyst_id)
    assert (outsider.role_ids, outsider.disabled, outsider.password_hash) == before


def test_user_names_are_shown_as_text(client: TestClient, db: Session, tenant: Tenant) -> None:
    create_user(db, tenant.org_id, f"mallory-{uuid.uuid4().hex[:6]}@example.com",
                first_name='<img src=x onerror="alert(1)">', last_name="<b>M</b>")
    db.commit()
    sign_in(client, with_password(db, tenant.admin_id))
    page = client.get(f"{C}/settings/organization").text
    assert "<img src=x" not in page and "&lt;img src=x" in page and "<b>M</b>" not in page
