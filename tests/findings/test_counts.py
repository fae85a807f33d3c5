"""total_items of unfiltered lists comes from per-organization counts kept by triggers: they must stay exact."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from openmira.findings.models import Finding, FindingCount
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
