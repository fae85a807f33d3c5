"""The console's findings lists over HTTP: search, sort, invalid values, the MSP all-accounts view, and the one
date format. The lists run the API's listing, so each test also asks the API the same question and expects
the same findings in the same order."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.console.render import format_dt
from openmira.orgs.models import License
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.console.helpers import PASSWORD, C, make_finding, sign_in, with_password
from tests.helpers import API, Tenant, make_tenant

ROW = re.compile(r'<tr>\s*<td[^>]*><code>([^<]+)</code></td>')
DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def short_ids(html: str) -> list[str]:
    return ROW.findall(html.split("<tbody>", 1)[1])


def api_short_ids(client: TestClient, path: str, headers: dict[str, str]) -> list[str]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return [f["short_id"] for f in response.json()["data"]]


def _seed(db: Session, org_id: uuid.UUID) -> None:
    names = ["Possible brute force", "Impossible travel", "Brute-force on VPN", "Outdated TLS", "BRUTE FORCE: RDP",
             "Agent stopped reporting"]
    for i, name in enumerate(names):
        make_finding(db, org_id, name=name, short_id=f"F{i}", priority=i % 5 + 1, status=10 if i % 2 else 40,
                     type=(10, 30)[i % 2], minutes_ago=i * 7)


def test_search_by_name_matches_the_api(client: TestClient, db: Session, tenant: Tenant) -> None:
    _seed(db, tenant.org_id)
    sign_in(client, with_password(db, tenant.analyst_id))
    page = client.get(f"{C}/orgs/{tenant.org_id}/findings?name.contains=brute")
    assert page.status_code == 200
    # Case-insensitive substring; "Brute-force" has no space, so it does not match "brute force" below.
    assert sorted(short_ids(page.text)) == ["F0", "F2", "F4"] and "3 findings" in page.text
    assert 'name="name.contains" value="brute"' in page.text  # the search box keeps what was typed
    assert short_ids(page.text) == api_short_ids(client, f"{API}/org/findings?name.contains=brute", tenant.ro.headers)
    spaced = client.get(f"{C}/orgs/{tenant.org_id}/findings?name.contains=BRUTE+FORCE&status=40")
    assert short_ids(spaced.text) == ["F0", "F4"]
    assert "No findings match." in client.get(f"{C}/orgs/{tenant.org_id}/findings?name.contains=zzz").text
    past = client.get(f"{C}/orgs/{tenant.org_id}/findings?name.contains=brute&page=4").text
    assert short_ids(past) == [] and '<a href="?name.contains=brute&amp;page=1">go to page 1</a>' in past


def test_an_empty_form_field_is_dropped_from_the_address(client: TestClient, db: Session, tenant: Tenant) -> None:
    sign_in(client, with_password(db, tenant.analyst_id))
    path = f"{C}/orgs/{tenant.org_id}/findings"
    response = client.get(f"{path}?name.contains=&status=&priority=1&type=&order_by=name;asc", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{path}?priority=1&order_by=name;asc"
    assert client.get(f"{path}?status=", follow_redirects=False).headers["location"] == path


def test_sort_by_each_column_in_both_directions_matches_the_api(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    _seed(db, tenant.org_id)
    sign_in(client, with_password(db, tenant.analyst_id))
    path = f"{C}/orgs/{tenant.org_id}/findings"
    default = client.get(path).text
    assert short_ids(default) == ["F0", "F1", "F2", "F3", "F4", "F5"]  # newest first
    assert '<th aria-sort="descending" class="sortable"><a href="?order_by=created;asc"' in default
    for field in ["short_id", "priority", "name", "type", "status", "created"]:
        for direction in ["asc", "desc"]:
            query = f"order_by={field};{direction}"
            page = client.get(f"{path}?{query}")
            assert page.status_code == 200, query
            expected = api_short_ids(client, f"{API}/org/findings?{query}", tenant.ro.headers)
            assert short_ids(page.text) == expected, query
    by_name = client.get(f"{path}?order_by=name;asc&status=40").text
    assert short_ids(by_name) == api_short_ids(client, f"{API}/org/findings?order_by=name;asc&status=40",
                                               tenant.ro.headers)
    # The Name header now sorts the other way, keeping the filters; the others start ascending.
    assert '<th aria-sort="ascending" class="sortable"><a href="?status=40&amp;order_by=name;desc"' in by_name
    assert 'href="?status=40&amp;order_by=priority;asc"' in by_name
    # The filter form carries the order along.
    assert '<input type="hidden" name="order_by" value="name;asc">' in by_name


def test_invalid_values_show_an_error_and_no_findings(client: TestClient, db: Session, tenant: Tenant) -> None:
    _seed(db, tenant.org_id)
    sign_in(client, with_password(db, tenant.analyst_id))
    path = f"{C}/orgs/{tenant.org_id}/findings"
    for query, named in [
        ("priority=abc", "priority: must be an integer"),
        ("priority=9", "priority: must be an integer from 1 to 5"),
        ("status=x", "status: must be an integer"),
        ("created_after=yesterday", "created_after: must be an ISO 8601 date-time"),
        ("priority.near=1", "priority.near: unknown operator"),
        ("name.regex=(a", "name.regex:"),
        ("page=-3", "page: must be a whole number"),
        ("page=" + "9" * 5000, "page: must be a whole number"),
        ("page=1000001", "page: must be a whole number"),
        ("order_by=colour;asc", "order_by: unknown sort field &#39;colour&#39;"),
        ("order_by=name;up", "order_by: unknown direction"),
    ]:
        page = client.get(f"{path}?{query}")
        assert page.status_code == 400, query
        alert = page.text.split('role="alert"', 1)[1].split("</p>", 1)[0]
        assert named in alert, (query, alert)
        assert short_ids(page.text) == [], query  # never pretends to filter
        assert "No findings shown: correct the filter above." in page.text
        assert re.search(r"\d+ findings?<", page.text) is None, query  # no count of an unfiltered list


def test_other_filters_of_the_grammar_apply_and_are_shown(client: TestClient, db: Session, tenant: Tenant) -> None:
    _seed(db, tenant.org_id)
    sign_in(client, with_password(db, tenant.analyst_id))
    query = "priority.in=1,3,5&name.!contains=vpn"
    page = client.get(f"{C}/orgs/{tenant.org_id}/findings?{query}")
    assert sorted(short_ids(page.text)) == sorted(api_short_ids(client, f"{API}/org/findings?{query}",
                                                                tenant.ro.headers)) == ["F0", "F4", "F5"]
    assert "Also filtered by" in page.text and "<code>priority.in=1,3,5</code>" in page.text
    assert '<input type="hidden" name="priority.in" value="1,3,5">' in page.text


def test_finding_names_and_search_text_are_rendered_inert(client: TestClient, db: Session, tenant: Tenant) -> None:
    make_finding(db, tenant.org_id, name='<script>alert("name")</script> probe')
    sign_in(client, with_password(db, tenant.analyst_id))
    page = client.get(f"{C}/orgs/{tenant.org_id}/findings", params={"name.contains": '"><script>x</script>'})
    assert "<script>x" not in page.text and 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in page.text
    listed = client.get(f"{C}/orgs/{tenant.org_id}/findings").text
    assert "<script>alert" not in listed and "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt; probe" in listed


def _msp(db: Session, client: TestClient) -> tuple[Tenant, dict[str, uuid.UUID], str]:
    msp = make_tenant(db, client, "Summit IT", msp=True)
    email = with_password(db, msp.analyst_id)
    accounts = {
        "Contoso Dental": create_org(db, "Contoso Dental", parent_id=msp.org_id, license=License.M365).id,
        "Acme Legal": create_org(db, "Acme Legal", parent_id=msp.org_id, license=License.ADVANCED).id,
        "Free Bakery": create_org(db, "Free Bakery", parent_id=msp.org_id, license=License.FREE).id,
    }
    db.commit()
    for i, (account, org_id) in enumerate(accounts.items()):
        for j in range(3):
            make_finding(db, org_id, name=f"{account} finding {j}", short_id=f"{account[:2].upper()}{j}",
                         priority=j + 1, minutes_ago=i * 10 + j)
    return msp, accounts, email


def test_msp_sees_every_licensed_account_as_the_api_lists_them(client: TestClient, db: Session) -> None:
    msp, accounts, email = _msp(db, client)
    other_msp = make_tenant(db, client, "Other MSP", msp=True)
    theirs = create_org(db, "Their Account", parent_id=other_msp.org_id, license=License.M365)
    stranger = create_org(db, "Stranger Inc")
    db.commit()
    make_finding(db, theirs.id, name="Their account's finding", short_id="TH0")
    make_finding(db, stranger.id, name="Stranger's finding", short_id="ST0")
    sign_in(client, email)

    # The Findings tab of an MSP user is the all-accounts view.
    nav = client.get(f"{C}/msp/integrations").text
    assert f'<a href="{C}/msp/findings">Findings</a>' in nav
    assert client.get(f"{C}/findings", follow_redirects=False).headers["location"] == f"{C}/msp/findings"
    page = client.get(f"{C}/msp/findings")
    assert page.status_code == 200 and "6 findings" in page.text
    shown = short_ids(page.text)
    assert shown == api_short_ids(client, f"{API}/msp/accounts/findings?page_size=25", msp.ro.headers)
    assert sorted(shown) == ["AC0", "AC1", "AC2", "CO0", "CO1", "CO2"]  # not the free account, nobody else's
    assert "Their account" not in page.text and "Stranger" not in page.text and "Free Bakery" not in page.text
    # The Account column names each finding's account; the finding opens within that account.
    acme = accounts["Acme Legal"]
    assert f'<td class="account-name"><a href="{C}/orgs/{acme}/findings">Acme Legal</a></td>' in page.text
    first = re.search(rf'href="({C}/orgs/{acme}/findings/[0-9a-f-]+)">Acme Legal finding 0<', page.text)
    assert first and client.get(first.group(1)).status_code == 200

    # The account filter narrows to one account; the other filters and the order apply as in the API.
    query = "priority.gt=1&order_by=priority;desc"
    narrowed = client.get(f"{C}/msp/findings?account={acme}&{query}")
    assert short_ids(narrowed.text) == ["AC2", "AC1"]
    assert f'<option value="{acme}" selected>Acme Legal</option>' in narrowed.text
    both = client.get(f"{C}/msp/findings?{query}&name.contains=finding")
    assert short_ids(both.text) == api_short_ids(client, f"{API}/msp/accounts/findings?{query}&name.contains=finding",
                                                 msp.ro.headers)
    # An account that is not one of this MSP's licensed accounts is an error, never its findings.
    for account in [theirs.id, stranger.id, accounts["Free Bakery"], msp.org_id, "not-a-uuid"]:
        refused = client.get(f"{C}/msp/findings?account={account}")
        assert refused.status_code == 400 and "account: is not one of the accounts listed here" in refused.text
        assert short_ids(refused.text) == []


def test_the_all_accounts_view_is_for_msp_users_only(client: TestClient, db: Session, tenant: Tenant) -> None:
    make_finding(db, tenant.org_id, name="Own finding", short_id="OW0")
    sign_in(client, with_password(db, tenant.analyst_id))
    assert client.get(f"{C}/msp/findings").status_code == 404
    own = f"{C}/orgs/{tenant.org_id}/findings"
    assert client.get(f"{C}/findings", follow_redirects=False).headers["location"] == own
    assert f'href="{own}"' in client.get(f"{C}/settings/organization").text


def test_an_msp_without_licensed_accounts_sees_an_empty_list(client: TestClient, db: Session) -> None:
    msp = create_org(db, "Lonely MSP", msp=True)
    create_org(db, "Only Free", parent_id=msp.id, license=License.FREE)
    create_user(db, msp.id, "lonely@example.com", roles=[Role.ANALYST], password=PASSWORD)
    db.commit()
    sign_in(client, "lonely@example.com")
    page = client.get(f"{C}/msp/findings")
    assert page.status_code == 200 and "0 findings" in page.text and "No findings match." in page.text


def test_one_date_format_everywhere(client: TestClient, db: Session, tenant: Tenant) -> None:
    finding = make_finding(db, tenant.org_id, comment="<p>Looked at it.</p>", sender=tenant.analyst_id)
    sign_in(client, with_password(db, tenant.admin_id))
    expected = finding.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for path in [f"/orgs/{tenant.org_id}/findings", f"/orgs/{tenant.org_id}/findings/{finding.id}",
                 "/settings/organization"]:
        html = client.get(f"{C}{path}").text
        text = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])
        assert DATE.search(text), path
        # No other rendering of a moment: no ISO timestamps, no "ago", no month names.
        assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}|\bago\b|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b",
                             text), path
    assert expected in client.get(f"{C}/orgs/{tenant.org_id}/findings").text


def test_the_date_filter_reads_every_form_of_a_moment() -> None:
    moment = datetime(2026, 11, 29, 15, 3, 59, tzinfo=timezone(timedelta(hours=1)))
    assert format_dt(moment) == "2026-11-29 14:03 UTC"
    assert format_dt("2026-11-29T14:03:59.000000Z") == "2026-11-29 14:03 UTC"
    assert format_dt(None) == format_dt("") == "—"
