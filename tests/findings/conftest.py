"""Findings fixtures: one finding with owners, comments and evidence in the tenant, one in another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openmira.db.base import utcnow
from openmira.findings.models import Finding, FindingComment, FindingOwner
from tests.findings.factory import add_comment, add_evidence, add_owner, make_finding
from tests.helpers import Tenant


@dataclass
class Seeded:
    mine: Finding
    foreign: Finding


EVIDENCE = [
    {"timestamp": "2024-03-01T12:00:00Z", "src_ip": "10.0.0.5", "client_ip_geoip.countrycode": "RU"},
    {"timestamp": "2024-03-01T12:00:05Z", "src_ip": "10.0.0.6", "user": "bob"},
    {"timestamp": "2024-03-01T12:00:09Z", "src_ip": "10.0.0.7", "client_ip_geoip.countrycode": "US", "action": "x"},
]


@pytest.fixture
def seeded(db: Session, client: TestClient, tenant: Tenant, other_tenant: Tenant) -> Seeded:
    mine = make_finding(
        db, tenant.org_id, name="Possible Ransomware Activity", priority=1, type=10, status=10,
        summary="Files renamed at a high rate", category_name="Ransomware", jurisdiction_name="Endpoint",
    )
    add_owner(db, mine, "manager", tenant.admin_id)
    add_comment(db, mine, tenant.analyst_id, "<p>first</p>", utcnow() - timedelta(hours=1))
    add_evidence(db, mine, EVIDENCE)
    foreign = make_finding(db, other_tenant.org_id, name="Their finding")
    add_comment(db, foreign, other_tenant.analyst_id, "theirs", utcnow())
    db.commit()
    return Seeded(mine, foreign)


def snapshot(db: Session, finding: Finding) -> tuple[object, ...]:
    """Everything a write could change about a finding, read fresh from the database."""
    db.expire_all()
    f = db.get(Finding, finding.id)
    assert f is not None
    owners = db.execute(
        select(FindingOwner.owner_type, FindingOwner.user_id, FindingOwner.position)
        .where(FindingOwner.finding_id == f.id).order_by(FindingOwner.owner_type, FindingOwner.user_id)
    ).all()
    comments = db.scalar(select(func.count()).select_from(FindingComment).where(FindingComment.finding_id == f.id))
    return (f.status, f.resolution, f.resolution_notes, f.modified, f.modified_by, f.status_modified,
            f.status_modified_by, tuple(owners), comments)
