"""In the browser: an administrator adds a user (the password shown once works), changes their roles, disables
them (their open session ends) and enables them again; the last administrator cannot disable themselves."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.console.helpers import PASSWORD
from tests.console.test_console_browser import backend, browser, page, server, shot, sign_in  # noqa: F401
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def _row(page: Any, email: str) -> Any:  # noqa: F811
    return page.locator("#users-table tbody tr", has_text=email)


def _confirm(page: Any, email: str, button: str, dialog: str, submit: str) -> None:  # noqa: F811
    _row(page, email).get_by_role("button", name=button).click()
    page.get_by_role("dialog", name=dialog).get_by_role("button", name=submit).click()
    page.wait_for_load_state("load")


def test_an_administrator_manages_users(
    page: Any, browser: Any, server: LiveServer, db: Session, backend: str  # noqa: F811
) -> None:
    org = create_org(db, "Umbrella Health")
    slug = uuid.uuid4().hex[:6]
    admin_email = f"claire-{slug}@umbrella.example"
    create_user(db, org.id, admin_email, first_name="Claire", last_name="Redfield", roles=[Role.ADMINISTRATOR],
                password=PASSWORD)
    db.commit()
    sign_in(page, admin_email)
    page.goto("/console/settings/organization")

    # Add user -> e-mail, name, roles -> the password, shown once.
    new_email = f"leon-{slug}@umbrella.example"
    page.get_by_role("button", name="Add user").click()
    dialog = page.get_by_role("dialog", name="Add user")
    dialog.get_by_label("Email").fill(new_email)
    dialog.get_by_label("First name").fill("Leon")
    dialog.get_by_label("Last name").fill("Kennedy")
    dialog.get_by_label("Analyst").uncheck()
    dialog.get_by_label("Responder").check()
    shot(page, backend, "14-add-user")
    dialog.get_by_role("button", name="Add user").click()
    issued = page.locator("#issued-password-dialog")
    issued.wait_for(state="visible")
    assert "will not be shown again" in issued.inner_text()
    password = page.locator("#issued-password").inner_text().strip()
    shot(page, backend, "15-user-added")
    issued.get_by_role("button", name="Done").click()
    page.reload()
    assert password not in page.content()
    row = _row(page, new_email)
    assert "Leon Kennedy" in row.inner_text() and "Responder" in row.inner_text() and "Active" in row.inner_text()

    # The new user signs in with it, in a browser of their own.
    leon_context = browser.new_context(base_url=server.url)
    leon = leon_context.new_page()
    sign_in(leon, new_email, password)
    leon.goto("/console/settings/organization")
    assert "Only administrators can add users" in leon.inner_text("main")

    # Roles -> Administrator as well.
    _row(page, new_email).get_by_role("button", name="Roles").click()
    roles = page.get_by_role("dialog", name="Roles of Leon Kennedy")
    roles.get_by_label("Administrator").check()
    roles.get_by_role("button", name="Save roles").click()
    page.wait_for_url("**/settings/organization?user=roles#users")
    assert "roles were saved" in page.inner_text("main")
    assert "Administrator" in _row(page, new_email).inner_text()

    # Disable: their open session ends at once.
    _confirm(page, new_email, "Disable", "Disable user", "Disable")
    assert "Disabled" in _row(page, new_email).inner_text()
    shot(page, backend, "16-user-disabled")
    leon.goto("/console/settings/organization")
    assert "/console/sign-in" in leon.url

    # The administrator is now the only enabled one: disabling themselves is refused, with why.
    _confirm(page, admin_email, "Disable", "Disable user", "Disable")
    assert "last enabled administrator" in page.get_by_role("alert").inner_text()
    assert "Active" in _row(page, admin_email).inner_text()

    # Enable: they can sign in again.
    _confirm(page, new_email, "Enable", "Enable user", "Enable")
    assert "Active" in _row(page, new_email).inner_text()
    sign_in(leon, new_email, password)
    leon.goto("/console/settings/organization")
    assert leon.url.endswith("/console/settings/organization")
    leon_context.close()
