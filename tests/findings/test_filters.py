"""The filter grammar against an independent oracle: a plain Python filter over the generated rows."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.core.regex import compile_pattern
from openmira.findings import listing
from tests.findings.factory import BASE_TIME, Row, generate, make_finding
from tests.helpers import API, Tenant, assert_problem

Pred = Callable[[Row], bool]
Case = tuple[list[tuple[str, str]], Pred]


def fetch_ids(client: TestClient, tenant: Tenant, params: list[tuple[str, str]]) -> tuple[set[str], int]:
    response = client.get(f"{API}/org/findings", params=[*params, ("limit", "5000")], headers=tenant.rw.headers)
    assert response.status_code == 200, (params, response.text)
    body = response.json()
    ids = [f["finding_id"] for f in body["data"]]
    assert len(ids) == len(set(ids)) == body["meta"]["total_items"]
    return set(ids), body["meta"]["total_items"]


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


SOME_ID = "5f0c2a8e-3b1d-4c6f-9a27-0d4e8b1c7a93"


def _cases(rows: list[Row], admin: uuid.UUID, analyst: uuid.UUID) -> list[Case]:
    cases: list[Case] = []

    def add(params: list[tuple[str, str]] | tuple[str, str], pred: Pred) -> None:
        cases.append((params if isinstance(params, list) else [params], pred))

    # Integer enums: bare, eq, !eq, in, !in (resolution is nullable: the negations keep NULLs).
    for field in ("category", "resolution", "status", "type", "priority"):
        present = sorted({getattr(r, field) for r in rows if getattr(r, field) is not None})
        a, b = present[0], present[-1]
        missing = 3 if field == "priority" and 3 not in present else (99 if field != "priority" else 5)

        def get(r: Row, f: str = field) -> int | None:
            return getattr(r, f)

        add((field, str(a)), lambda r, a=a, get=get: get(r) == a)
        add((f"{field}.eq", str(b)), lambda r, b=b, get=get: get(r) == b)
        add((f"{field}.!eq", str(a)), lambda r, a=a, get=get: get(r) != a)
        add((f"{field}.in", f"{a},{b}"), lambda r, a=a, b=b, get=get: get(r) in (a, b))
        add((f"{field}.in", f"{a}, {missing}"), lambda r, a=a, m=missing, get=get: get(r) in (a, m))
        add((f"{field}.!in", f"{a},{b}"), lambda r, a=a, b=b, get=get: get(r) not in (a, b))
    # Priority also orders: !lt is >=, !gt is <=.
    add(("priority.lt", "3"), lambda r: r.priority < 3)
    add(("priority.!lt", "3"), lambda r: r.priority >= 3)
    add(("priority.gt", "3"), lambda r: r.priority > 3)
    add(("priority.!gt", "3"), lambda r: r.priority <= 3)

    # Booleans.
    add(("blocked", "true"), lambda r: r.blocked)
    add(("blocked.eq", "false"), lambda r: not r.blocked)
    add(("blocked.!eq", "true"), lambda r: not r.blocked)
    add(("blocked", "TRUE"), lambda r: r.blocked)

    # Datetimes, with a zone, without (UTC), and with an offset naming the same instant.
    t = sorted(r.created for r in rows)[len(rows) // 2]
    forms = [iso(t), t.strftime("%Y-%m-%dT%H:%M:%S"), t.astimezone(timezone(timedelta(hours=2))).isoformat()]
    for form in forms:
        add(("created", form), lambda r: r.created == t)
        add(("created.!eq", form), lambda r: r.created != t)
        add(("created.lt", form), lambda r: r.created < t)
        add(("created.!lt", form), lambda r: r.created >= t)
        add(("created.gt", form), lambda r: r.created > t)
        add(("created.!gt", form), lambda r: r.created <= t)
        add(("created_after", form), lambda r: r.created > t)
        add(("created_before", form), lambda r: r.created < t)
    m = sorted(r.modified for r in rows)[len(rows) // 3]
    add(("modified.eq", iso(m)), lambda r: r.modified == m)
    add(("modified.!eq", iso(m)), lambda r: r.modified != m)
    add(("modified.lt", iso(m)), lambda r: r.modified < m)
    add(("modified.!lt", iso(m)), lambda r: r.modified >= m)
    add(("modified.gt", iso(m)), lambda r: r.modified > m)
    add(("modified.!gt", iso(m)), lambda r: r.modified <= m)
    add(("modified_after", iso(m)), lambda r: r.modified > m)
    add(("modified_before", iso(m)), lambda r: r.modified < m)
    # A window from both sides, and a date alone (its midnight, UTC).
    add([("created_after", iso(BASE_TIME + timedelta(minutes=5))), ("created_before", iso(t))],
        lambda r: BASE_TIME + timedelta(minutes=5) < r.created < t)
    add(("created_after", "2024-03-01"), lambda r: r.created > datetime(2024, 3, 1, tzinfo=UTC))

    # People.
    add(("created_by", str(admin)), lambda r: r.created_by == admin)
    for field in ("modified_by", "status_modified_by"):
        def who(r: Row, f: str = field) -> uuid.UUID | None:
            return getattr(r, f)

        add((field, str(admin)), lambda r, who=who: who(r) == admin)
        add((f"{field}.eq", str(analyst)), lambda r, who=who: who(r) == analyst)
        add((f"{field}.!eq", str(admin)), lambda r, who=who: who(r) != admin)
        add((f"{field}.in", f"{admin},{analyst}"), lambda r, who=who: who(r) in (admin, analyst))
        add((f"{field}.!in", str(admin)), lambda r, who=who: who(r) != admin)

    # Names: exact eq/in, case-insensitive contains, RE2-style search regex.
    add(("name", "Brute force, SSH"), lambda r: r.name == "Brute force, SSH")
    add(("name.eq", "possible ransomware note dropped"), lambda r: r.name == "possible ransomware note dropped")
    add(("name.!eq", "Impossible travel detected"), lambda r: r.name != "Impossible travel detected")
    add(("name.in", "Impossible travel detected,Admin: 100 match-x"),
        lambda r: r.name in ("Impossible travel detected", "Admin: 100 match-x"))
    add(("name.!in", "Impossible travel detected,Admin: 100 match-x"),
        lambda r: r.name not in ("Impossible travel detected", "Admin: 100 match-x"))
    for needle in ("ransom", "RANSOMWARE", "100%", "match_x", "ssh", ": "):
        add(("name.contains", needle), lambda r, n=needle: n.lower() in r.name.lower())
        add(("name.!contains", needle), lambda r, n=needle: n.lower() not in r.name.lower())
    for pattern in ("^Possible", "(?i)ransom", r"\bSSH\b", r"\d+%", r"match[_-]x$", r"\(C2\)", "[[:upper:]]{3}", "x"):
        translated = pattern.replace("[[:upper:]]", "[A-Z]")
        add(("name.regex", pattern), lambda r, p=translated: re.search(p, r.name) is not None)
        add(("name.!regex", pattern), lambda r, p=translated: re.search(p, r.name) is None)

    # Several filters AND together; unknown parameters are ignored.
    add([("status", "10"), ("priority.lt", "3"), ("account_id", "x"), ("foo.bar", "1")],
        lambda r: r.status == 10 and r.priority < 3)
    add([("priority.!lt", "2"), ("priority.!gt", "4"), ("name.contains", "ssh")],
        lambda r: 2 <= r.priority <= 4 and "ssh" in r.name.lower())
    return cases


def test_every_field_and_operator_matches_the_oracle(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    rows = generate(db, tenant.org_id, [tenant.admin_id, tenant.analyst_id], count=150, seed=11)
    # Another organization's findings look alike but must never appear.
    generate(db, other_tenant.org_id, [other_tenant.admin_id], count=20, seed=12)

    everything, total = fetch_ids(client, tenant, [])
    assert everything == {str(r.id) for r in rows} and total == 150

    failures = []
    cases = _cases(rows, tenant.admin_id, tenant.analyst_id)
    assert len(cases) > 100
    for params, pred in cases:
        expected = {str(r.id) for r in rows if pred(r)}
        got, _ = fetch_ids(client, tenant, params)
        if got != expected:
            failures.append((params, len(got), len(expected), sorted(got ^ expected)[:3]))
    assert not failures, failures
    # The oracle exercised both empty and non-trivial results.
    sizes = {len({str(r.id) for r in rows if pred(r)}) for _, pred in cases}
    assert 0 in sizes and any(0 < s < 150 for s in sizes)


def test_regex_negation_and_nulls_on_sparse_data(client: TestClient, db: Session, tenant: Tenant) -> None:
    a = make_finding(db, tenant.org_id, resolution=None, modified_by=None)
    b = make_finding(db, tenant.org_id, resolution=20, status=40, modified_by=tenant.admin_id)
    db.commit()
    assert fetch_ids(client, tenant, [("resolution.!eq", "20")])[0] == {str(a.id)}
    assert fetch_ids(client, tenant, [("resolution.!in", "10,20")])[0] == {str(a.id)}
    assert fetch_ids(client, tenant, [("modified_by.!eq", str(tenant.admin_id))])[0] == {str(a.id)}
    assert fetch_ids(client, tenant, [("resolution.in", "20")])[0] == {str(b.id)}


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "open"), ("status.in", "10,x"), ("status.in", ""), ("status.in", "10,,40"),
        ("status.lt", "10"), ("status.contains", "1"), ("priority", "0"), ("priority", "6"),
        ("priority.in", "1,9"), ("priority.regex", "1"), ("blocked", "yes"), ("blocked.in", "true"),
        ("blocked.lt", "true"), ("created", "yesterday"), ("created.gt", "2024-13-01"),
        ("created.in", "2024-01-01"), ("created.contains", "2024"), ("created_after", ""),
        ("created_after.eq", "2024-01-01"), ("modified_before.lt", "2024-01-01"),
        # Fixed IDs: every pytest-xdist worker must collect the same test names.
        ("created_by", "not-a-uuid"), ("created_by.!eq", SOME_ID), ("modified_by", "123"),
        ("status_modified_by.in", f"{SOME_ID},nope"), ("modified_by.contains", "a"),
        ("name.lt", "a"), ("name.like", "a"), ("name.", "a"), ("name.regex", "(unclosed"),
        ("name.!regex", "(?=lookahead)"), ("name.regex", r"(a)\1"), ("name.regex", "a" * 600),
        ("name.regex", ""), ("name.contains", ""), ("type.eq.eq", "10"), ("category.!in", "1,two"),
        ("resolution.gt", "10"),
    ],
)
def test_bad_filter_is_a_400_naming_the_parameter(
    client: TestClient, tenant: Tenant, param: str, value: str
) -> None:
    response = client.get(f"{API}/org/findings", params={param: value}, headers=tenant.rw.headers)
    body = assert_problem(response, 400, param)
    assert any(p["name"] == param and p["in"] == "query" for p in body["invalid_params"]), body


def test_pathological_regex_returns(client: TestClient, db: Session, tenant: Tenant) -> None:
    """A backtracking engine would spin on these; the request must come back (200 or 400), not hang."""
    for i in range(30):
        make_finding(db, tenant.org_id, name="a" * 480 + "!" if i % 2 else "a" * 499)
    db.commit()
    for pattern in ("(a+)+$", "(a|a)*$", "(a*)*b", "(.*a){20}", "^(a|aa)+$", "(a{1,30}){1,30}b", "((a+)+)+b"):
        response = client.get(f"{API}/org/findings", params={"name.regex": pattern, "limit": 100},
                               headers=tenant.rw.headers)
        assert response.status_code in (200, 400), (pattern, response.text)
        if response.status_code == 400:
            assert_problem(response, 400, "name.regex")
        else:
            names = [f["name"] for f in response.json()["data"]]
            # Checked with RE2: Python's backtracking re would itself hang here.
            assert all(compile_pattern(pattern).search(n) for n in names)


def test_postgres_regex_over_its_time_budget_is_a_400(
    client: TestClient, db: Session, tenant: Tenant, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL runs regex filters under a statement timeout; hitting it is a 400 naming the parameter,
    and the connection is fit for the next request."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the statement timeout is PostgreSQL's; SQLite matches with RE2 in linear time")
    for _ in range(2000):
        make_finding(db, tenant.org_id, name="ab" * 250)
    db.commit()
    monkeypatch.setattr(listing, "REGEX_STATEMENT_TIMEOUT_MS", 1)
    costly = {"name.regex": "(a|b|ab|ba)*(x|y){2,40}z", "limit": 10}
    response = client.get(f"{API}/org/findings", params=costly, headers=tenant.rw.headers)
    body = assert_problem(response, 400, "name.regex")
    assert "too costly" in body["detail"]
    monkeypatch.undo()
    response = client.get(f"{API}/org/findings", params=costly, headers=tenant.rw.headers)
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["total_items"] == 0
