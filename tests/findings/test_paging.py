"""Walking every page returns each matching finding exactly once, in the requested order."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.findings.factory import Row, generate
from tests.helpers import API, Tenant, assert_problem


def walk(client: TestClient, tenant: Tenant, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int, int]:
    url: str | None = f"{API}/org/findings"
    first = client.get(url, params=params, headers=tenant.rw.headers)
    assert first.status_code == 200, first.text
    meta = first.json()["meta"]
    items, pages, body = [], 0, first.json()
    while True:
        pages += 1
        assert body["meta"]["page"] == pages and body["meta"]["total_items"] == meta["total_items"]
        items.extend(body["data"])
        url = body["links"]["next"]
        if url is None:
            break
        assert body["links"]["self"]
        assert url.startswith(f"{API}/org/findings?")
        response = client.get(url, headers=tenant.rw.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["links"]["prev"] is not None
    assert pages == max(meta["total_pages"], 1)
    return items, meta["total_items"], meta["total_pages"]


def _key(order_by: str):  # type: ignore[no-untyped-def]
    """A Python sort key for ``order_by`` plus the ID tie-break (IDs order as their text)."""
    fields = []
    for part in order_by.split(","):
        name, _, direction = part.partition(";")
        fields.append((name, direction == "desc"))

    def key(row: Row) -> tuple[Any, ...]:
        parts: list[Any] = []
        for name, desc in fields:
            value = getattr(row, name)
            if hasattr(value, "timestamp"):
                value = value.timestamp()
            parts.append(-value if desc else value)
        parts.append(str(row.id))
        return tuple(parts)

    return key


@pytest.mark.parametrize(
    "order_by",
    ["created;desc", "created;asc", "priority;asc,created;desc", "status;desc,priority", "modified", "type;desc"],
)
def test_pages_cover_every_row_once_in_order(client: TestClient, db: Session, tenant: Tenant, order_by: str) -> None:
    rows = generate(db, tenant.org_id, [tenant.admin_id], count=97, seed=3)
    expected = [str(r.id) for r in sorted(rows, key=_key(order_by))]
    for size_param in ({"page_size": 7}, {"page_size": 50}, {"limit": 10}, {"page_size": 200}):
        items, total, total_pages = walk(client, tenant, {"order_by": order_by, **size_param})
        size = next(iter(size_param.values()))
        assert total == 97 and total_pages == -(-97 // size)
        ids = [i["finding_id"] for i in items]
        assert ids == expected, (order_by, size_param)


def test_pages_with_filters_and_name_order(client: TestClient, db: Session, tenant: Tenant) -> None:
    rows = generate(db, tenant.org_id, [tenant.admin_id], count=80, seed=5)
    expected = {str(r.id) for r in rows if r.status == 10}
    for order_by in ("name", "name;desc,created", "short_id;desc", "blocked,resolution;desc"):
        items, total, _ = walk(client, tenant, {"order_by": order_by, "page_size": 6, "status": 10})
        ids = [i["finding_id"] for i in items]
        assert len(ids) == len(set(ids)) == total and set(ids) == expected


def test_default_order_meta_links_and_past_the_end(client: TestClient, db: Session, tenant: Tenant) -> None:
    rows = generate(db, tenant.org_id, [tenant.admin_id], count=12, seed=9)
    body = client.get(f"{API}/org/findings", params={"page_size": 5}, headers=tenant.rw.headers).json()
    assert body["meta"] == {"page": 1, "page_size": 5, "total_items": 12, "total_pages": 3}
    assert body["links"]["prev"] is None and body["links"]["next"].endswith("page=2")
    assert [f["finding_id"] for f in body["data"]] == [str(r.id) for r in sorted(rows, key=_key("created;desc"))][:5]
    past = client.get(f"{API}/org/findings", params={"page": 9, "page_size": 5}, headers=tenant.rw.headers).json()
    assert past["data"] == [] and past["meta"]["total_items"] == 12 and past["links"]["next"] is None
    empty = client.get(f"{API}/org/findings", params={"status": 99}, headers=tenant.rw.headers).json()
    assert empty["data"] == [] and empty["meta"]["total_items"] == 0 and empty["meta"]["total_pages"] == 0


@pytest.mark.parametrize(
    ("params", "name"),
    [({"page_size": 0}, "page_size"), ({"page_size": 201}, "page_size"), ({"page": 0}, "page"),
     ({"limit": 5001}, "limit"), ({"order_by": "colour"}, "order_by"), ({"order_by": "created;sideways"}, "order_by")],
)
def test_bad_paging_is_a_400(client: TestClient, tenant: Tenant, params: dict[str, Any], name: str) -> None:
    assert_problem(client.get(f"{API}/org/findings", params=params, headers=tenant.rw.headers), 400, name)
