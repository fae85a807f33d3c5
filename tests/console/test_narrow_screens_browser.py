"""Every console page on a phone (390 x 844, an iPhone 12-15): the page never scrolls sideways (wide tables
scroll inside their own box), "Sign out" is fully on screen, and IDs are not broken one character per line.

A new page is one line in ``NARROW_PAGES``; its path may use the IDs of ``_world`` ({org_id}, {finding_id},
{msp_id}, {account_id}, {other_org_id}).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from openmira.credentials.service import create_key_pair
from openmira.orgs.models import License
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.console.helpers import PASSWORD, make_finding
from tests.console.test_console_browser import backend, browser, server, shot, sign_in  # noqa: F401
from tests.live import LiveServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class ConsolePage:
    name: str
    path: str
    who: str | None  # "org" (an organization's administrator), "msp" (an MSP's administrator), None: signed out


NARROW_PAGES = [
    ConsolePage("sign-in", "/console/sign-in", None),
    ConsolePage("findings-list", "/console/orgs/{org_id}/findings", "org"),
    ConsolePage("finding", "/console/orgs/{org_id}/findings/{finding_id}", "org"),
    ConsolePage("settings-organization", "/console/settings/organization", "org"),
    ConsolePage("settings-organization-msp", "/console/settings/organization", "msp"),
    ConsolePage("msp-integrations", "/console/msp/integrations", "msp"),
    ConsolePage("msp-account-findings", "/console/orgs/{account_id}/findings", "msp"),
    ConsolePage("msp-all-accounts-findings", "/console/msp/findings", "msp"),
    ConsolePage("overview-organization", "/console/orgs/{org_id}/overview", "org"),
    ConsolePage("overview-msp", "/console/msp/overview", "msp"),
    ConsolePage("overview-msp-account", "/console/orgs/{account_id}/overview", "msp"),
    ConsolePage("error-not-found", "/console/orgs/{other_org_id}/findings", "org"),
]


@dataclass(frozen=True)
class World:
    ids: dict[str, uuid.UUID]
    emails: dict[str, str]


def _world(db: Session) -> World:
    """Long names, long emails and every kind of ID, as a real tenant has them."""
    slug = uuid.uuid4().hex[:6]
    org = create_org(db, "Contoso Pharmaceuticals International Holdings")
    admin = create_user(db, org.id, f"alexandra.konstantinopoulou-{slug}@contoso-pharmaceuticals.example",
                        first_name="Alexandra", last_name="Konstantinopoulou", roles=[Role.ADMINISTRATOR],
                        password=PASSWORD)
    create_user(db, org.id, f"responder-{slug}@contoso-pharmaceuticals.example", roles=[Role.RESPONDER])
    create_key_pair(db, org.id, label="Security orchestration and automated response")
    msp = create_org(db, "Northwind Managed Security Services", msp=True)
    msp_admin = create_user(db, msp.id, f"morgan-{slug}@northwind-managed-security.example", first_name="Morgan",
                            roles=[Role.ADMINISTRATOR], password=PASSWORD)
    account = create_org(db, "Fabrikam Legal and Accounting", parent_id=msp.id, license=License.ADVANCED)
    other = create_org(db, "Someone Else Entirely")
    db.commit()
    finding = make_finding(db, org.id, name="Possible brute force against Microsoft 365 from an unusual country",
                           comment="<p>Looked at the <b>sign-in logs</b>; the source is a known VPN exit.</p>",
                           sender=admin.id, owner=admin.id)
    for i in range(3):
        make_finding(db, org.id, name=f"Outdated TLS configuration on mail gateway {i}", priority=3, minutes_ago=i)
        make_finding(db, account.id, name=f"Impossible travel for j.doe {i}", minutes_ago=i)
    return World(
        {"org_id": org.id, "finding_id": finding.id, "msp_id": msp.id, "account_id": account.id,
         "other_org_id": other.id},
        {"org": admin.email, "msp": msp_admin.email},
    )


@pytest.fixture
def phone(browser: Any, server: LiveServer) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(base_url=server.url, viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


# For each ID (a <code> in the page's content): its text, how many lines it is broken over, and whether it is
# in a table (where it must stay on one line; the table scrolls in its own box).
ID_LINES = """() => Array.from(document.querySelectorAll("main code")).filter(c => c.offsetParent !== null)
    .map(c => ({text: c.textContent.trim(), lines: c.getClientRects().length, in_table: !!c.closest("td")}))"""


@pytest.mark.parametrize("console_page", NARROW_PAGES, ids=[p.name for p in NARROW_PAGES])
def test_console_pages_fit_a_phone(
    phone: Any, db: Session, backend: str, console_page: ConsolePage  # noqa: F811
) -> None:
    world = _world(db)
    if console_page.who is not None:
        sign_in(phone, world.emails[console_page.who])
    phone.goto(console_page.path.format(**world.ids))
    phone.wait_for_load_state("load")
    shot(phone, backend, f"narrow-{console_page.name}")

    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width}px wide"

    if console_page.who is not None:
        button = phone.get_by_role("button", name="Sign out")
        assert button.is_visible()
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth"), "the button's text is cut"
        # Nothing covers it: the element at its centre is the button itself.
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert button.evaluate("(b, [x, y]) => b.contains(document.elementFromPoint(x, y))", centre)

    for code in phone.evaluate(ID_LINES):
        text, lines = code["text"], code["lines"]
        if code["in_table"]:
            assert lines == 1, f"{text!r} in a table is broken over {lines} lines"
        assert len(text) / max(lines, 1) >= min(len(text), 16), f"{text!r} is broken over {lines} lines"


def test_dialogs_fit_a_phone(phone: Any, db: Session, backend: str) -> None:  # noqa: F811
    world = _world(db)
    sign_in(phone, world.emails["org"])
    phone.goto("/console/settings/organization")
    for opener, dialog_id in [("Add user", "add-user-dialog"), ("Generate API Credentials", "generate-dialog")]:
        phone.get_by_role("button", name=opener).click()
        dialog = phone.locator(f"#{dialog_id}")
        dialog.wait_for(state="visible")
        box = dialog.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (dialog_id, box)
        for button in dialog.get_by_role("button").all():
            button_box = button.bounding_box()
            assert button_box is not None and button_box["x"] + button_box["width"] <= PHONE["width"]
        shot(phone, backend, f"narrow-{dialog_id}")
        if dialog_id == "add-user-dialog":
            dialog.get_by_role("button", name="Cancel").click()
    # The show-once window with a long secret.
    phone.locator("#generate-dialog").get_by_role("button", name="Generate").click()
    issued = phone.locator("#issued-dialog")
    issued.wait_for(state="visible")
    box = issued.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, backend, "narrow-issued-dialog")
