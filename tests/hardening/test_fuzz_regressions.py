"""Regressions for what the schemathesis suite found (docs/reliability.md lists them), on both backends."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.core.limits import MAX_QUERY_PARAMS
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant, assert_problem

FINDINGS = f"{API}/org/findings"


def _spec(client: TestClient) -> dict[str, Any]:
    return client.get(f"{API}/openapi.json").json()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "99999999999999999999999"}, 0),  # was a 500 (SQLite: int too large; PostgreSQL: out of range)
        ({"status.!eq": "99999999999999999999999"}, 3),
        ({"category.!in": "99999999999999999999999,-99999999999999999999999"}, 3),
        ({"type": "-99999999999999999999999"}, 0),
        ({"type.in": "10,3000000000"}, 3),  # beyond a 32-bit column (PostgreSQL: out of range)
        ({"created.gt": "0001-01-01T00:00:00+00:01"}, 3),  # before year 1 in UTC: was a 500
        ({"created.lt": "9999-12-31T23:59:59-01:00"}, 3),  # after year 9999 in UTC
        ({"created": "0001-01-01T00:00:00+00:01"}, 0),
    ],
)
def test_out_of_range_filter_values_answer_not_fail(
    client: TestClient, db: Session, tenant: Tenant, query: dict[str, str], expected: int
) -> None:
    for _ in range(3):
        make_finding(db, tenant.org_id, status=10, type=10, category=1)
    db.commit()
    response = client.get(FINDINGS, params=query, headers=tenant.rw.headers)
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["total_items"] == expected


def test_documented_order_by_pattern_is_what_the_server_accepts(client: TestClient, tenant: Tenant) -> None:
    """The document described order_by as any string; valid data was refused with 400."""
    spec = _spec(client)
    lists = {
        path: next(p for p in item["get"]["parameters"] if p["name"] == "order_by")
        for path, item in spec["paths"].items()
        if "get" in item and any(p["name"] == "order_by" for p in item["get"].get("parameters", []))
        and "{" not in path
    }
    assert {"/org/findings", "/org/agents/devices", "/org/agents/keys", "/msp/accounts"} <= set(lists)
    for path in ("/org/findings", "/org/agents/devices", "/org/agents/keys"):
        pattern = re.compile(lists[path]["schema"]["pattern"])
        for value in ["", "created", "created;desc", " created ; DESC ,modified", "modified;", "created,created"]:
            assert pattern.search(value), (path, value)
            assert client.get(API + path, params={"order_by": value}, headers=tenant.rw.headers).status_code == 200
        for value in ["about:blank", "created;up", "created,", ",created", " ", "created\t", "Created"]:
            assert not pattern.search(value), (path, value)
            assert_problem(client.get(API + path, params={"order_by": value}, headers=tenant.rw.headers), 400)


def test_documented_filter_values_are_accepted(client: TestClient, tenant: Tenant) -> None:
    """in-lists, priority and the text operators said "any string"/"any integer"; some were 400s."""
    params = {p["name"]: p["schema"] for p in _spec(client)["paths"]["/org/findings"]["get"]["parameters"]}
    assert params["priority"] == {"type": "integer", "minimum": 1, "maximum": 5}
    assert params["name.contains"]["minLength"] == 1 and params["name.regex"]["format"] == "regex"
    checks = {
        "status.in": (["10", " 10 , 40", "-1"], ["", "10,", "a", "1.5", "\u0661"]),
        "priority.in": (["1,5", "05"], ["0", "6", "1,,2"]),
        "modified_by.in": (["8c0a3c5e-1c1a-4a55-9a43-2f2a8a2f3f10"], ["x", ""]),
        "name.in": (["a,b c"], ["", "a,", ",a"]),
    }
    for name, (good, bad) in checks.items():
        pattern = re.compile(params[name]["pattern"])
        for value in good:
            assert pattern.search(value), (name, value)
            assert client.get(FINDINGS, params={name: value}, headers=tenant.rw.headers).status_code == 200
        for value in bad:
            assert not pattern.search(value), (name, value)
            assert_problem(client.get(FINDINGS, params={name: value}, headers=tenant.rw.headers), 400)


def test_every_documented_parameter_at_once_is_not_refused(client: TestClient, tenant: Tenant) -> None:
    """The findings list documents 75 parameters; more than 64 were refused before routing."""
    parameters = _spec(client)["paths"]["/org/findings"]["get"]["parameters"]
    assert len(parameters) < MAX_QUERY_PARAMS
    some_uuid = "8c0a3c5e-1c1a-4a55-9a43-2f2a8a2f3f10"
    query = {}
    for parameter in parameters:
        schema = parameter["schema"]
        if parameter["name"] == "order_by":
            continue
        if "pattern" in schema:
            value = next(v for v in ("1", some_uuid, "a") if re.search(schema["pattern"], v))
        else:
            value = {"boolean": "true", "integer": "1"}.get(schema.get("type", "integer"), "a")
            value = {"date-time": "2024-01-01T00:00:00Z", "uuid": some_uuid}.get(schema.get("format", ""), value)
        query[parameter["name"]] = value
    response = client.get(FINDINGS, params=query, headers=tenant.rw.headers)
    assert response.status_code == 200, response.text


def test_middleware_answers_are_documented(client: TestClient) -> None:
    """414 (URL), 413 and 415 (bodies) and the health check's 503 were answered but not documented."""
    for path, item in _spec(client)["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"414", "431"} <= codes, (method, path)
            if "requestBody" in operation:
                assert {"413", "415"} <= codes, (method, path)
            if path == "/health":
                assert "503" in codes
