"""Issue 13, item 1: every stored text field has a documented cap (a 400 naming the field above it), comment
pages are bounded, an organization has at most 20 webhook endpoints, an event's payload is stored once, and
the largest page a caller can ask for stays under ~32 MB in the worker."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from openmira.core.text import (
    COMMENT_BODY_MAX,
    COMMENT_PAGE_MAX,
    COMMENT_SUBJECT_MAX,
    RESOLUTION_NOTES_MAX,
    WEBHOOK_DESCRIPTION_MAX,
    WEBHOOK_ENDPOINTS_MAX,
)
from openmira.db.base import utcnow
from openmira.findings.models import FindingComment
from openmira.webhooks.events import stored_body
from openmira.webhooks.models import WebhookDelivery, WebhookEventPayload
from tests.findings.factory import make_finding
from tests.hardening.asgi import serve_measured
from tests.helpers import API, Tenant, assert_problem
from tests.webhooks.conftest import create_webhook

# Four bytes in UTF-8 and in a Python string: the most memory a character can cost.
WIDE = "\U0001f600"
MB = 1024 * 1024


def _comment(client: TestClient, tenant: Tenant, finding_id: uuid.UUID, **fields: object) -> object:
    body = {"body": "x", "sender": str(tenant.analyst_id), **fields}
    return client.post(f"{API}/org/findings/{finding_id}/comments", json=body, headers=tenant.rw.headers)


@pytest.mark.parametrize(("field", "cap"), [("body", COMMENT_BODY_MAX), ("subject", COMMENT_SUBJECT_MAX)])
def test_comment_fields_are_capped(client: TestClient, db: Session, tenant: Tenant, field: str, cap: int) -> None:
    finding = make_finding(db, tenant.org_id)
    db.commit()
    assert _comment(client, tenant, finding.id, **{field: WIDE * cap}).status_code == 201
    assert_problem(_comment(client, tenant, finding.id, **{field: "x" * (cap + 1)}), 400, field)


def test_resolution_notes_are_capped(client: TestClient, db: Session, tenant: Tenant) -> None:
    finding = make_finding(db, tenant.org_id)
    db.commit()
    url = f"{API}/org/findings/{finding.id}/resolve"
    too_long = {"resolution": 20, "resolution_notes": "n" * (RESOLUTION_NOTES_MAX + 1)}
    assert_problem(client.post(url, json=too_long, headers=tenant.rw.headers), 400, "resolution_notes")
    at_cap = {"resolution": 20, "resolution_notes": WIDE * RESOLUTION_NOTES_MAX}
    assert client.post(url, json=at_cap, headers=tenant.rw.headers).status_code == 200


def test_webhook_description_is_capped(client: TestClient, tenant: Tenant) -> None:
    body = {"url": "https://hooks.example.com/", "events": ["ping"], "description": "d" * (WEBHOOK_DESCRIPTION_MAX + 1)}
    assert_problem(client.post(f"{API}/org/webhooks", json=body, headers=tenant.rw.headers), 400, "description")
    widest = WIDE * WEBHOOK_DESCRIPTION_MAX
    create_webhook(client, tenant.rw, "https://hooks.example.com/", ["ping"], description=widest)


def test_an_organization_has_at_most_20_webhook_endpoints(client: TestClient, tenant: Tenant) -> None:
    hooks = [create_webhook(client, tenant.rw, f"https://h{i}.example.com/") for i in range(WEBHOOK_ENDPOINTS_MAX)]
    body = {"url": "https://one-more.example.com/", "events": ["ping"]}
    refused = client.post(f"{API}/org/webhooks", json=body, headers=tenant.rw.headers)
    assert_problem(refused, 409)
    assert str(WEBHOOK_ENDPOINTS_MAX) in refused.json()["detail"]
    assert client.delete(f"{API}/org/webhooks/{hooks[0]['id']}", headers=tenant.rw.headers).status_code == 200
    create_webhook(client, tenant.rw, "https://one-more.example.com/")


def test_an_event_is_stored_once_however_many_endpoints_hear_it(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    finding = make_finding(db, tenant.org_id)
    db.commit()
    hooks = [create_webhook(client, tenant.rw, f"https://h{i}.example.com/", ["finding.comment_added"])
             for i in range(WEBHOOK_ENDPOINTS_MAX)]
    big = "b" * COMMENT_BODY_MAX
    assert _comment(client, tenant, finding.id, body=big).status_code == 201
    db.expire_all()
    deliveries = list(db.scalars(select(WebhookDelivery)))
    assert len(deliveries) == WEBHOOK_ENDPOINTS_MAX
    assert db.scalar(select(func.count()).select_from(WebhookEventPayload)) == 1
    bodies = [stored_body(db, d) for d in deliveries]
    assert {b["id"] for b in bodies} == {str(d.id) for d in deliveries}  # each delivery keeps its own ID
    assert all(b["data"]["comment"]["body"] == big for b in bodies)
    shown = client.get(f"{API}/org/webhooks/{hooks[3]['id']}/deliveries/{deliveries[0].id}", headers=tenant.rw.headers)
    if deliveries[0].endpoint_id == uuid.UUID(hooks[3]["id"]):
        assert shown.json()["data"]["payload"] == bodies[0]
    for hook in hooks:  # the event goes once no delivery points to it
        assert client.delete(f"{API}/org/webhooks/{hook['id']}", headers=tenant.rw.headers).status_code == 200
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(WebhookEventPayload)) == 0


def _widest_comments(db: Session, tenant: Tenant, count: int) -> uuid.UUID:
    finding = make_finding(db, tenant.org_id)
    now = utcnow()
    db.execute(insert(FindingComment), [
        {"id": uuid.uuid4(), "finding_id": finding.id, "subject": WIDE * COMMENT_SUBJECT_MAX,
         "body": WIDE * COMMENT_BODY_MAX, "sender_id": tenant.analyst_id, "created": now}
        for _ in range(count)
    ])
    db.commit()
    return finding.id


def test_a_comments_page_holds_at_most_200(client: TestClient, db: Session, tenant: Tenant) -> None:
    finding_id = _widest_comments(db, tenant, COMMENT_PAGE_MAX + 1)
    url = f"{API}/org/findings/{finding_id}/comments"
    first = client.get(url, params={"limit": 5000}, headers=tenant.ro.headers).json()
    assert len(first["data"]) == COMMENT_PAGE_MAX
    assert first["meta"] == {"page": 1, "page_size": COMMENT_PAGE_MAX, "total_items": COMMENT_PAGE_MAX + 1,
                             "total_pages": 2}
    second = client.get(first["links"]["next"], headers=tenant.ro.headers).json()
    assert len(second["data"]) == 1 and second["links"]["next"] is None
    assert {c["id"] for c in first["data"]}.isdisjoint({c["id"] for c in second["data"]})


def test_the_largest_comment_page_stays_under_32_mb_in_the_worker(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    finding_id = _widest_comments(db, tenant, COMMENT_PAGE_MAX + 50)
    app, path = client.app, f"{API}/org/findings/{finding_id}/comments"
    serve_measured(app, "GET", path, tenant.ro.headers, "limit=1")  # warm-up: lazy imports, caches
    served = serve_measured(app, "GET", path, tenant.ro.headers, "limit=5000")
    assert served.status == 200
    assert served.body_bytes > 8 * MB  # really the widest page: 200 comments of ~42 KB
    print(f"comments page: {served.body_bytes / MB:.1f} MiB answer, peak {served.peak_bytes / MB:.1f} MiB")
    assert served.peak_bytes < 32 * MB, f"peak {served.peak_bytes / MB:.1f} MiB"


@pytest.mark.parametrize("path", ["/oauth/token", "comments"])
def test_the_costliest_body_stays_under_32_mb_in_the_worker(
    client: TestClient, db: Session, tenant: Tenant, path: str
) -> None:
    """A 1 MiB JSON body of the smallest objects there are (the most Python objects per byte)."""
    finding = make_finding(db, tenant.org_id)
    db.commit()
    target = f"{API}/org/findings/{finding.id}/comments" if path == "comments" else path
    headers = {**tenant.rw.headers, "Content-Type": "application/json", "Content-Length": ""}
    body = b'{"body": [' + b",".join([b"{}"] * 349_000) + b"]}"
    assert 1_000_000 < len(body) <= 1_048_576
    headers["Content-Length"] = str(len(body))
    serve_measured(client.app, "POST", target, headers, body=b"{}")  # warm-up
    served = serve_measured(client.app, "POST", target, headers, body=body)
    print(f"{path}: a 1 MiB body of {{}} objects, peak {served.peak_bytes / MB:.1f} MiB")
    assert served.status == 400
    assert served.peak_bytes < 32 * MB, f"peak {served.peak_bytes / MB:.1f} MiB"
