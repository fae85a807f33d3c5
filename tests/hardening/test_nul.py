"""Issue 13, item 2: a NUL character in any text input is a 400 naming the parameter, on every backend (it
was a 500 on PostgreSQL and a wrong answer on SQLite); a JSON body nested 1,000 deep is a 400."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.console.helpers import C, page_token, sign_in, with_password
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant, assert_problem

FILTERS = [
    ("name", "\x00"), ("name.contains", "\x00"), ("name.!contains", "a\x00"), ("name.in", "a,\x00"),
    ("name.!in", "\x00,b"), ("name.regex", "\x00"), ("name.!eq", "x\x00y"), ("created_by", "\x00"),
]


@pytest.mark.parametrize(("param", "value"), FILTERS)
def test_a_nul_in_a_finding_filter_is_a_400_naming_it(
    client: TestClient, db: Session, tenant: Tenant, param: str, value: str
) -> None:
    make_finding(db, tenant.org_id, name="Ransomware")
    db.commit()
    for prefix in ("/org/findings", "/org/findings/count"):
        response = client.get(f"{API}{prefix}", params={param: value}, headers=tenant.ro.headers)
        if response.status_code == 404:  # not every list has a count operation
            continue
        body = assert_problem(response, 400, param)
        assert body["invalid_params"][0] == {"name": param, "in": "query", "reason": body["detail"]}


def test_without_a_valid_token_a_nul_is_still_a_401(client: TestClient) -> None:
    """The API checks the token first: an unauthenticated caller learns nothing and has nothing parsed."""
    response = client.get(f"{API}/org/findings", params={"name": "\x00"})
    assert response.status_code == 401
    response = client.post(f"{API}/org/webhooks", json={"description": "\x00"}, headers={"Authorization": "Bearer x"})
    assert response.status_code == 401


def _strings(schema: dict[str, Any], components: dict[str, Any], seen: frozenset[str] = frozenset()) -> Iterator[
    dict[str, Any]
]:
    """Every string schema inside ``schema``."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _strings(components[name], components, seen | {name})
        return
    if schema.get("type") == "string":
        yield schema
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _strings(sub, components, seen)
    items = [schema["items"]] if "items" in schema else []
    for sub in [*schema.get("properties", {}).values(), *items]:
        yield from _strings(sub, components, seen)


def test_every_text_field_of_every_api_body_refuses_nul(client: TestClient) -> None:
    """The API leaves JSON bodies to their schemas (core/nul.py): no text field may be without the rule."""
    document = client.get(f"{API}/openapi.json").json()
    components = document["components"]["schemas"]
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            for schema in _strings(body or {}, components):
                checked += 1
                closed = "enum" in schema or "const" in schema or schema.get("format") in ("uuid", "date-time")
                refuses = "pattern" in schema and re.search(schema["pattern"], "a\x00b") is None
                assert closed or refuses, f"{method.upper()} {path}: a text field takes NUL: {schema}"
    assert checked >= 8


def test_a_nul_in_a_json_body_is_a_400_naming_the_field(client: TestClient, db: Session, tenant: Tenant) -> None:
    hook = {"url": "https://h.example.com/", "events": ["ping"], "description": "a\x00b"}
    assert_problem(client.post(f"{API}/org/webhooks", json=hook, headers=tenant.rw.headers), 400, "description")
    finding = make_finding(db, tenant.org_id)
    db.commit()
    comment = {"body": "x", "sender": str(tenant.analyst_id), "subject": "\x00"}
    response = client.post(f"{API}/org/findings/{finding.id}/comments", json=comment, headers=tenant.rw.headers)
    assert_problem(response, 400, "subject")
    # The six characters \u0000 written as text are not a NUL: stored as given.
    literal = {"body": "see \\u0000 in the log", "sender": str(tenant.analyst_id)}
    response = client.post(f"{API}/org/findings/{finding.id}/comments", json=literal, headers=tenant.rw.headers)
    assert response.status_code == 201 and response.json()["data"]["body"] == "see \\u0000 in the log"


def test_a_nul_in_the_console_sign_in_email_or_a_key_pair_label_is_a_400(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    token = page_token(client, f"{C}/sign-in")
    refused = client.post(f"{C}/sign-in", data={"email": "a\x00@example.com", "password": "x", "csrf_token": token})
    assert_problem(refused, 400, "email")
    assert sign_in(client, with_password(db, tenant.admin_id)).status_code == 303
    form = {"label": "ci\x00", "access": "rw", "csrf_token": page_token(client)}
    assert_problem(client.post(f"{C}/settings/organization/credentials", data=form), 400, "label")


@pytest.mark.parametrize("form", [False, True])
def test_a_nul_on_the_token_endpoint_is_invalid_request(client: TestClient, tenant: Tenant, form: bool) -> None:
    fields = {"grant_type": "client_credentials", "client_id": tenant.rw.client_id + "\x00",
              "client_secret": tenant.rw.client_secret}
    response = client.post("/oauth/token", data=fields) if form else client.post("/oauth/token", json=fields)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request", response.text
    assert "client_id" in response.json()["error_description"]
    basic = base64.b64encode(f"{tenant.rw.client_id}\x00:{tenant.rw.client_secret}".encode()).decode()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request", response.text


def test_a_json_body_nested_1000_deep_is_a_400(client: TestClient, db: Session, tenant: Tenant) -> None:
    deep = "[" * 1000 + "]" * 1000
    nul_deep = "[" * 950 + '"\\u0000"' + "]" * 950  # readable, with a NUL at the bottom
    for nested in (deep, json.dumps({"grant_type": "client_credentials"})[:-1] + ', "x": ' + deep + "}",
                   '{"x": ' + nul_deep + "}"):
        response = client.post("/oauth/token", content=nested, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and response.json()["error"] == "invalid_request", response.text
    finding = make_finding(db, tenant.org_id)
    db.commit()
    response = client.post(f"{API}/org/findings/{finding.id}/comments", content='{"body": ' + deep + "}",
                           headers={**tenant.rw.headers, "Content-Type": "application/json"})
    assert_problem(response, 400)
