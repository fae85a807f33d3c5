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

    _open_docs(page)
    page.get_by_role("button", name="Authorize").first.click()
    bearer = page.locator(".modal-ux .auth-container").filter(has_text="bearerAuth")
    bearer.locator("input").first.fill(token)
    bearer.locator("button.authorize").click()
    bearer.locator("button.btn-done").click()

    _try_org_users(page)
    shot(page, backend, "12-swagger-ui")
    assert hosts == {urlparse(server.url).netloc}, f"the docs page reached out to {hosts}"


def test_authorize_fetches_a_token_from_client_id_and_secret(
    page: Any, server: LiveServer, db: Session  # noqa: F811
) -> None:
    """The oauth2 scheme: Authorize posts the Client ID and Secret to the token endpoint itself."""
    org = create_org(db, "Docs Org")
    issued = create_key_pair(db, org.id)
    db.commit()
    token_calls: list[int] = []
    page.on("response", lambda r: token_calls.append(r.status) if r.url.endswith("/oauth/token") else None)

    _open_docs(page)
    page.get_by_role("button", name="Authorize").first.click()
    oauth2 = page.locator(".modal-ux .auth-container").filter(has_text="oauth2")
    oauth2.locator('input[data-name="clientId"]').fill(issued.pair.client_id)
    oauth2.locator('input[data-name="clientSecret"]').fill(issued.client_secret)
    oauth2.locator("button.authorize").click()
    oauth2.get_by_role("button", name="Remove authorization").wait_for()  # "Logout": a token was obtained
    oauth2.locator("button.btn-done").click()
    assert token_calls == [200]

    _try_org_users(page)


def _open_docs(page: Any) -> None:  # noqa: F811
    """Load the docs page and wait until Swagger UI has rendered the document.

    Rendering 59 operations takes Chromium 2-5 s on two busy cores, and under the whole suite's load it
    once took longer than the 10 s a console page gets, so the first render alone gets 30 s.
    """
    page.goto(f"{API}/ui/")
    page.wait_for_selector(".swagger-ui .information-container", timeout=30_000)


def _try_org_users(page: Any) -> None:  # noqa: F811
    """Try it out on GET /org/users: a 200 means the token Authorize holds was sent."""
    operation = page.locator(".opblock").filter(has=page.locator('.opblock-summary-path[data-path="/org/users"]'))
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200")
