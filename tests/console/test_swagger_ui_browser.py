"""The Swagger UI at /public-api/v1/ui/ in a real Chromium: it renders offline, and Authorize + Try it out works."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from sqlalchemy.orm import Session

from openmira.credentials.service import create_key_pair
from openmira.orgs.service import create_org
from tests.console.test_console_browser import backend, browser, page, server, shot, token_response  # noqa: F401
from tests.helpers import API
from tests.live import LiveServer


def test_authorize_and_try_it_out(page: Any, server: LiveServer, db: Session, backend: str) -> None:  # noqa: F811
    org = create_org(db, "Docs Org")
    issued = create_key_pair(db, org.id)
    db.commit()
    token = token_response(server, issued.pair.client_id, issued.client_secret).json()["access_token"]
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))

    page.goto(f"{API}/ui/")
    page.wait_for_selector(".swagger-ui .information-container")
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".modal-ux input").first.fill(token)
    page.locator(".modal-ux .auth-btn-wrapper button.authorize").click()
    page.locator(".modal-ux .auth-btn-wrapper button.btn-done").click()

    operation = page.locator("#operations-users-get_users")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200")
    shot(page, backend, "12-swagger-ui")
    assert hosts == {urlparse(server.url).netloc}, f"the docs page reached out to {hosts}"
