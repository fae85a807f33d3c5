"""The console in a real headless Chromium (Debian's ``chromium``, driven by Playwright for Python), against
a real server process on a loopback port, on SQLite and on PostgreSQL.

No browser is ever downloaded: Playwright launches ``/usr/bin/chromium`` (or ``OPENMIRA_TEST_CHROMIUM``).
Without it the tests skip, except under ``CI=true`` where that is a failure. Screenshots of the main pages
go to ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.credentials.models import KeyPair
from openmira.orgs.models import License
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.conftest import unavailable
from tests.console.helpers import PASSWORD, XSS_BODY, make_finding
from tests.helpers import API
from tests.live import LiveServer, live_server

CHROMIUM = os.environ.get("OPENMIRA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable("Playwright for Python", exc)
    if not Path(CHROMIUM).exists():
        unavailable("Chromium", f"{CHROMIUM} does not exist; apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(database_url: str, engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(database_url, tmp_path_factory.mktemp("console-server")) as live:
        yield live


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


def shot(page: Any, backend: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page repeats the sticky bar
    page.screenshot(path=str(SCREENSHOTS / f"{backend}-{name}.png"), full_page=True)


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/console/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def token_response(server: LiveServer, client_id: str, secret: str) -> httpx.Response:
    body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
            "audience": "public-api"}
    return httpx.post(f"{server.url}/oauth/token", json=body, timeout=10)


def users_status(server: LiveServer, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{server.url}{API}/org/users", headers=headers, timeout=10).status_code


def _org_with_people(db: Session, name: str) -> tuple[uuid.UUID, str, str]:
    org = create_org(db, name)
    slug = uuid.uuid4().hex[:6]
    admin = create_user(db, org.id, f"alice-{slug}@acme.example", first_name="Alice", last_name="Nguyen",
                        roles=[Role.ADMINISTRATOR], password=PASSWORD)
    analyst = create_user(db, org.id, f"priya-{slug}@acme.example", first_name="Priya", last_name="Shah",
                          roles=[Role.ANALYST], password=PASSWORD)
    db.commit()
    return org.id, admin.email, analyst.email


def test_generate_use_rotate_and_delete_a_key_pair(page: Any, server: LiveServer, db: Session, backend: str) -> None:
    org_id, admin_email, _ = _org_with_people(db, "Acme Corporation")
    for i, (name, prio, type_) in enumerate([("Possible brute force against Microsoft 365", 1, 10),
                                             ("Outdated TLS on mail gateway", 3, 30),
                                             ("Agent stopped reporting", 3, 40)]):
        make_finding(db, org_id, name=name, priority=prio, type=type_, minutes_ago=i * 30)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto("/console/settings/organization")
    assert "/console/sign-in" in page.url
    shot(page, backend, "01-sign-in")
    page.get_by_label("Email").fill(admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/settings/organization")

    page.get_by_role("link", name="Findings").click()
    page.wait_for_url(f"**/console/orgs/{org_id}/findings")
    assert page.get_by_role("link", name="Possible brute force against Microsoft 365").is_visible()
    shot(page, backend, "02-findings-list")

    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/console/settings/organization")
    shot(page, backend, "03-settings-organization")

    # Generate API Credentials -> Label, Access level -> Generate
    page.get_by_role("button", name="Generate API Credentials").click()
    dialog = page.locator("#generate-dialog")
    assert dialog.is_visible()
    dialog.get_by_label("Label").fill("SOAR integration")
    assert dialog.get_by_label("Read-write").is_checked()  # the default
    shot(page, backend, "04-generate-dialog")
    dialog.get_by_role("button", name="Generate").click()
    issued = page.locator("#issued-dialog")
    issued.wait_for(state="visible")
    assert "API Credentials Generated" in issued.inner_text()
    assert "will not be shown again" in issued.inner_text()
    client_id = page.locator("#issued-client-id").inner_text().strip()
    secret = page.locator("#issued-client-secret").inner_text().strip()
    assert len(client_id) == 32 and len(secret) == 64
    shot(page, backend, "05-generated-credentials")
    issued.get_by_role("button", name="Copy").nth(1).click()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    # The pair works like any other: token, then an API call.
    response = token_response(server, client_id, secret)
    assert response.status_code == 200, response.text
    first_token = response.json()["access_token"]
    assert users_status(server, first_token) == 200

    issued.get_by_role("button", name="Done").click()
    # The secret left the page, and reloading does not post the form again.
    assert page.url.endswith("/console/settings/organization")
    page.reload()
    assert page.locator("#credentials-table tbody tr").count() == 1
    row = page.locator(f"tr[data-client-id='{client_id}']")
    assert row.is_visible() and "SOAR integration" in row.inner_text() and "Read-write" in row.inner_text()
    assert secret not in page.content()

    # Rotate -> "Client Secret Rotation" -> "Rotated Client Secret"
    row.get_by_role("button", name="Rotate").click()
    confirm = page.get_by_role("dialog", name="Client Secret Rotation")
    assert confirm.is_visible()
    shot(page, backend, "06-rotate-confirm")
    confirm.get_by_role("button", name="Rotate").click()
    rotated = page.locator("#issued-dialog")
    rotated.wait_for(state="visible")
    assert "Rotated Client Secret" in rotated.inner_text()
    assert page.locator("#issued-client-id").inner_text().strip() == client_id
    new_secret = page.locator("#issued-client-secret").inner_text().strip()
    assert new_secret != secret
    shot(page, backend, "07-rotated-secret")
    assert token_response(server, client_id, secret).status_code == 401
    assert users_status(server, first_token) == 401
    response = token_response(server, client_id, new_secret)
    assert response.status_code == 200
    new_token = response.json()["access_token"]
    assert users_status(server, new_token) == 200
    rotated.get_by_role("button", name="Done").click()

    # Delete (trash icon) -> confirm
    row = page.locator(f"tr[data-client-id='{client_id}']")
    row.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Delete API Credentials")
    assert confirm.is_visible()
    shot(page, backend, "08-delete-confirm")
    confirm.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/console/settings/organization?deleted=1")
    assert page.locator(f"tr[data-client-id='{client_id}']").count() == 0
    assert "were deleted" in page.inner_text("body")
    assert token_response(server, client_id, new_secret).status_code == 401
    deadline = time.monotonic() + 2
    while users_status(server, new_token) != 401:
        assert time.monotonic() < deadline, "a deleted pair's token still works after 2 s"
        time.sleep(0.1)

    # Every asset came from OpenMira itself.
    assert requests and all(url.startswith(server.url) for url in requests), requests


def test_a_non_administrator_cannot_manage_key_pairs(page: Any, server: LiveServer, db: Session, backend: str) -> None:
    org_id, _, analyst_email = _org_with_people(db, "Globex")
    from openmira.credentials.service import create_key_pair

    pair = create_key_pair(db, org_id, label="SIEM export").pair
    db.commit()
    before = pair.secret_hash
    sign_in(page, analyst_email)
    page.goto("/console/settings/organization")
    row = page.locator(f"tr[data-client-id='{pair.client_id}']")
    assert row.is_visible()
    assert page.get_by_role("button", name="Generate API Credentials").count() == 0
    assert page.get_by_role("button", name="Rotate").count() == 0
    assert page.get_by_role("button", name="Delete").count() == 0
    shot(page, backend, "09-settings-non-admin")
    # A forged POST, made from the signed-in page with a valid CSRF token, is refused.
    statuses = page.evaluate(
        """async (clientId) => {
            const token = document.querySelector("input[name=csrf_token]").value;
            const out = [];
            for (const path of ["", "/" + clientId + "/rotate", "/" + clientId + "/delete"]) {
                const body = new URLSearchParams({csrf_token: token, label: "forged"});
                const r = await fetch("/console/settings/organization/credentials" + path, {method: "POST", body});
                out.push(r.status);
            }
            return out;
        }""",
        pair.client_id,
    )
    assert statuses == [403, 403, 403]
    db.expire_all()
    pairs = list(db.scalars(select(KeyPair).where(KeyPair.org_id == org_id)))
    assert [(p.client_id, p.secret_hash) for p in pairs] == [(pair.client_id, before)]


def test_comment_html_cannot_run_in_the_finding_page(page: Any, server: LiveServer, db: Session, backend: str) -> None:
    org_id, admin_email, _ = _org_with_people(db, "Initech")
    analyst = create_user(db, org_id, f"sam-{uuid.uuid4().hex[:6]}@initech.example", first_name="Sam",
                          last_name="Okafor", roles=[Role.RESPONDER])
    db.commit()
    finding = make_finding(db, org_id, name="Suspicious PowerShell download cradle", comment=XSS_BODY,
                           sender=analyst.id, owner=analyst.id, priority=1)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, admin_email)
    page.goto(f"/console/orgs/{org_id}/findings/{finding.id}")
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="Suspicious PowerShell download cradle").is_visible()
    comment = page.locator("#comments .comment-body")
    assert "benign" in comment.inner_text()
    dangerous = "script, style, iframe, img, svg, form, [onerror], [onclick], [onload], [style]"
    assert comment.locator(dangerous).count() == 0
    assert page.locator("a[href^='javascript' i]").count() == 0
    page.get_by_text("click me").click()
    page.get_by_text("styled").click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert page.locator("body").is_visible()  # the injected <style> did not hide the page
    assert page.get_by_text("<img src=x onerror=alert(1)>").is_visible()  # evidence shown as text
    shot(page, backend, "10-finding")

    # Work the finding from its page: resolve it, then comment (with HTML that must stay inert too).
    resolve = page.locator("#resolve-form")
    resolve.get_by_label("Resolution").select_option(label="False Positive")
    resolve.get_by_label("Notes").fill("Sanctioned admin script")
    resolve.get_by_role("button", name="Resolve").click()
    page.wait_for_url(f"**/findings/{finding.id}#details")
    details = page.locator("#details").inner_text()
    assert "False Positive" in details and "Sanctioned admin script" in details
    page.locator("#comment-form textarea").fill('<p>Checked with <b>Sam</b></p><img src=x onerror="window.__pwned=1">')
    page.locator("#comment-form").get_by_role("button", name="Comment").click()
    page.wait_for_url(f"**/findings/{finding.id}#comments")
    assert page.locator("#comments .comment-body").count() == 2
    assert "Checked with Sam" in page.locator("#comments .comment-body").last.inner_text()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None and dialogs == []
    shot(page, backend, "10b-finding-worked")


def test_msp_portal_integrations(page: Any, server: LiveServer, db: Session, backend: str) -> None:
    msp = create_org(db, "Northwind Managed Security", msp=True)
    email = f"msp-{uuid.uuid4().hex[:6]}@northwind.example"
    create_user(db, msp.id, email, first_name="Nora", last_name="Lind", roles=[Role.ADMINISTRATOR], password=PASSWORD)
    licenses = [("Contoso Dental", License.ADVANCED), ("Fabrikam Legal", License.M365), ("Tailspin Toys", License.FREE)]
    accounts = [create_org(db, n, parent_id=msp.id, license=lic) for n, lic in licenses]
    db.commit()
    make_finding(db, accounts[0].id, name="Impossible travel for j.doe", priority=2)
    sign_in(page, email)
    page.wait_for_url("**/console/msp/overview")
    page.get_by_role("link", name="MSP Portal").click()
    page.wait_for_url("**/console/msp/integrations")
    for name in ["Contoso Dental", "Fabrikam Legal", "Tailspin Toys", "ADVANCED", "M365", "FREE"]:
        assert page.locator("#sub-accounts").get_by_text(name, exact=True).count() >= 1, name
    page.get_by_role("button", name="Generate API Credentials").click()
    page.locator("#generate-dialog").get_by_label("Read-only").check()
    page.locator("#generate-dialog").get_by_role("button", name="Generate").click()
    client_id = page.locator("#issued-client-id").inner_text().strip()
    secret = page.locator("#issued-client-secret").inner_text().strip()
    response = token_response(server, client_id, secret)
    assert response.status_code == 200 and response.json()["scope"] == "ro"
    page.locator("#issued-dialog").get_by_role("button", name="Done").click()
    shot(page, backend, "11-msp-integrations")
    page.locator("#sub-accounts").get_by_role("link", name="Findings").first.click()
    page.wait_for_url(f"**/console/orgs/{accounts[0].id}/findings")  # accounts are listed by name
    assert page.get_by_role("link", name="Impossible travel for j.doe").is_visible()
