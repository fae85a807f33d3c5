"""Findings created straight through the ORM, for the findings tests."""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from openmira.findings.models import EvidenceRow, Finding, FindingComment, FindingOwner

_counter = itertools.count(1)
BASE_TIME = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def make_finding(db: Session, org_id: uuid.UUID, **fields: Any) -> Finding:
    n = next(_counter)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "short_id": f"F-{n:06d}",
        "name": f"Finding {n}",
        "analysis": "Analysis text",
        "summary": "Summary text",
        "status": 10,
        "priority": 3,
        "type": 10,
        "category": 1,
        "category_name": "Malware",
        "jurisdiction_name": "Endpoint",
        "blocked": False,
        "created": BASE_TIME,
        "modified": BASE_TIME,
    }
    values.update(fields)
    finding = Finding(**values)
    db.add(finding)
    db.flush()
    return finding


def add_owner(db: Session, finding: Finding, owner_type: str, user_id: uuid.UUID, position: int = 0) -> None:
    db.add(FindingOwner(finding_id=finding.id, owner_type=owner_type, user_id=user_id, position=position))
    db.flush()


def add_comment(db: Session, finding: Finding, sender: uuid.UUID | None, body: str, created: datetime) -> None:
    db.add(FindingComment(finding_id=finding.id, sender_id=sender, body=body, subject="", created=created))
    db.flush()


def add_evidence(db: Session, finding: Finding, rows: list[dict[str, Any]]) -> None:
    for i, data in enumerate(rows):
        db.add(EvidenceRow(finding_id=finding.id, position=i, data=data))
    db.flush()


NAMES = [
    "Possible Ransomware Activity",
    "possible ransomware note dropped",
    "Brute force, SSH",
    "SSH login from new country",
    "Admin: 100% match_x",
    "Admin: 100 match-x",
    "Impossible travel detected",
    "Operational: agent offline",
    "Risk: MFA disabled for user",
    "Threat: known bad IP (C2)",
]


@dataclass
class Row:
    """What a test knows about one generated finding: the oracle's view of the data."""

    id: uuid.UUID
    name: str
    status: int
    priority: int
    type: int
    category: int
    blocked: bool
    resolution: int | None
    created: datetime
    modified: datetime
    created_by: uuid.UUID | None
    modified_by: uuid.UUID | None
    status_modified_by: uuid.UUID | None


def generate(db: Session, org_id: uuid.UUID, users: list[uuid.UUID], count: int = 150, seed: int = 7) -> list[Row]:
    """``count`` findings with varied values; ``created`` falls on few slots so many rows tie."""
    rng = random.Random(seed)
    people: list[uuid.UUID | None] = [None, *users]
    rows = []
    for _ in range(count):
        status = rng.choice([10, 40])
        resolution = rng.choice([10, 20, 30, 40, None]) if status == 40 else rng.choice([None, None, 20])
        created = BASE_TIME + timedelta(minutes=rng.randrange(40))
        modified = created + timedelta(seconds=rng.choice([0, 1, 30, 3600]))
        row = Row(
            id=uuid.uuid4(),
            name=rng.choice(NAMES),
            status=status,
            priority=rng.randint(1, 5),
            type=rng.choice([10, 20, 30, 40, 50]),
            category=rng.randint(0, 5),
            blocked=rng.random() < 0.3,
            resolution=resolution,
            created=created,
            modified=modified,
            created_by=rng.choice(people),
            modified_by=rng.choice(people),
            status_modified_by=rng.choice(people),
        )
        make_finding(db, org_id, **{k: v for k, v in vars(row).items()})
        rows.append(row)
    db.commit()
    return rows
