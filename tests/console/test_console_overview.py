"""The overview pages over HTTP, on SQLite and PostgreSQL: the drawn numbers equal the API's, UTC days and
their boundaries, the empty organization, the MSP's accounts and who needs attention, tenant isolation."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.agents.models import AgentDevice
from openmira.console import charts
from openmira.db.base import utcnow
from openmira.findings import overview
from openmira.findings.models import Finding
from openmira.orgs.models import License
from openmira.orgs.service import create_org
from tests.console.helpers import C, make_finding, sign_in, with_password
from tests.helpers import API, Tenant, make_tenant

OPEN, RESOLVED = 10, 40


def _finding(db: Session, org_id: uuid.UUID, created: datetime, *, priority: int = 3, type: int = 10,
             resolved: datetime | None = None, name: str = "Finding") -> Finding:
    finding = Finding(
        org_id=org_id, short_id=uuid.uuid4().hex[:10].upper(), name=name, priority=priority, type=type,
        status=RESOLVED if resolved else OPEN, resolution=10 if resolved else None, created=created,
        modified=resolved or created, status_modified=resolved,
    )
    db.add(finding)
    db.flush()
    return finding


def _drawn(html: str, chart: str) -> dict[tuple[str, str], int]:
    """(label, series) -> value of every bar drawn in one chart of the page."""
    block = re.search(rf'<figure class="chart" data-chart="{chart}">(.*?)</figure>', html, re.S)
    assert block, f"no chart {chart}"
    bars = re.findall(r'<rect class="bar [^"]*"[^>]*data-series="([^"]+)" data-label="([^"]+)" data-value="(\d+)"',
                      block.group(1))
    return {(label, series): int(value) for series, label, value in bars}


def _total(client: TestClient, headers: dict[str, str], path: str) -> int:
    response = client.get(f"{API}{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["meta"]["total_items"]


def _signed_in(client: TestClient, db: Session, user_id: uuid.UUID) -> None:
    assert sign_in(client, with_password(db, user_id)).status_code == 303


def test_the_landing_page_is_the_overview_and_findings_stay_reachable(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    _signed_in(client, db, tenant.admin_id)
    response = client.get(f"{C}/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"{C}/orgs/{tenant.org_id}/overview"
    page = client.get(f"{C}/")
    assert page.status_code == 200
    assert f'href="{C}/overview" aria-current="page">Overview</a>' in page.text
    assert f'href="{C}/orgs/{tenant.org_id}/findings"' in page.text
    assert client.get(f"{C}/orgs/{tenant.org_id}/findings").status_code == 200


def test_an_empty_organization_shows_zeros_not_errors(client: TestClient, db: Session, tenant: Tenant) -> None:
    _signed_in(client, db, tenant.admin_id)
    page = client.get(f"{C}/orgs/{tenant.org_id}/overview")
    assert page.status_code == 200
    assert set(_drawn(page.text, "open-by-priority").values()) == {0}
    assert len(_drawn(page.text, "open-by-priority")) == 5
    assert len(_drawn(page.text, "open-by-type")) == 5
    activity = _drawn(page.text, "activity")
    assert len(activity) == 60 and set(activity.values()) == {0}  # 30 days x (opened, resolved)
    assert 'id="stat-median">—<' in page.text
    assert "No open P1 or P2 findings." in page.text


def test_the_drawn_counts_equal_the_api_totals(client: TestClient, db: Session, tenant: Tenant) -> None:
    now = utcnow()
    for priority, type_, resolved in [(1, 10, False), (1, 20, False), (2, 10, False), (2, 10, True), (3, 30, False),
                                      (5, 50, False), (5, 40, True), (4, 40, False), (1, 10, True)]:
        _finding(db, tenant.org_id, now - timedelta(hours=5), priority=priority, type=type_,
                 resolved=now - timedelta(hours=1) if resolved else None)
    db.commit()
    _signed_in(client, db, tenant.admin_id)
    page = client.get(f"{C}/orgs/{tenant.org_id}/overview").text

    by_priority = _drawn(page, "open-by-priority")
    for p in range(1, 6):
        api_total = _total(client, tenant.ro.headers, f"/org/findings?status=10&priority={p}")
        assert by_priority[(f"P{p}", "open")] == api_total
    assert [by_priority[(f"P{p}", "open")] for p in range(1, 6)] == [2, 1, 1, 1, 1]
    by_type = _drawn(page, "open-by-type")
    for type_, label in [(10, "Threat"), (20, "Suspect"), (30, "Risk"), (40, "Operational"),
                         (50, "System Notification")]:
        assert by_type[(label, "open")] == _total(client, tenant.ro.headers, f"/org/findings?status=10&type={type_}")
    open_total = _total(client, tenant.ro.headers, "/org/findings?status=10")
    assert re.search(rf'id="stat-open"><a href="[^"]+">{open_total}</a>', page) and open_total == 6
    activity = _drawn(page, "activity")
    assert sum(v for (_, series), v in activity.items() if series == "opened") == 9
    assert sum(v for (_, series), v in activity.items() if series == "resolved") == 3
    assert 'id="stat-median">4 hours<' in page


def test_days_are_utc_days_and_midnight_belongs_to_the_day_it_starts(db: Session, tenant: Tenant) -> None:
    today = date(2026, 3, 10)
    midnight = datetime(2026, 3, 9, tzinfo=UTC)  # the start of yesterday
    _finding(db, tenant.org_id, midnight)  # yesterday
    _finding(db, tenant.org_id, midnight - timedelta(microseconds=1))  # the day before
    _finding(db, tenant.org_id, midnight + timedelta(days=1) - timedelta(seconds=1))  # yesterday's last second
    # Opened long before the window, resolved at today's midnight: resolved today, not opened in the window.
    _finding(db, tenant.org_id, datetime(2025, 1, 1, tzinfo=UTC), resolved=datetime(2026, 3, 10, tzinfo=UTC))
    # The window's first day starts 29 days before today; an hour before it is outside.
    _finding(db, tenant.org_id, datetime(2026, 2, 9, tzinfo=UTC))
    _finding(db, tenant.org_id, datetime(2026, 2, 8, 23, tzinfo=UTC))
    # Tomorrow (a clock ahead of ours) is not drawn.
    _finding(db, tenant.org_id, datetime(2026, 3, 11, tzinfo=UTC))
    # An offset time is its UTC instant: 2026-03-10T01:30+02:00 is 2026-03-09T23:30Z, yesterday.
    _finding(db, tenant.org_id, datetime.fromisoformat("2026-03-10T01:30:00+02:00"))
    db.commit()

    days = {d.day: d for d in overview.daily_activity(db, [tenant.org_id], today)}
    assert len(days) == 30 and min(days) == date(2026, 2, 9) and max(days) == today
    assert days[date(2026, 3, 9)].opened == 3
    assert days[date(2026, 3, 8)].opened == 1
    assert days[today].opened == 0 and days[today].resolved == 1
    assert days[date(2026, 2, 9)].opened == 1
    assert sum(d.opened for d in days.values()) == 5
    assert sum(d.resolved for d in days.values()) == 1


def test_median_time_to_resolve_counts_the_window_only(db: Session, tenant: Tenant) -> None:
    today = date(2026, 3, 10)
    noon = datetime(2026, 3, 5, 12, tzinfo=UTC)
    for hours in (1, 3, 5):
        _finding(db, tenant.org_id, noon, resolved=noon + timedelta(hours=hours))
    _finding(db, tenant.org_id, noon, resolved=noon + timedelta(hours=2, minutes=30))  # median of 4: (2.5 + 3) / 2
    _finding(db, tenant.org_id, datetime(2025, 1, 1, tzinfo=UTC), resolved=datetime(2025, 6, 1, tzinfo=UTC))  # before
    _finding(db, tenant.org_id, noon)  # still open
    db.commit()
    assert overview.median_time_to_resolve(db, [tenant.org_id], today) == timedelta(hours=2, minutes=45)
    assert overview.median_time_to_resolve(db, [uuid.uuid4()], today) is None


def test_the_oldest_open_p1_and_p2_are_listed_with_links(client: TestClient, db: Session, tenant: Tenant) -> None:
    now = utcnow()
    _finding(db, tenant.org_id, now - timedelta(days=40), priority=3, name="Old but P3")
    _finding(db, tenant.org_id, now - timedelta(days=30), priority=1, name="Resolved P1", resolved=now)
    oldest = _finding(db, tenant.org_id, now - timedelta(days=20), priority=2, name="Oldest P2")
    _finding(db, tenant.org_id, now - timedelta(days=2), priority=1, name="Recent P1")
    db.commit()
    _signed_in(client, db, tenant.admin_id)
    page = client.get(f"{C}/orgs/{tenant.org_id}/overview").text
    table = page[page.index('id="oldest-urgent"'):]
    assert table.index("Oldest P2") < table.index("Recent P1")
    assert "Old but P3" not in table and "Resolved P1" not in table
    assert f'href="{C}/orgs/{tenant.org_id}/findings/{oldest.id}"' in table


def test_another_organizations_overview_is_not_found_and_not_counted(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    make_finding(db, other_tenant.org_id, priority=1, name="<script>alert(1)</script>")
    _signed_in(client, db, tenant.admin_id)
    assert client.get(f"{C}/orgs/{other_tenant.org_id}/overview").status_code == 404
    assert client.get(f"{C}/msp/overview").status_code == 404  # not an MSP
    page = client.get(f"{C}/orgs/{tenant.org_id}/overview").text
    assert _drawn(page, "open-by-priority")[("P1", "open")] == 0


def test_names_are_escaped_inside_the_charts(client: TestClient, db: Session) -> None:
    msp = make_tenant(db, client, "MSP <b>", msp=True)
    create_org(db, '<script>alert("x")</script>"><svg onload=alert(1)>', parent_id=msp.org_id)
    db.commit()
    _signed_in(client, db, msp.admin_id)
    page = client.get(f"{C}/msp/overview").text
    assert "<script>alert" not in page and "<svg onload" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#34;&gt;&lt;svg onload=alert(1)&gt;" in page


def _msp_with_accounts(db: Session, client: TestClient) -> tuple[Tenant, dict[str, uuid.UUID]]:
    msp = make_tenant(db, client, "Summit IT", msp=True)
    now = utcnow()
    accounts = {
        "Calm Bakery": create_org(db, "Calm Bakery", parent_id=msp.org_id, license=License.ADVANCED),
        "Busy Clinic": create_org(db, "Busy Clinic", parent_id=msp.org_id, license=License.M365),
        "Stale Garage": create_org(db, "Stale Garage", parent_id=msp.org_id, license=License.SIEM_STARTER),
        "Free Florist": create_org(db, "Free Florist", parent_id=msp.org_id, license=License.FREE),
    }
    accounts["Busy Clinic"].agent_seat_count = 2
    db.flush()
    _finding(db, accounts["Calm Bakery"].id, now - timedelta(days=1), priority=3)
    _finding(db, accounts["Calm Bakery"].id, now - timedelta(days=30), priority=1, resolved=now)
    for p in (1, 1, 2, 4):
        _finding(db, accounts["Busy Clinic"].id, now - timedelta(hours=3), priority=p)
    _finding(db, accounts["Stale Garage"].id, now - timedelta(days=7, minutes=1), priority=4)
    _finding(db, accounts["Stale Garage"].id, now - timedelta(days=6, hours=23), priority=3)
    _finding(db, accounts["Free Florist"].id, now - timedelta(hours=1), priority=1)
    for i in range(3):
        db.add(AgentDevice(org_id=accounts["Busy Clinic"].id, hostname=f"clinic-{i}"))
    db.add(AgentDevice(org_id=accounts["Calm Bakery"].id, hostname="bakery-0"))
    db.commit()
    return msp, {name: org.id for name, org in accounts.items()}


def test_msp_overview_numbers_equal_the_msp_api(client: TestClient, db: Session) -> None:
    msp, accounts = _msp_with_accounts(db, client)
    _signed_in(client, db, msp.admin_id)
    response = client.get(f"{C}/", follow_redirects=False)
    assert response.headers["location"] == f"{C}/msp/overview"
    page = client.get(f"{C}/msp/overview").text
    drawn = _drawn(page, "findings-per-account")
    seats = _drawn(page, "seats-per-account")
    for name, account_id in accounts.items():
        detail = client.get(f"{API}/msp/accounts/{account_id}", headers=msp.ro.headers).json()["data"]
        assert drawn[(name, "open")] == detail["open_findings"], name
        assert seats[(name, "agents")] == detail["agent_count_used"], name
        assert f"{detail['agent_count_used']} / {detail['agent_count_available']}" in page
        critical = _total(client, msp.ro.headers, f"/msp/accounts/{account_id}/findings?status=10&priority=1")
        assert drawn[(name, "critical")] == critical, name
    assert drawn[("Busy Clinic", "open")] == 4 and drawn[("Busy Clinic", "critical")] == 2
    assert seats[("Calm Bakery", "agents")] == 1


def test_accounts_needing_attention_follow_the_documented_rule(client: TestClient, db: Session) -> None:
    msp, accounts = _msp_with_accounts(db, client)
    _signed_in(client, db, msp.admin_id)
    page = client.get(f"{C}/msp/overview").text
    section = page[page.index('id="attention"'):page.index("</section>", page.index('id="attention"'))]
    flagged = set(re.findall(r'data-account="([0-9a-f-]+)"', section))
    # Busy Clinic: open P1s and more agents than seats; Stale Garage: open for more than 7 days; Free Florist:
    # an open P1 (the overview covers every sub-account, as /msp/accounts does). Calm Bakery's P1 is resolved.
    assert flagged == {str(accounts[n]) for n in ("Busy Clinic", "Stale Garage", "Free Florist")}
    assert "Accounts needing attention (3 of 4)" in page
    assert "2 open P1, 1 agent over the seat count" in section
    assert "1 open for more than 7 days" in section


def test_an_msp_without_accounts_and_a_sub_account_overview(client: TestClient, db: Session) -> None:
    lonely = make_tenant(db, client, "Lonely MSP", msp=True)
    _signed_in(client, db, lonely.admin_id)
    assert "This MSP has no sub-accounts yet." in client.get(f"{C}/msp/overview").text
    client.cookies.clear()

    msp, accounts = _msp_with_accounts(db, client)
    _signed_in(client, db, msp.admin_id)
    page = client.get(f"{C}/orgs/{accounts['Busy Clinic']}/overview")
    assert page.status_code == 200
    assert _drawn(page.text, "open-by-priority")[("P1", "open")] == 2
    assert client.get(f"{C}/orgs/{lonely.org_id}/overview").status_code == 404


def test_chart_layout_helpers() -> None:
    assert [charts._nice_max(v) for v in (0, 3, 4, 5, 9, 10, 11, 20, 21, 150, 999)] == [4, 4, 4, 10, 10, 10, 20, 20,
                                                                                         50, 200, 1000]
    assert charts.duration_text(None) == "—"
    assert charts.duration_text(timedelta(seconds=30)) == "under a minute"
    assert charts.duration_text(timedelta(hours=5)) == "5 hours"
    assert charts.duration_text(timedelta(days=1, minutes=7)) == "1 day"
    assert charts.duration_text(timedelta(days=3, hours=1, minutes=5)) == "3 days 1 hour"
    empty = charts.bar_chart("x", "Empty", "Nothing", [])
    assert empty.rows == [] and empty.height > 0
    days = overview.activity_days(date(2026, 3, 1))
    chart = charts.activity_chart("a", "Days", [overview.DayActivity(d, 0, 0) for d in days])
    assert [s.label for s in chart.slots if s.label] == ["Feb 1", "Feb 8", "Feb 15", "Feb 22", "Mar 1"]
    assert all(c.height == 0 for s in chart.slots for c in s.columns)
