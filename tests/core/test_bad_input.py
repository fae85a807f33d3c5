"""Bad input gets a clear 4xx and changes nothing in the store."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openmira.core.limits import MAX_HEADER_BYTES, MAX_HEADERS, MAX_QUERY_PARAMS
from openmira.db.models import Base
from tests.helpers import API, Tenant, assert_problem


def _row_counts(db: Session) -> dict[str, int]:
    db.expire_all()
    return {t.name: db.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def _write_operations(client: TestClient) -> list[str]:
    spec = client.get(f"{API}/openapi.json").json()
    paths = []
    for path, item in spec["paths"].items():
        # Operations that take a body (rotate-secret and test take none, so a bad body is not theirs to refuse).
        if "post" in item and "requestBody" in item["post"] and path.startswith("/org/"):
            concrete = path
            for segment in [s for s in path.split("/") if s.startswith("{")]:
                concrete = concrete.replace(segment, "00000000-0000-4000-8000-000000000000")
            paths.append(f"{API}{concrete}")
    return paths


def test_oversized_malformed_and_mistyped_bodies_change_nothing(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    before = _row_counts(db)
    writes = _write_operations(client)
    assert writes, "the API has write operations to try"
    for url in writes:
        headers = tenant.rw.headers
        too_big = client.post(url, headers={**headers, "Content-Type": "application/json"},
                              content=b'{"body": "' + b"x" * 1_100_000 + b'"}')
        assert_problem(too_big, 413)
        malformed = client.post(url, headers={**headers, "Content-Type": "application/json"}, content=b'{"body": ')
        assert_problem(malformed, 400)
        wrong_type = client.post(url, headers={**headers, "Content-Type": "text/plain"}, content=b"hello")
        assert_problem(wrong_type, 415)
        form = client.post(url, headers=headers, data={"body": "x"})
        assert_problem(form, 415)
    assert _row_counts(db) == before


def test_lying_content_length_is_refused(client: TestClient, tenant: Tenant) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 100_000

    response = client.post(f"{API}/org/users", headers={**tenant.rw.headers, "Content-Type": "application/json"},
                           content=chunks())
    assert_problem(response, 413)


def test_too_many_query_parameters_and_too_long_urls(client: TestClient, tenant: Tenant) -> None:
    many = "&".join(f"p{i}=1" for i in range(MAX_QUERY_PARAMS + 1))
    assert_problem(client.get(f"{API}/org/users?{many}", headers=tenant.rw.headers), 400)
    assert client.get(f"{API}/org/users?{'&'.join(f'p{i}=1' for i in range(MAX_QUERY_PARAMS))}",
                      headers=tenant.rw.headers).status_code == 200
    # Every parameter an operation documents may be sent at once.
    documented = max(
        len(op.get("parameters", []))
        for item in client.get(f"{API}/openapi.json").json()["paths"].values()
        for op in item.values()
    )
    assert documented + 8 <= MAX_QUERY_PARAMS, documented
    assert_problem(client.get(f"{API}/org/users?x={'a' * 9000}", headers=tenant.rw.headers), 414)


def test_oversized_or_too_many_headers_are_431(client: TestClient, tenant: Tenant) -> None:
    big = {**tenant.rw.headers, "X-Big": "a" * MAX_HEADER_BYTES}
    assert_problem(client.get(f"{API}/org/users", headers=big), 431)
    many = {**tenant.rw.headers, **{f"X-H{i}": "a" for i in range(MAX_HEADERS)}}
    assert_problem(client.get(f"{API}/org/users", headers=many), 431)
    assert client.get(f"{API}/org/users", headers={**tenant.rw.headers, "X-Fine": "a" * 4000}).status_code == 200


def test_every_response_carries_a_request_id(client: TestClient, tenant: Tenant) -> None:
    mine = client.get(f"{API}/org/users", headers={**tenant.rw.headers, "X-Request-ID": "trace-123"})
    assert mine.headers["x-request-id"] == "trace-123"
    hostile = client.get(f"{API}/org/users", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.status_code == 401 and re.fullmatch("[0-9a-f]{32}", hostile.headers["x-request-id"])
    made = {client.get(f"{API}/org/users").headers["x-request-id"] for _ in range(20)}
    assert len(made) == 20  # each its own
