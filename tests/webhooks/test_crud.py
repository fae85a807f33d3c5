"""Webhook endpoints: create, read, replace, delete, rotate; read-only keys; bad input; the allowlist."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openmira.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.helpers import API, Tenant, assert_problem
from tests.webhooks.conftest import App, create_webhook

FIELDS = {"id", "url", "description", "events", "enabled", "created", "modified"}


def test_create_shows_the_secret_once_and_never_again(client: TestClient, tenant: Tenant, db: Session) -> None:
    body = {"url": "https://hooks.example.com/in", "description": "SOC", "events": ["finding.resolved", "ping"]}
    response = client.post(f"{API}/org/webhooks", json=body, headers=tenant.rw.headers)
    assert response.status_code == 201, response.text
    created = response.json()["data"]
    assert set(created) == FIELDS | {"secret"}
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["enabled"] is True and created["events"] == ["finding.resolved", "ping"]
    secret = created["secret"]

    one = client.get(f"{API}/org/webhooks/{created['id']}", headers=tenant.ro.headers)
    listed = client.get(f"{API}/org/webhooks", headers=tenant.ro.headers)
    assert one.status_code == 200 and set(one.json()["data"]) == FIELDS
    assert listed.json()["meta"]["total_items"] == 1 and set(listed.json()["data"][0]) == FIELDS
    for text in (one.text, listed.text):
        assert secret not in text
    stored = db.scalar(select(WebhookEndpoint.secret_encrypted))
    assert stored and secret not in stored  # encrypted at rest


def test_list_is_paged_newest_first(client: TestClient, tenant: Tenant) -> None:
    ids = [create_webhook(client, tenant.rw, f"https://h{i}.example.com/")["id"] for i in range(3)]
    page = client.get(f"{API}/org/webhooks?page_size=2", headers=tenant.rw.headers).json()
    assert page["meta"] == {"page": 1, "page_size": 2, "total_items": 3, "total_pages": 2}
    assert page["links"]["next"]
    rest = client.get(page["links"]["next"], headers=tenant.rw.headers).json()
    assert [w["id"] for w in page["data"] + rest["data"]] == list(reversed(ids))
    by_url = client.get(f"{API}/org/webhooks?order_by=url", headers=tenant.rw.headers).json()
    assert [w["url"] for w in by_url["data"]] == sorted(w["url"] for w in by_url["data"])


def test_put_replaces_every_field_and_keeps_the_secret(client: TestClient, tenant: Tenant, db: Session) -> None:
    created = create_webhook(client, tenant.rw, "https://a.example.com/", ["finding.resolved"],
                             description="old", enabled=False)
    before = db.scalar(select(WebhookEndpoint.secret_encrypted))
    body = {"url": "https://b.example.com/x", "events": ["finding.updated", "finding.updated"]}
    response = client.put(f"{API}/org/webhooks/{created['id']}", json=body, headers=tenant.rw.headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == FIELDS
    assert data["url"] == body["url"] and data["events"] == ["finding.updated"]
    assert data["description"] == "" and data["enabled"] is True  # omitted: the defaults
    assert data["modified"] >= created["modified"]
    db.expire_all()
    assert db.scalar(select(WebhookEndpoint.secret_encrypted)) == before


def test_delete_answers_with_the_endpoint_and_removes_its_deliveries(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    created = create_webhook(client, tenant.rw, "https://a.example.com/")
    assert client.post(f"{API}/org/webhooks/{created['id']}/test", headers=tenant.rw.headers).status_code == 202
    response = client.delete(f"{API}/org/webhooks/{created['id']}", headers=tenant.rw.headers)
    assert response.status_code == 200 and response.json()["data"]["id"] == created["id"]
    assert_problem(client.get(f"{API}/org/webhooks/{created['id']}", headers=tenant.rw.headers), 404)
    assert_problem(client.delete(f"{API}/org/webhooks/{created['id']}", headers=tenant.rw.headers), 404)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_rotate_returns_a_new_secret_once(client: TestClient, tenant: Tenant) -> None:
    created = create_webhook(client, tenant.rw, "https://a.example.com/")
    response = client.post(f"{API}/org/webhooks/{created['id']}/rotate-secret", headers=tenant.rw.headers)
    assert response.status_code == 200, response.text
    rotated = response.json()["data"]
    assert set(rotated) == FIELDS | {"secret"}
    assert rotated["secret"] != created["secret"] and rotated["secret"].startswith("whsec_")
    again = client.get(f"{API}/org/webhooks/{created['id']}", headers=tenant.rw.headers)
    assert rotated["secret"] not in again.text


def test_test_queues_a_ping_even_for_a_disabled_endpoint(client: TestClient, tenant: Tenant) -> None:
    created = create_webhook(client, tenant.rw, "https://a.example.com/", ["finding.resolved"], enabled=False)
    response = client.post(f"{API}/org/webhooks/{created['id']}/test", headers=tenant.rw.headers)
    assert response.status_code == 202, response.text
    delivery = response.json()["data"]
    assert delivery["event"] == "ping" and delivery["status"] == "pending" and delivery["attempts"] == 0
    assert delivery["endpoint_id"] == created["id"] and delivery["response_status"] is None
    payload = delivery["payload"]
    assert payload["id"] == delivery["delivery_id"] and payload["event"] == "ping"
    assert payload["org_id"] == str(tenant.org_id) and payload["data"]["webhook_id"] == created["id"]
    got = client.get(f"{API}/org/webhooks/{created['id']}/deliveries/{delivery['delivery_id']}",
                     headers=tenant.ro.headers)
    assert got.status_code == 200 and got.json()["data"] == delivery
    listed = client.get(f"{API}/org/webhooks/{created['id']}/deliveries?status=pending&event=ping",
                        headers=tenant.ro.headers).json()
    assert [d["delivery_id"] for d in listed["data"]] == [delivery["delivery_id"]]
    assert "payload" not in listed["data"][0]
    none = client.get(f"{API}/org/webhooks/{created['id']}/deliveries?status=failed", headers=tenant.ro.headers)
    assert none.json()["meta"]["total_items"] == 0


def _counts(db: Session) -> tuple[int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(WebhookEndpoint)) or 0,
        db.scalar(select(func.count()).select_from(WebhookDelivery)) or 0,
    )


def test_read_only_keys_change_nothing(client: TestClient, tenant: Tenant, db: Session) -> None:
    created = create_webhook(client, tenant.rw, "https://a.example.com/")
    before = _counts(db)
    base = f"{API}/org/webhooks"
    body = {"url": "https://b.example.com/", "events": ["ping"]}
    for method, url, json in [
        ("POST", base, body),
        ("PUT", f"{base}/{created['id']}", body),
        ("DELETE", f"{base}/{created['id']}", None),
        ("POST", f"{base}/{created['id']}/rotate-secret", None),
        ("POST", f"{base}/{created['id']}/test", None),
    ]:
        assert_problem(client.request(method, url, json=json, headers=tenant.ro.headers), 403)
    assert _counts(db) == before
    assert client.get(f"{base}/{created['id']}", headers=tenant.rw.headers).json()["data"]["url"] == created["url"]


def test_bad_input_names_the_field_and_changes_nothing(client: TestClient, tenant: Tenant, db: Session) -> None:
    good = {"url": "https://a.example.com/", "events": ["finding.resolved"]}
    cases = [
        ({**good, "url": "ftp://a.example.com/"}, "url"),
        ({**good, "url": "https://user:pw@a.example.com/"}, "url"),
        ({**good, "url": "not a url"}, "url"),
        ({**good, "url": "https://a.example.com:99999/"}, "url"),
        ({**good, "url": 42}, "url"),
        ({**good, "events": ["finding.exploded"]}, "events"),
        ({**good, "events": []}, "events"),
        ({**good, "events": "finding.resolved"}, "events"),
        ({**good, "enabled": "yes"}, "enabled"),
        ({**good, "description": "x" * 501}, "description"),
        # PostgreSQL text cannot hold NUL: refused as input on both databases, never a 500.
        ({**good, "description": "a\x00b"}, "description"),
        ({"events": ["ping"]}, "url"),
        ({"url": "https://a.example.com/"}, "events"),
    ]
    created = create_webhook(client, tenant.rw, "https://a.example.com/")
    before = _counts(db)
    for body, field in cases:
        assert_problem(client.post(f"{API}/org/webhooks", json=body, headers=tenant.rw.headers), 400, field)
        response = client.put(f"{API}/org/webhooks/{created['id']}", json=body, headers=tenant.rw.headers)
        assert_problem(response, 400, field)
    assert _counts(db) == before
    assert_problem(client.get(f"{API}/org/webhooks/not-a-uuid", headers=tenant.rw.headers), 400, "id")
    bad_filter = client.get(f"{API}/org/webhooks/{created['id']}/deliveries?status=lost", headers=tenant.rw.headers)
    assert_problem(bad_filter, 400, "status")
    bad_event = client.get(f"{API}/org/webhooks/{created['id']}/deliveries?event=bogus", headers=tenant.rw.headers)
    assert_problem(bad_event, 400, "event")


def test_the_allowlist_is_checked_when_an_endpoint_is_saved(
    app_with: Callable[..., App], tenant: Tenant, db: Session
) -> None:
    app = app_with(webhook_allowed_hosts="hooks.example.com, *.corp.example, 10.1.0.0/16:8080")
    client = app.client
    for url in ["https://hooks.example.com/a", "https://x.corp.example/", "http://10.1.2.3:8080/in"]:
        create_webhook(client, tenant.rw, url)
    created = create_webhook(client, tenant.rw, "https://hooks.example.com/b")
    before = _counts(db)
    for url in ["https://evil.example.com/", "http://127.0.0.1/", "http://10.2.0.1/", "https://corp.example/",
                "http://169.254.169.254/latest/meta-data", "https://hooks.example.com:8443/", "http://10.1.2.3/",
                "http://10.1.2.3:22/", "https://x.corp.example:8080/"]:
        body = {"url": url, "events": ["ping"]}
        assert_problem(client.post(f"{API}/org/webhooks", json=body, headers=tenant.rw.headers), 400, "url")
        response = client.put(f"{API}/org/webhooks/{created['id']}", json=body, headers=tenant.rw.headers)
        assert_problem(response, 400, "url")
    assert _counts(db) == before


def test_by_default_no_address_is_allowed(app_with: Callable[..., App], tenant: Tenant) -> None:
    client = app_with(webhook_allowed_hosts="").client
    body = {"url": "https://hooks.example.com/", "events": ["ping"]}
    assert_problem(client.post(f"{API}/org/webhooks", json=body, headers=tenant.rw.headers), 400, "url")
