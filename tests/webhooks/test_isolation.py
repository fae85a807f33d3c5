"""Another organization's webhook and delivery IDs are a 404 on every webhook route, showing nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import API, KeyPairInfo, Tenant, assert_problem, make_tenant
from tests.webhooks.conftest import create_webhook


def _routes(prefix: str, webhook_id: str, delivery_id: str) -> list[tuple[str, str, dict[str, object] | None]]:
    base = f"{API}{prefix}/webhooks/{webhook_id}"
    body = {"url": "https://changed.example.com/", "events": ["ping"]}
    return [
        ("GET", base, None),
        ("PUT", base, body),
        ("GET", f"{base}/deliveries", None),
        ("GET", f"{base}/deliveries/{delivery_id}", None),
        ("POST", f"{base}/rotate-secret", None),
        ("POST", f"{base}/test", None),
        ("DELETE", base, None),
    ]


def _own(client: TestClient, pair: KeyPairInfo, prefix: str) -> tuple[dict[str, object], str]:
    hook = create_webhook(client, pair, "https://secret-place.example.com/", ["ping"], prefix=prefix)
    delivery = client.post(f"{API}{prefix}/webhooks/{hook['id']}/test", headers=pair.headers).json()["data"]
    return hook, str(delivery["delivery_id"])


def test_foreign_ids_are_not_found_everywhere(client: TestClient, tenant: Tenant, other_tenant: Tenant, db) -> None:  # type: ignore[no-untyped-def]
    msp = make_tenant(db, client, "Some MSP", msp=True)
    theirs, their_delivery = _own(client, other_tenant.rw, "/org")
    msp_hook, msp_delivery = _own(client, msp.rw, "/msp")
    mine, my_delivery = _own(client, tenant.rw, "/org")
    for webhook_id, delivery_id in [(theirs["id"], their_delivery), (msp_hook["id"], msp_delivery)]:
        for method, url, body in _routes("/org", str(webhook_id), delivery_id):
            response = client.request(method, url, json=body, headers=tenant.rw.headers)
            assert_problem(response, 404)
            assert "secret-place" not in response.text
    # Their delivery under my own endpoint.
    mixed = f"{API}/org/webhooks/{mine['id']}/deliveries/{their_delivery}"
    assert_problem(client.get(mixed, headers=tenant.rw.headers), 404)
    # The MSP cannot reach organizations' endpoints through /msp/webhooks either.
    for method, url, body in _routes("/msp", str(theirs["id"]), their_delivery):
        assert_problem(client.request(method, url, json=body, headers=msp.rw.headers), 404)
    # Nothing was changed: their endpoint and delivery are as they were.
    still = client.get(f"{API}/org/webhooks/{theirs['id']}/deliveries", headers=other_tenant.rw.headers).json()
    assert [d["delivery_id"] for d in still["data"]] == [their_delivery]
    assert still["data"][0]["status"] == "pending"
    got = client.get(f"{API}/org/webhooks/{theirs['id']}", headers=other_tenant.rw.headers).json()["data"]
    assert got["url"] == theirs["url"] and got["modified"] == theirs["modified"]
    # And the same calls with one's own IDs succeed, so the 404s above are isolation, not breakage.
    for method, url, body in _routes("/org", str(mine["id"]), my_delivery):
        assert client.request(method, url, json=body, headers=tenant.rw.headers).status_code < 300, url
