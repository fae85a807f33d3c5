"""total_items of unfiltered lists comes from per-organization counts kept by triggers: they must stay exact."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from openmira.findings.models import Finding, FindingCount, finding_group_counts
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant


def _counted(db: Session) -> dict:  # type: ignore[type-arg]
    db.expire_all()
    return {org: n for org, n in db.execute(select(FindingCount.org_id, FindingCount.total)) if n}


def _actual(db: Session) -> dict:  # type: ignore[type-arg]
    return dict(db.execute(select(Finding.org_id, func.count()).group_by(Finding.org_id)).all())


def test_counts_follow_inserts_deletes_and_moves(db: Session, tenant: Tenant, other_tenant: Tenant) -> None:
    made = [make_finding(db, tenant.org_id) for _ in range(7)]
    make_finding(db, other_tenant.org_id)
    db.commit()
    assert _counted(db) == _actual(db) == {tenant.org_id: 7, other_tenant.org_id: 1}
    rows = [
        {"id": uuid.uuid4(), "org_id": other_tenant.org_id, "short_id": f"BULK{i}", "name": f"b{i}"}
        for i in range(25)
    ]
    db.execute(insert(Finding), rows)  # a bulk insert, as the seeder does
    db.execute(delete(Finding).where(Finding.id.in_([f.id for f in made[:3]])))
    db.execute(update(Finding).where(Finding.id == made[3].id).values(org_id=other_tenant.org_id))
    db.execute(update(Finding).where(Finding.id == made[4].id).values(status=40))
    db.commit()
    assert _counted(db) == _actual(db) == {tenant.org_id: 3, other_tenant.org_id: 27}


def test_unfiltered_total_is_exact_on_every_page(client: TestClient, db: Session, tenant: Tenant) -> None:
    for _ in range(12):
        make_finding(db, tenant.org_id)
    db.commit()
    for query in ("page_size=5", "page_size=5&page=2", "page_size=5&page=4", "page_size=12", "status=10&page_size=5"):
        meta = client.get(f"{API}/org/findings?{query}", headers=tenant.ro.headers).json()["meta"]
        assert meta["total_items"] == 12 and meta["total_pages"] == -(-12 // meta["page_size"]), query


GROUP_COLUMNS = ("org_id", "status", "priority", "type", "category", "blocked", "resolution")


def _group_counted(db: Session) -> dict:  # type: ignore[type-arg]
    columns = [finding_group_counts.c[c] for c in GROUP_COLUMNS]
    return {tuple(r[:-1]): r[-1] for r in db.execute(select(*columns, finding_group_counts.c.total)) if r[-1]}


def _group_actual(db: Session) -> dict:  # type: ignore[type-arg]
    columns = [getattr(Finding, c) for c in GROUP_COLUMNS]
    return {tuple(r[:-1]): r[-1] for r in db.execute(select(*columns, func.count()).group_by(*columns))}


def _random_fields(rng: random.Random) -> dict:  # type: ignore[type-arg]
    return {
        "status": rng.choice([10, 20, 40]), "priority": rng.randint(1, 5), "type": rng.choice([10, 20, 30]),
        "category": rng.randint(0, 3), "blocked": rng.random() < 0.3,
        "resolution": rng.choice([None, None, 10, 20, 30, 40]),
    }


def test_group_counts_follow_every_kind_of_write(db: Session, tenant: Tenant, other_tenant: Tenant) -> None:
    rng = random.Random(5)
    made = [make_finding(db, tenant.org_id, **_random_fields(rng)) for _ in range(40)]
    db.commit()
    assert _group_counted(db) == _group_actual(db)
    rows = [
        {"id": uuid.uuid4(), "org_id": other_tenant.org_id, "short_id": f"G{i}", "name": f"g{i}", **_random_fields(rng)}
        for i in range(60)
    ]
    db.execute(insert(Finding), rows)  # bulk, as the seeder does
    db.execute(delete(Finding).where(Finding.id.in_([f.id for f in made[:5]])))
    db.execute(update(Finding).where(Finding.id.in_([f.id for f in made[5:15]])).values(status=40, resolution=20))
    db.execute(update(Finding).where(Finding.id == made[15].id).values(org_id=other_tenant.org_id))
    db.execute(update(Finding).where(Finding.id == made[16].id).values(resolution=None, blocked=True))
    db.execute(update(Finding).where(Finding.id == made[17].id).values(name="renamed"))  # not a group column
    db.commit()
    assert _group_counted(db) == _group_actual(db)
    made[18].priority = 1 if made[18].priority != 1 else 2  # through the ORM, as the API's writes do
    db.commit()
    assert _group_counted(db) == _group_actual(db)


# Filters whose totals come from the group counts, with the Python predicate each stands for.
GROUP_FILTERS: list[tuple[str, Callable[[Finding], bool]]] = [
    ("status=40", lambda f: f.status == 40),
    ("status.!eq=40", lambda f: f.status != 40),
    ("status=40&priority.in=1,2,3&blocked=false", lambda f: f.status == 40 and f.priority <= 3 and not f.blocked),
    ("priority.lt=3", lambda f: f.priority < 3),
    ("priority.!gt=2&type.!in=10,30", lambda f: f.priority <= 2 and f.type not in (10, 30)),
    ("resolution=20", lambda f: f.resolution == 20),
    ("resolution.!eq=20", lambda f: f.resolution != 20),
    ("resolution.in=10,30", lambda f: f.resolution in (10, 30)),
    ("resolution.!in=10,30", lambda f: f.resolution not in (10, 30)),
    ("blocked=true&category.in=0,2", lambda f: f.blocked and f.category in (0, 2)),
    ("category=3&category.!eq=3", lambda f: False),
    ("type=20&status.in=10,20&priority=5", lambda f: f.type == 20 and f.status in (10, 20) and f.priority == 5),
]


def test_filtered_totals_from_group_counts_equal_an_oracle(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    rng = random.Random(11)
    mine = [make_finding(db, tenant.org_id, **_random_fields(rng)) for _ in range(150)]
    for _ in range(40):  # another organization's findings must not count
        make_finding(db, other_tenant.org_id, **_random_fields(rng))
    db.commit()
    for query, matches in GROUP_FILTERS:
        expected = sum(1 for f in mine if matches(f))
        # A page of 2 is full whenever 3 or more match, so the total is read from the counts.
        for paging in ("page_size=2", "page_size=2&page=3"):
            body = client.get(f"{API}/org/findings?{query}&{paging}", headers=tenant.ro.headers).json()
            assert body["meta"]["total_items"] == expected, (query, paging)
        listed = client.get(f"{API}/org/findings?{query}&page_size=200", headers=tenant.ro.headers).json()
        assert len(listed["data"]) == expected, query
