"""MSP accounts, the all-accounts findings list, and the per-account endpoints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, assert_problem
from tests.msp.conftest import MspWorld


def _all(client: TestClient, url: str, headers: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    items: list[dict] = []  # type: ignore[type-arg]
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["data"]
        url = response.json()["links"]["next"]
    return items


def test_accounts_list_with_open_findings_matching_the_per_account_endpoint(
    client: TestClient, world: MspWorld
) -> None:
    headers = world.msp_a.rw.headers
    accounts = _all(client, f"{API}/msp/accounts?page_size=2", headers)
    assert {a["account_id"] for a in accounts} == {str(world.a1.id), str(world.a2.id), str(world.free.id)}
    assert [a["name"] for a in accounts] == sorted(a["name"] for a in accounts)
    for item in accounts:
        open_total = client.get(f"{API}/msp/accounts/{item['account_id']}/findings?status=10", headers=headers).json()[
            "meta"
        ]["total_items"]
        assert item["open_findings"] == open_total
    assert {a["open_findings"] for a in accounts} == {world.a1.open_count, world.a2.open_count, world.free.open_count}


def test_account_detail_counts_match_the_per_account_endpoints(client: TestClient, world: MspWorld) -> None:
    headers = world.msp_a.ro.headers
    for account in (world.a1, world.free):
        detail = client.get(f"{API}/msp/accounts/{account.id}", headers=headers).json()["data"]
        base = f"{API}/msp/accounts/{account.id}"
        users = client.get(f"{base}/users", headers=headers).json()["meta"]["total_items"]
        devices = client.get(f"{base}/agents/devices", headers=headers).json()["meta"]["total_items"]
        assert detail["account_id"] == str(account.id) and detail["name"] == account.name
        assert detail["license"] == account.license
        assert detail["user_count"] == users == len(account.user_ids)
        assert detail["agent_count_used"] == devices == len(account.device_ids)
        assert detail["open_findings"] == account.open_count
        assert detail["agent_count_available"] >= 0


def test_all_accounts_findings_is_the_union_of_licensed_accounts(client: TestClient, world: MspWorld) -> None:
    headers = world.msp_a.rw.headers
    items = _all(client, f"{API}/msp/accounts/findings?page_size=5&order_by=priority;asc,created;desc", headers)
    union: list[dict] = []  # type: ignore[type-arg]
    for account in (world.a1, world.a2):
        union += _all(client, f"{API}/msp/accounts/{account.id}/findings?page_size=200", headers)
    assert sorted(i["finding_id"] for i in items) == sorted(i["finding_id"] for i in union)
    assert len(items) == len(world.a1.finding_ids) + len(world.a2.finding_ids)
    names = {str(world.a1.id): "Alpha One", str(world.a2.id): "Alpha Two"}
    assert all(names[i["org_id"]] == i["org_name"] for i in items)
    priorities = [i["priority"] for i in items]
    assert priorities == sorted(priorities)


def _ordering_key(spec: str) -> Callable[[dict], tuple]:  # type: ignore[type-arg]
    """The API's order (fields, then finding_id ascending) as a Python sort key, for the oracle."""
    def key(item: dict) -> tuple:  # type: ignore[type-arg]
        parts: list[object] = []
        for part in spec.split(","):
            field, _, direction = part.partition(";")
            value = item[field]
            if field in ("created", "modified"):
                value = datetime.fromisoformat(value).timestamp()
            parts.append(-value if direction == "desc" else value)
        return (*parts, item["finding_id"])
    return key


@pytest.mark.parametrize("order_by", ["created;desc", "priority;asc,created;desc", "priority;desc,modified;asc"])
@pytest.mark.parametrize("page_size", [1, 4, 7])
def test_all_accounts_pages_are_the_merged_order_of_the_accounts(
    client: TestClient, world: MspWorld, order_by: str, page_size: int
) -> None:
    """Every page, deep ones included, is exactly the slice of the accounts' findings in the asked order
    (ties broken by finding_id), though each page is built from each account's leading rows only."""
    headers = world.msp_a.rw.headers
    union: list[dict] = []  # type: ignore[type-arg]
    for account in (world.a1, world.a2):
        union += _all(client, f"{API}/msp/accounts/{account.id}/findings?page_size=200", headers)
    expected = [i["finding_id"] for i in sorted(union, key=_ordering_key(order_by))]
    walked = _all(client, f"{API}/msp/accounts/findings?page_size={page_size}&order_by={order_by}", headers)
    assert [i["finding_id"] for i in walked] == expected
    last_page = -(-len(expected) // page_size)
    response = client.get(f"{API}/msp/accounts/findings?page_size={page_size}&page={last_page}&order_by={order_by}",
                          headers=headers)
    assert response.json()["meta"]["total_items"] == len(expected)


def test_all_accounts_findings_under_filters(client: TestClient, world: MspWorld) -> None:
    headers = world.msp_a.rw.headers
    for query in ("status=10", "priority.lt=3", "status.!eq=10&priority.in=1,2,5", "name.contains=Two"):
        items = _all(client, f"{API}/msp/accounts/findings?{query}&page_size=3", headers)
        union = []
        for account in (world.a1, world.a2):
            union += _all(client, f"{API}/msp/accounts/{account.id}/findings?{query}", headers)
        assert sorted(i["finding_id"] for i in items) == sorted(i["finding_id"] for i in union), query


def test_org_keys_are_refused_on_msp_paths(client: TestClient, world: MspWorld) -> None:
    for path in (
        "/msp/accounts",
        "/msp/accounts/findings",
        f"/msp/accounts/{world.plain.org_id}",
        f"/msp/accounts/{world.a1.id}/findings",
    ):
        assert_problem(client.get(f"{API}{path}", headers=world.plain.rw.headers), 403)


def test_an_msp_key_works_on_its_own_org_routes(client: TestClient, world: MspWorld) -> None:
    body = client.get(f"{API}/org/users", headers=world.msp_a.rw.headers).json()
    assert {u["id"] for u in body["data"]} == {str(world.msp_a.admin_id), str(world.msp_a.analyst_id)}


def test_msp_b_sees_only_its_own_account(client: TestClient, world: MspWorld) -> None:
    accounts = client.get(f"{API}/msp/accounts", headers=world.msp_b.rw.headers).json()["data"]
    assert [a["account_id"] for a in accounts] == [str(world.b1.id)]
    items = _all(client, f"{API}/msp/accounts/findings", world.msp_b.rw.headers)
    assert {i["org_id"] for i in items} == {str(world.b1.id)}
