"""What an /msp operation answers when several things are wrong with a request, for every such operation in
the OpenAPI document: the tenant scope is decided before the operation's own parameters, as FastAPI decided it
when it solved the scope as the route's dependency (the route now calls it itself, ``core.routing``).

- a body that is not JSON is a 400 before anything else (FastAPI reads the body first);
- an organization's key is a 403 and another MSP's account a 404, whatever else the request holds, read-only
  key or not (the scope comes before the read-write check);
- a malformed account ID leaves the scope out: a read-only key's write is then its 403, anything else a 400
  that names the account ID first, then the page's parameters, then the operation's own.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from openmira.auth import scope
from openmira.db.reads import execute_core
from tests.helpers import API, assert_problem
from tests.msp.conftest import MspWorld

BAD_QUERY = "?page=0&page_size=0"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
NEEDS_MSP = "this operation needs an MSP key pair"
READ_ONLY = "this key pair is read-only; the operation needs a read-write key pair"
# JSON that is not UTF-8: FastAPI cannot read it at all (not a validation error: its HTTPException).
UNREADABLE = b'{"body": "\xff"}'
UNPARSED = "There was an error parsing the body"


def _operations(client: TestClient) -> list[tuple[str, str, bool, bool]]:
    """Every /msp operation: its method, its path, whether it pages and whether it reads a body."""
    spec = client.get(f"{API}/openapi.json").json()
    return [
        (method.upper(), path, any(p["name"] == "page" for p in op.get("parameters", [])), "requestBody" in op)
        for path, item in spec["paths"].items()
        if path.startswith("/msp")
        for method, op in item.items()
    ]


def _call(
    client: TestClient, method: str, path: str, account: str, headers: dict[str, str], body: str | bytes = "{}"
) -> httpx.Response:
    """``path`` with ``account`` as its account ID and every other ID malformed, a malformed page, and for a write
    with a body that lacks every field."""
    url = API + re.sub(r"\{(\w+)\}", lambda m: account if m.group(1) == "account_id" else "not-a-uuid", path)
    if method in ("POST", "PUT", "PATCH"):
        return client.request(
            method, url + BAD_QUERY, headers={**headers, "content-type": "application/json"}, content=body
        )
    return client.request(method, url + BAD_QUERY, headers=headers)


def _detail(response: httpx.Response, status: int) -> Any:
    return assert_problem(response, status)["detail"]


@pytest.fixture
def operations(client: TestClient) -> list[tuple[str, str, bool, bool]]:
    found = _operations(client)
    assert len([op for op in found if "{account_id}" in op[1]]) >= 10 and sum(op[3] for op in found) >= 5
    return found


def test_an_organizations_key_is_refused_before_anything_but_the_body(
    client: TestClient, world: MspWorld, operations: list[tuple[str, str, bool, bool]]
) -> None:
    for method, path, _, reads_body in operations:
        for key in (world.plain.rw, world.plain.ro):
            response = _call(client, method, path, str(world.a1.id), key.headers)
            assert _detail(response, 403) == NEEDS_MSP, (method, path, key)
        if reads_body:
            response = _call(client, method, path, str(world.a1.id), world.plain.rw.headers, body="{")
            assert "not valid JSON" in _detail(response, 400), (method, path)
            response = _call(client, method, path, str(world.a1.id), world.plain.rw.headers, body=UNREADABLE)
            assert _detail(response, 400) == UNPARSED, (method, path)


def test_another_msps_account_is_a_404_before_the_operations_own_errors(
    client: TestClient, world: MspWorld, operations: list[tuple[str, str, bool, bool]]
) -> None:
    for method, path, _, reads_body in operations:
        if "{account_id}" not in path:
            continue
        for key in (world.msp_a.rw, world.msp_a.ro):
            response = _call(client, method, path, str(world.b1.id), key.headers)
            assert f"account {world.b1.id} not found" in _detail(response, 404), (method, path, key)
        if reads_body:  # FastAPI read the body before it solved the scope
            response = _call(client, method, path, str(world.b1.id), world.msp_a.rw.headers, body=UNREADABLE)
            assert _detail(response, 400) == UNPARSED, (method, path)


def test_a_malformed_account_id_leads_the_400_unless_the_key_is_read_only(
    client: TestClient, world: MspWorld, operations: list[tuple[str, str, bool, bool]]
) -> None:
    for method, path, pages, _ in operations:
        if "{account_id}" not in path:
            continue
        if method in WRITES:
            response = _call(client, method, path, "not-a-uuid", world.msp_a.ro.headers)
            assert _detail(response, 403) == READ_ONLY, (method, path)
        body = assert_problem(_call(client, method, path, "not-a-uuid", world.msp_a.rw.headers), 400)
        names = [p["name"] for p in body["invalid_params"]]
        others = [m for m in re.findall(r"\{(\w+)\}", path) if m != "account_id"]
        assert names[0] == "account_id", (method, path, names)
        if pages:
            assert names[1:3] == ["page", "page_size"], (method, path, names)
        assert set(others) <= set(names) and len(set(names)) == len(names), (method, path, names)


def test_a_page_error_under_an_own_account_is_listed_once(client: TestClient, world: MspWorld) -> None:
    account = f"{API}/msp/accounts/{world.a1.id}"
    for path, expected in (
        ("/users?page=0", ["page"]),
        ("/findings/not-a-uuid/comments?page=0&page_size=0", ["page", "page_size", "finding_id"]),
    ):
        body = assert_problem(client.get(account + path, headers=world.msp_a.rw.headers), 400)
        assert [p["name"] for p in body["invalid_params"]] == expected, path


def test_the_account_is_looked_up_once_per_request(
    client: TestClient, world: MspWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once whoever refuses the request: the scope itself (called by the route, or after FastAPI or the read-write
    check refused first), or the handler after it; never for a body FastAPI could not read."""
    looked_up: list[Any] = []

    def counting(db: Any, statement: Any, values: Any) -> Any:
        if statement is scope._ACCOUNT:
            looked_up.append(values["account_id"])
        return execute_core(db, statement, values)

    monkeypatch.setattr(scope, "execute_core", counting)
    account = f"{API}/msp/accounts/{world.a1.id}"
    unknown = "00000000-0000-4000-8000-000000000000"
    headers = world.msp_a.rw.headers
    assert_problem(client.get(f"{account}/findings/{unknown}", headers=headers), 404)
    assert_problem(client.get(f"{account}/findings?status=nope", headers=headers), 400)
    assert_problem(
        client.post(
            f"{account}/findings/{unknown}/comments",
            headers=headers,
            json={"body": "x", "sender": str(world.a1.user_ids[0])},
        ),
        404,
    )
    assert looked_up == [world.a1.id] * 3
    looked_up.clear()
    foreign = f"{API}/msp/accounts/{world.b1.id}"
    comment = {"body": "x", "sender": str(world.b1.user_ids[0])}
    assert_problem(client.get(f"{foreign}/findings/{unknown}", headers=headers), 404)  # the scope refuses
    assert_problem(client.get(f"{foreign}/findings/not-a-uuid", headers=headers), 404)  # after FastAPI's 400
    ro = world.msp_a.ro.headers
    assert_problem(client.post(f"{foreign}/findings/{unknown}/comments", headers=ro, json=comment), 404)
    assert looked_up == [world.b1.id] * 3
    looked_up.clear()
    unreadable = {**headers, "content-type": "application/json"}
    assert_problem(client.post(f"{foreign}/findings/{unknown}/comments", headers=unreadable, content=b"{"), 400)
    assert looked_up == []
