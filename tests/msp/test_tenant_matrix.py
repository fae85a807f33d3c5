"""Tenant isolation, generated from the OpenAPI document.

Every operation with IDs in its path is called with IDs of another MSP's account, of a sibling
sub-account, of a free sub-account, and (for /org) of another organization: each is a 404 that shows no
foreign data. The same call with the caller's own IDs succeeds, so the matrix can fail. Every /msp
operation through an organization key is a 403.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, Tenant, assert_problem
from tests.msp.conftest import Account, MspWorld

OBJECT_PARAMS = {
    "finding_id": "finding_ids",
    "device_id": "device_ids",
    "key_id": "key_ids",
    "rule_id": "rule_ids",
    "command_id": "command_ids",
    "id": "webhook_ids",  # Blumira's name for a webhook endpoint's ID
    "delivery_id": "delivery_ids",
}


def _operations(client: TestClient) -> list[tuple[str, str, str]]:
    """Every operation with IDs in its path; deletions last, so the own-ID calls find what they delete."""
    spec = client.get(f"{API}/openapi.json").json()
    operations = [
        (method.upper(), path, op["operationId"])
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "{" in path
    ]
    return sorted(operations, key=lambda op: op[0] == "DELETE")


def _body(method: str, path: str, account: Account) -> dict[str, Any] | None:
    """A valid body for the write at ``path``, known by the path's last segment (the same under /org and /msp)."""
    if method not in ("POST", "PUT"):
        return None
    last = path.rsplit("/", 1)[-1]
    if last == "comments":
        return {"body": "<p>checked</p>", "sender": str(account.user_ids[0])}
    if last == "resolve":
        return {"resolution": 20, "resolution_notes": "benign"}
    if last == "assign":
        return {"owner_type": "responder", "owners": [str(account.user_ids[1])]}
    if last == "actions":
        return {"action": "restart", "reason": "tenant matrix"}
    if last in ("webhooks", "{id}"):
        return {"url": "https://changed.example.com/hook", "events": ["finding.resolved", "ping"]}
    return None


def _url(path: str, account_id: Any, objects: Account | Tenant) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "account_id":
            return str(account_id)
        assert name in OBJECT_PARAMS, f"the tenant matrix does not know path parameter {name!r}: add it"
        if isinstance(objects, Tenant):  # an MSP itself: only its own webhooks
            return str(objects.extra[OBJECT_PARAMS[name]][0])
        # Blumira names a basis rule's ID `rule_id` too; on that path it is one of the global catalog's.
        basis = name == "rule_id" and path.startswith("/msp/basis-detection-rules")
        return str(getattr(objects, "basis_rule_ids" if basis else OBJECT_PARAMS[name])[0])

    return API + re.sub(r"\{(\w+)\}", value, path)


def _call(client: TestClient, method: str, url: str, headers: dict[str, str], body: dict[str, Any] | None):  # type: ignore[no-untyped-def]
    return client.request(method, url, headers=headers, json=body)


def _foreign_markers(account: Account, url: str) -> list[str]:
    """What of the other tenant must not show; the IDs the caller sent may be echoed back."""
    markers = [
        str(account.id),
        *(str(i) for i in account.finding_ids),
        *(str(i) for i in account.device_ids),
        *(str(i) for i in account.user_ids),
        *(str(i) for i in account.rule_ids),
        *(str(i) for i in account.command_ids),
        account.name,
    ]
    return [m for m in markers if m not in url]


@pytest.mark.parametrize("case", ["other-msp", "sibling", "free-sibling"])
def test_msp_operations_never_cross_tenants(client: TestClient, world: MspWorld, case: str) -> None:
    headers = world.msp_a.rw.headers
    operations = [op for op in _operations(client) if op[1].startswith("/msp/accounts/{account_id}")]
    assert len(operations) >= 10
    for method, path, operation_id in operations:
        if case == "other-msp":
            account_id, objects = world.b1.id, world.b1
        else:
            account_id, objects = world.a1.id, world.a2 if case == "sibling" else world.free
        if case != "other-msp" and path == "/msp/accounts/{account_id}":
            continue  # the account itself is the caller's own
        if case != "other-msp" and not any(f"{{{p}}}" in path for p in OBJECT_PARAMS):
            continue  # only the account in the path, and it is the caller's own
        body = _body(method, path, world.a1)
        url = _url(path, account_id, objects)
        response = _call(client, method, url, headers, body)
        assert_problem(response, 404)
        for marker in _foreign_markers(objects, url):
            assert marker not in response.text, (operation_id, marker)


def test_the_same_msp_calls_with_own_ids_succeed(client: TestClient, world: MspWorld) -> None:
    for method, path, operation_id in _operations(client):
        if not path.startswith("/msp/accounts/{account_id}"):
            continue
        response = _call(
            client, method, _url(path, world.a1.id, world.a1), world.msp_a.rw.headers, _body(method, path, world.a1)
        )
        assert response.status_code < 300, (operation_id, response.text)


def test_org_operations_never_cross_organizations(client: TestClient, world: MspWorld) -> None:
    headers = world.plain.rw.headers
    for method, path, operation_id in _operations(client):
        if not path.startswith("/org/"):
            continue
        body = _body(method, path, world.plain_data)
        for foreign in (world.a1, world.b1):
            url = _url(path, None, foreign)
            response = _call(client, method, url, headers, body)
            assert_problem(response, 404)
            for marker in _foreign_markers(foreign, url):
                assert marker not in response.text, (operation_id, marker)
        own = _call(client, method, _url(path, None, world.plain_data), headers, body)
        assert own.status_code < 300, (operation_id, own.text)


def test_msp_own_webhooks_never_cross_tenants(client: TestClient, world: MspWorld) -> None:
    """/msp/webhooks/...: another MSP's webhooks, and the sub-accounts' and organizations' own, are 404."""
    headers = world.msp_a.rw.headers
    operations = [op for op in _operations(client) if op[1].startswith("/msp/webhooks/")]
    assert len(operations) >= 7
    for method, path, operation_id in operations:
        body = _body(method, path, world.a1)
        for foreign in (world.msp_b, world.a1, world.plain_data):
            url = _url(path, None, foreign)
            response = _call(client, method, url, headers, body)
            assert_problem(response, 404)
            assert "example.com/hook" not in response.text, (operation_id, url)
    for method, path, operation_id in operations:
        own = _call(client, method, _url(path, None, world.msp_a), headers, _body(method, path, world.a1))
        assert own.status_code < 300, (operation_id, own.text)


def test_msp_writes_through_an_org_key_are_refused(client: TestClient, world: MspWorld) -> None:
    writes = [op for op in _operations(client) if op[1].startswith("/msp/") and op[0] != "GET"]
    assert writes
    for method, path, _ in writes:
        response = _call(
            client, method, _url(path, world.a1.id, world.a1), world.plain.rw.headers, _body(method, path, world.a1)
        )
        assert_problem(response, 403)


def test_free_accounts_findings_are_not_in_all_accounts(client: TestClient, world: MspWorld) -> None:
    body = client.get(f"{API}/msp/accounts/findings?limit=5000", headers=world.msp_a.rw.headers).json()
    ids = {i["finding_id"] for i in body["data"]}
    assert ids and not ids & {str(f) for f in world.free.finding_ids}
