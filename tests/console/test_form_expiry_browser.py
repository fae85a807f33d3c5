"""In the browser: a comment typed on a page whose session or security token expired survives the refusal,
through sign-in, back into the form, and is posted by the next submit. Passwords and tokens are never kept."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.console.models import ConsoleSession
from openmira.findings.models import FindingComment
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.console.helpers import PASSWORD, make_finding
from tests.console.test_console_browser import backend, browser, page, server, shot, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

TEXT = "Checked the VPN logs: the source is our <b>Amsterdam</b> office.\nClosing as expected activity."
DRAFT = "openmira.console.draft"


def _setup(db: Session) -> tuple[str, str]:
    org = create_org(db, "Initech")
    email = f"peter-{uuid.uuid4().hex[:6]}@initech.example"
    create_user(db, org.id, email, first_name="Peter", roles=[Role.ANALYST], password=PASSWORD)
    db.commit()
    finding = make_finding(db, org.id, name="Impossible travel for p.gibbons")
    return email, f"/console/orgs/{org.id}/findings/{finding.id}"


def _comments(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(FindingComment.body)))


def _type_comment(page: Any, path: str) -> None:  # noqa: F811
    page.goto(path)
    page.locator("#comment-form textarea").fill(TEXT)


def _send_restored_comment(page: Any, db: Session, path: str) -> None:  # noqa: F811
    form = page.locator("#comment-form")
    assert form.locator("textarea").input_value() == TEXT
    assert form.locator("[data-draft-restored]").is_visible()
    form.get_by_role("button", name="Comment").click()
    page.wait_for_url(f"**{path}#comments")
    assert _comments(db) == [TEXT.replace("\n", "\r\n")]  # as browsers send a textarea's line breaks
    assert "Amsterdam" in page.locator("#comments .comment-body").inner_text()
    # Sent: the draft is gone, and the next visit shows an empty form.
    page.goto(path)
    assert page.locator("#comment-form textarea").input_value() == ""
    assert page.locator("[data-draft-restored]").count() == 0


def test_a_comment_survives_an_ended_session(page: Any, db: Session, backend: str) -> None:  # noqa: F811
    email, path = _setup(db)
    sign_in(page, email)
    _type_comment(page, path)
    db.execute(ConsoleSession.__table__.update().values(expires=ConsoleSession.created))  # the session expires
    db.commit()
    page.locator("#comment-form").get_by_role("button", name="Comment").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="Signed out").is_visible()
    assert "What you typed is kept" in page.inner_text("main")
    assert _comments(db) == []
    shot(page, backend, "12-session-ended-draft-kept")

    page.get_by_role("link", name="Sign in again").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}")
    shot(page, backend, "13-draft-restored")
    _send_restored_comment(page, db, path)


def test_a_comment_survives_an_expired_security_token(page: Any, db: Session, backend: str) -> None:  # noqa: F811
    email, path = _setup(db)
    sign_in(page, email)
    _type_comment(page, path)
    token = page.locator("#comment-form input[name=csrf_token]").input_value()
    # As a page left open across a sign-out and sign-in elsewhere: its token is an older session's.
    page.locator("#comment-form input[name=csrf_token]").evaluate("el => { el.value = 'an-older-sessions-token'; }")
    page.locator("#comment-form").get_by_role("button", name="Comment").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="Form expired").is_visible()
    assert _comments(db) == []
    draft = page.evaluate(f"sessionStorage.getItem('{DRAFT}')")
    assert "Amsterdam" in draft and token not in draft and "an-older-sessions-token" not in draft

    page.get_by_role("link", name="Back to the form").click()
    page.wait_for_url(f"**{path}")
    _send_restored_comment(page, db, path)


def test_passwords_are_never_kept(page: Any, db: Session) -> None:  # noqa: F811
    email, path = _setup(db)
    sign_in(page, email)
    _type_comment(page, path)
    db.execute(ConsoleSession.__table__.update().values(expires=ConsoleSession.created))
    db.commit()
    page.locator("#comment-form").get_by_role("button", name="Comment").click()
    page.get_by_role("link", name="Sign in again").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    assert "Incorrect email or password" in page.inner_text("body")
    stored = page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert "a wrong password" not in stored and "Amsterdam" in stored  # the draft waits, without the password
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}")
    assert page.locator("#comment-form textarea").input_value() == TEXT
