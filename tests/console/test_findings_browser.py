"""The findings lists in a real Chromium (the fixtures of ``test_console_browser``): an MSP user's all-accounts
view, name search, sorting by a column header, and the error for an invalid filter value; each list is
checked against what the API answers for the same query."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from openmira.credentials.service import create_key_pair
from openmira.orgs.models import License
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.console.helpers import PASSWORD, make_finding
from tests.console.test_console_browser import (  # noqa: F401 (fixtures)
    backend,
    browser,
    page,
    server,
    shot,
    sign_in,
    token_response,
)
from tests.helpers import API
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def api_short_ids(live: LiveServer, org_id: uuid.UUID, db: Session, path: str) -> list[str]:
    issued = create_key_pair(db, org_id, label="browser check")
    db.commit()
    token = token_response(live, issued.pair.client_id, issued.client_secret).json()["access_token"]
    response = httpx.get(f"{live.url}{API}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return [f["short_id"] for f in response.json()["data"]]


def shown_ids(tab: Any) -> list[str]:
    return [text.strip() for text in tab.locator("table.findings tbody tr td:first-child code").all_inner_texts()]


def wait_for(tab: Any, suffix: str) -> None:
    """Wait until the address ends with ``suffix`` (globs would read the query's ``?`` as a wildcard)."""
    tab.wait_for_url(lambda url: url.endswith(suffix))


def content_fits(tab: Any) -> bool:
    """Whether the page's content fits the viewport's width (tables may scroll inside their own container).
    The top bar's fit at 390 px is checked with the narrow-screen layout's own tests."""
    return tab.evaluate("document.querySelector('main').scrollWidth <= document.documentElement.clientWidth")


def test_msp_user_sees_findings_of_every_account(
    page: Any, server: LiveServer, db: Session, backend: str  # noqa: F811
) -> None:
    msp = create_org(db, "Summit Managed IT", msp=True)
    email = f"morgan-{uuid.uuid4().hex[:6]}@summit.example"
    create_user(db, msp.id, email, first_name="Morgan", last_name="Reyes", roles=[Role.ANALYST], password=PASSWORD)
    accounts = {name: create_org(db, name, parent_id=msp.id, license=lic)
                for name, lic in [("Contoso Dental", License.ADVANCED), ("Fabrikam Legal", License.M365),
                                  ("Tailspin Toys", License.FREE)]}
    db.commit()
    for i, (name, org) in enumerate(accounts.items()):
        for j, title in enumerate(["Impossible travel for j.doe", "Mailbox forwarding rule to external domain"]):
            make_finding(db, org.id, name=f"{title} ({name})", short_id=f"{name[:3].upper()}{j}",
                         priority=j * 2 + 1, minutes_ago=i * 10 + j)
    sign_in(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Findings", exact=True).click()
    page.wait_for_url("**/console/msp/findings")
    assert page.get_by_role("heading", name="Findings across all accounts").is_visible()
    assert page.get_by_text("4 findings", exact=True).is_visible()
    assert shown_ids(page) == api_short_ids(server, msp.id, db, "/msp/accounts/findings?page_size=25")
    accounts_shown = page.locator("table.findings tbody td.account-name").all_inner_texts()
    assert sorted(set(accounts_shown)) == ["Contoso Dental", "Fabrikam Legal"]  # the free account is left out
    shot(page, backend, "20-msp-findings")

    # The Account filter narrows the list as soon as an account is chosen.
    page.get_by_label("Account").select_option(label="Fabrikam Legal")
    wait_for(page, f"/console/msp/findings?account={accounts['Fabrikam Legal'].id}")
    assert sorted(shown_ids(page)) == ["FAB0", "FAB1"]
    assert page.get_by_text("2 findings", exact=True).is_visible()

    # A finding opens within its account, and the way back leads to the all-accounts view.
    page.get_by_role("link", name="Impossible travel for j.doe (Fabrikam Legal)").click()
    page.wait_for_url(f"**/console/orgs/{accounts['Fabrikam Legal'].id}/findings/*")
    assert page.get_by_role("heading", name="Impossible travel for j.doe (Fabrikam Legal)").is_visible()
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="All accounts").click()
    page.wait_for_url("**/console/msp/findings")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert content_fits(page), "the all-accounts findings page scrolls sideways at 390 px"
    shot(page, backend, "21-msp-findings-390")


def test_search_sort_and_an_invalid_filter(
    page: Any, server: LiveServer, db: Session, backend: str  # noqa: F811
) -> None:
    org = create_org(db, "Acme Corporation")
    email = f"priya-{uuid.uuid4().hex[:6]}@acme.example"
    create_user(db, org.id, email, first_name="Priya", last_name="Shah", roles=[Role.ANALYST], password=PASSWORD)
    db.commit()
    names = ["Possible brute force against Microsoft 365", "Outdated TLS on mail gateway", "Brute force on VPN",
             "Agent stopped reporting", "Password spray: brute force on OWA"]
    for i, name in enumerate(names):
        make_finding(db, org.id, name=name, short_id=f"AC{i}", priority=5 - i, minutes_ago=i * 5)
    sign_in(page, email)
    page.goto(f"/console/orgs/{org.id}/findings")

    # Search by name: a case-insensitive substring, through the API's name.contains.
    page.get_by_label("Name contains").fill("BRUTE FORCE")
    page.get_by_label("Name contains").press("Enter")
    wait_for(page, "/findings?name.contains=BRUTE+FORCE")
    assert sorted(shown_ids(page)) == ["AC0", "AC2", "AC4"]
    assert page.get_by_text("3 findings", exact=True).is_visible()

    # Sort by clicking a column header: ascending, then descending; the search stays.
    page.get_by_role("link", name="Priority", exact=True).click()
    wait_for(page, "/findings?name.contains=BRUTE+FORCE&order_by=priority;asc")
    assert shown_ids(page) == ["AC4", "AC2", "AC0"]
    assert page.locator("th[aria-sort='ascending']").inner_text().lower().startswith("priority")
    page.get_by_role("link", name="Priority", exact=True).click()
    wait_for(page, "/findings?name.contains=BRUTE+FORCE&order_by=priority;desc")
    assert shown_ids(page) == ["AC0", "AC2", "AC4"]
    assert shown_ids(page) == api_short_ids(server, org.id, db,
                                            "/org/findings?name.contains=BRUTE+FORCE&order_by=priority;desc")
    # A filter chosen now keeps the search and the order.
    page.get_by_role("combobox", name="Priority").select_option(label="P3")
    wait_for(page, "/findings?name.contains=BRUTE+FORCE&priority=3&order_by=priority;desc")
    assert shown_ids(page) == ["AC2"]
    shot(page, backend, "22-findings-search-sort")

    # An invalid value is an error on the page, and no rows pretend to be filtered.
    page.goto(f"/console/orgs/{org.id}/findings?priority=abc")
    alert = page.get_by_role("alert")
    assert alert.is_visible() and "priority: must be an integer" in alert.inner_text()
    assert shown_ids(page) == []
    assert page.get_by_text("No findings shown: correct the filter above.").is_visible()
    shot(page, backend, "23-findings-invalid-filter")
    page.get_by_role("link", name="Clear", exact=True).click()
    wait_for(page, f"/console/orgs/{org.id}/findings?")
    assert len(shown_ids(page)) == 5

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/console/orgs/{org.id}/findings?name.contains=brute&order_by=name;asc")
    assert content_fits(page), "the findings page scrolls sideways at 390 px"
    shot(page, backend, "24-findings-390")
