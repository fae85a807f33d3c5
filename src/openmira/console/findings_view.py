"""Finding queries for the console's finding page (the lists are in ``findings_list``).

Every query starts from an organization the caller has already been allowed to see
(``deps.visible_org``), through the findings service's own tenant query (``get_finding``). Writes go
through the findings services (routes_findings.py), never from here.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openmira.core.errors import NotFound
from openmira.findings import service as findings
from openmira.findings.models import EvidenceRow, Finding, FindingComment, FindingOwner
from openmira.users.models import User

COMMENT_PAGE_SIZE = 25
EVIDENCE_LIMIT = 200
T = TypeVar("T")
OWNER_TYPES = (("responder", "Responders"), ("analyst", "Analysts"), ("manager", "Managers"))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    total_items: int
    size: int

    @property
    def total_pages(self) -> int:
        return -(-self.total_items // self.size)


CommentRow = tuple[FindingComment, User | None]


def get_finding(db: Session, org_id: uuid.UUID, finding_id: uuid.UUID) -> Finding | None:
    try:
        return findings.get_finding(db, [org_id], finding_id)
    except NotFound:
        return None


def people(db: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, User]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {u.id: u for u in db.scalars(select(User).where(User.id.in_(wanted)))}


def members(db: Session, org_id: uuid.UUID) -> list[User]:
    """The organization's users: who can own its findings."""
    return list(db.scalars(select(User).where(User.org_id == org_id).order_by(User.email)))


def owners(db: Session, finding_id: uuid.UUID) -> dict[str, list[User]]:
    rows = db.execute(
        select(FindingOwner.owner_type, User)
        .join(User, User.id == FindingOwner.user_id)
        .where(FindingOwner.finding_id == finding_id)
        .order_by(FindingOwner.position, User.email)
    ).all()
    grouped: dict[str, list[User]] = defaultdict(list)
    for owner_type, user in rows:
        grouped[owner_type].append(user)
    return grouped


def comments(db: Session, finding_id: uuid.UUID, page: int | None) -> Page[CommentRow]:
    """One page of the thread, oldest first; by default the last page (the newest comments, next to the
    form). Paged because a thread is unbounded and each comment may be ~40 KB."""
    total = db.scalar(select(func.count()).where(FindingComment.finding_id == finding_id)) or 0
    last = max(1, -(-total // COMMENT_PAGE_SIZE))
    number = last if page is None else max(1, min(page, last))
    rows = db.execute(
        select(FindingComment, User)
        .outerjoin(User, User.id == FindingComment.sender_id)
        .where(FindingComment.finding_id == finding_id)
        .order_by(FindingComment.created, FindingComment.id)
        .offset((number - 1) * COMMENT_PAGE_SIZE)
        .limit(COMMENT_PAGE_SIZE)
    ).all()
    return Page([(c, u) for c, u in rows], number, total, COMMENT_PAGE_SIZE)


def evidence(db: Session, finding_id: uuid.UUID) -> tuple[list[str], list[dict[str, Any]], int]:
    """(keys in first-seen order, the first rows, the total number of rows)."""
    total = db.scalar(select(func.count()).where(EvidenceRow.finding_id == finding_id)) or 0
    rows = [
        r.data or {}
        for r in db.scalars(
            select(EvidenceRow)
            .where(EvidenceRow.finding_id == finding_id)
            .order_by(EvidenceRow.position, EvidenceRow.id)
            .limit(EVIDENCE_LIMIT)
        )
    ]
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return list(keys), rows, total
