"""The overview dashboards in a real Chromium against a live server, on SQLite and PostgreSQL: the numbers
drawn in the charts equal what the API answers to a real key pair, nothing is fetched from elsewhere, and a
390 px wide screen never scrolls sideways."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy.orm import Session

from openmira.agents.models import AgentDevice
from openmira.credentials.models import AccessLevel
from openmira.credentials.service import create_key_pair
from openmira.db.base import utcnow
from openmira.findings.models import Finding
from openmira.orgs.models import License
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.console.helpers import PASSWORD
from tests.console.test_console_browser import backend, browser, page, server, shot, sign_in, token_response
from tests.helpers import API
from tests.live import LiveServer

pytestmark = pytest.mark.browser
__all__ = ["backend", "browser", "page", "server"]  # the fixtures, shared with the console's browser tests

OPEN, RESOLVED = 10, 40


class Api:
    """The public API with one key pair, as an integrator's script would call it."""

    def __init__(self, server: LiveServer, db: Session, org_id: uuid.UUID) -> None:
        issued = create_key_pair(db, org_id, label="dashboard check", access=AccessLevel.READ_ONLY)
        db.commit()
        token = token_response(server, issued.pair.client_id, issued.client_secret).json()["access_token"]
        self.http = httpx.Client(base_url=f"{server.url}{API}", headers={"Authorization": f"Bearer {token}"},
                                 timeout=10)

    def get(self, path: str, **params: str | int) -> dict[str, Any]:
        while True:
            response = self.http.get(path, params=params)
            if response.status_code != 429:  # the key pair's rate limit: wait as told, then ask again
                assert response.status_code == 200, response.text
                return response.json()
            time.sleep(float(response.headers.get("retry-after", "1")))

    def total(self, path: str, **params: str | int) -> int:
        return self.get(path, **params)["meta"]["total_items"]


def _finding(db: Session, org_id: uuid.UUID, created: datetime, priority: int, type_: int = 10,
             resolved: datetime | None = None, name: str | None = None) -> Finding:
    finding = Finding(
        org_id=org_id, short_id=uuid.uuid4().hex[:10].upper(), name=name or f"P{priority} finding", priority=priority,
        type=type_, status=RESOLVED if resolved else OPEN, resolution=10 if resolved else None, created=created,
        modified=resolved or created, status_modified=resolved,
    )
    db.add(finding)
    return finding


def _bars(page: Any, chart: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every bar drawn in a chart: (label, series) -> its data-value, the number written beside it, and its
    drawn width in pixels."""
    rows = page.locator(f'[data-chart="{chart}"] rect.bar').evaluate_all(
        """rects => rects.map(r => ({
            label: r.dataset.label, series: r.dataset.series, value: Number(r.dataset.value),
            width: r.getBoundingClientRect().width, height: r.getBoundingClientRect().height,
            text: r.nextElementSibling?.tagName === 'text' ? r.nextElementSibling.textContent : null,
        }))"""
    )
    return {(r["label"], r["series"]): r for r in rows}


def _no_sideways_scroll(page: Any) -> None:
    # The page's content; the top bar's narrow-screen layout is checked by the console's own browser tests.
    widths = page.evaluate("[document.querySelector('main').scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    for box in page.locator("svg.chart-svg").evaluate_all("els => els.map(e => e.getBoundingClientRect().right)"):
        assert box <= widths[1]


def _same_origin(server: LiveServer, requests: list[str]) -> None:
    origin = urlparse(server.url).netloc
    assert requests and all(urlparse(u).netloc == origin for u in requests if not u.startswith("data:")), requests


def _day_filter(day: date) -> dict[str, str]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return {"created.!lt": start.isoformat(), "created.lt": (start + timedelta(days=1)).isoformat()}


def test_organization_overview_draws_the_api_numbers(page: Any, server: LiveServer, db: Session, backend: str) -> None:
    org = create_org(db, "Acme Dashboards")
    email = f"dana-{uuid.uuid4().hex[:6]}@acme.example"
    create_user(db, org.id, email, first_name="Dana", last_name="Reyes", roles=[Role.ANALYST], password=PASSWORD)
    now = utcnow()
    today = now.date()
    plan = [  # (days ago, priority, type, resolved after hours or None)
        (0, 1, 10, None), (0, 3, 30, None), (1, 1, 10, None), (1, 2, 20, 2), (2, 4, 40, 5), (3, 2, 10, None),
        (3, 3, 30, None), (3, 3, 30, None), (6, 5, 50, None), (12, 1, 10, 30), (12, 3, 30, None), (29, 2, 20, None),
        (45, 2, 10, None),
    ]
    for days_ago, priority, type_, hours in plan:
        created = datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), tzinfo=UTC) + timedelta(
            minutes=30)
        resolved = created + timedelta(hours=hours) if hours is not None else None
        _finding(db, org.id, created, priority, type_, resolved if resolved and resolved <= now else None)
    db.commit()
    api = Api(server, db, org.id)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    sign_in(page, email)
    page.wait_for_url(f"**/console/orgs/{org.id}/overview")
    assert page.get_by_role("link", name="Overview").get_attribute("aria-current") == "page"

    priority = _bars(page, "open-by-priority")
    for p in range(1, 6):
        bar = priority[(f"P{p}", "open")]
        assert bar["value"] == api.total("/org/findings", status=OPEN, priority=p), p
        assert bar["text"] == str(bar["value"])
    # Longer bars for bigger numbers: what is drawn, not only what is written.
    p1, p3, p5 = (priority[(f"P{p}", "open")] for p in (1, 3, 5))
    assert p3["value"] > p1["value"] > p5["value"] > 0 and p3["width"] > p1["width"] > p5["width"] > 0

    types = _bars(page, "open-by-type")
    for type_id, label in [(10, "Threat"), (20, "Suspect"), (30, "Risk"), (40, "Operational"),
                           (50, "System Notification")]:
        assert types[(label, "open")]["value"] == api.total("/org/findings", status=OPEN, type=type_id), label

    activity = _bars(page, "activity")
    assert len(activity) == 60
    opened_days = sorted({today - timedelta(days=d) for d, *_ in plan if d < 30} | {today - timedelta(days=20)})
    for day in opened_days:  # every day with findings, and one without
        drawn = activity[(day.isoformat(), "opened")]
        assert drawn["value"] == api.total("/org/findings", **_day_filter(day)), day
        assert (drawn["height"] > 0) == (drawn["value"] > 0)
    resolved = {k[0]: v["value"] for k, v in activity.items() if k[1] == "resolved" and v["value"]}
    expected = {}
    for days_ago, *_, hours in plan:
        if hours is not None:
            at = datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), tzinfo=UTC) + timedelta(
                minutes=30, hours=hours)
            if at <= now:
                expected[at.date().isoformat()] = expected.get(at.date().isoformat(), 0) + 1
    assert resolved == expected
    assert page.locator("#stat-opened").inner_text() == str(sum(1 for d, *_ in plan if d < 30))
    assert page.locator("#stat-open").inner_text() == str(api.total("/org/findings", status=OPEN))

    oldest = page.locator("#oldest-urgent tbody tr").first
    assert "P2" in oldest.inner_text()
    oldest.get_by_role("link").click()
    page.wait_for_url(f"**/console/orgs/{org.id}/findings/*")
    finding_id = page.url.rsplit("/", 1)[-1]
    assert api.get(f"/org/findings/{finding_id}")["data"]["priority"] == 2

    page.goto(f"/console/orgs/{org.id}/overview")
    # Each row of a bar chart is a link named with its numbers (what a screen reader announces).
    page.get_by_role("link", name=f"P3: {p3['value']} open", exact=True).click()
    page.wait_for_url("**/findings?status=10&priority=3")
    assert page.get_by_text(f"{p3['value']} findings").is_visible()
    page.get_by_role("link", name="Overview").click()
    page.wait_for_url(f"**/console/orgs/{org.id}/overview")
    shot(page, backend, "20-org-overview")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _no_sideways_scroll(page)
    page.locator("details.chart-data summary").click()
    _no_sideways_scroll(page)
    shot(page, backend, "21-org-overview-390")
    _same_origin(server, requests)


def test_msp_overview_draws_the_msp_api_numbers(page: Any, server: LiveServer, db: Session, backend: str) -> None:
    msp = create_org(db, "Summit Dashboards IT", msp=True)
    email = f"morgan-{uuid.uuid4().hex[:6]}@summit.example"
    create_user(db, msp.id, email, first_name="Morgan", last_name="Lee", roles=[Role.ADMINISTRATOR], password=PASSWORD)
    now = utcnow()
    names = [("Contoso Dental", License.ADVANCED, 10), ("Fabrikam Legal Partners LLP", License.M365, 2),
             ("Tailspin Toys", License.FREE, 5), ("Quiet Quarry", License.SIEM_STARTER, 25)]
    accounts = {}
    for name, lic, seats in names:
        account = create_org(db, name, parent_id=msp.id, license=lic)
        account.agent_seat_count = seats
        accounts[name] = account
    db.flush()
    for name, findings, agents in [("Contoso Dental", [(1, 0), (3, 1), (3, 2), (2, 10)], 7),
                                   ("Fabrikam Legal Partners LLP", [(1, 0), (1, 0), (4, 0)], 3),
                                   ("Tailspin Toys", [(5, 0)], 0), ("Quiet Quarry", [], 1)]:
        for priority, days_ago in findings:
            _finding(db, accounts[name].id, now - timedelta(days=days_ago, hours=1), priority)
        for i in range(agents):
            db.add(AgentDevice(org_id=accounts[name].id, hostname=f"{name[:4].lower()}-{i}"))
    db.commit()
    api = Api(server, db, msp.id)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    sign_in(page, email)
    page.wait_for_url("**/console/msp/overview")
    findings = _bars(page, "findings-per-account")
    seats = _bars(page, "seats-per-account")
    for name, account in accounts.items():
        detail = api.get(f"/msp/accounts/{account.id}")["data"]
        assert findings[(name, "open")]["value"] == detail["open_findings"], name
        critical = api.total(f"/msp/accounts/{account.id}/findings", status=OPEN, priority=1)
        assert findings[(name, "critical")]["value"] == critical, name
        assert seats[(name, "agents")]["value"] == detail["agent_count_used"], name
        assert seats[(name, "agents")]["text"] == f"{detail['agent_count_used']} / {detail['agent_count_available']}"
    assert findings[("Contoso Dental", "open")]["value"] == 4
    assert findings[("Fabrikam Legal Partners LLP", "critical")]["value"] == 2

    attention = page.locator("#attention li")
    flagged = {attention.nth(i).get_attribute("data-account") for i in range(attention.count())}
    # Contoso: a P1 and a finding open 10 days; Fabrikam: P1s and 3 agents on 2 seats. Quiet Quarry and
    # Tailspin (a P5 opened an hour ago) are fine.
    assert flagged == {str(accounts["Contoso Dental"].id), str(accounts["Fabrikam Legal Partners LLP"].id)}
    shot(page, backend, "22-msp-overview")

    assert page.get_by_role("link", name="Contoso Dental: 7 / 10 agent seats used", exact=True).is_visible()
    page.get_by_role("link", name="Fabrikam Legal Partners LLP: 3 open, 2 open P1", exact=True).click()
    page.wait_for_url(f"**/console/orgs/{accounts['Fabrikam Legal Partners LLP'].id}/overview")
    assert _bars(page, "open-by-priority")[("P1", "open")]["value"] == 2

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/console/msp/overview")
    _no_sideways_scroll(page)
    shot(page, backend, "23-msp-overview-390")
    _same_origin(server, requests)
