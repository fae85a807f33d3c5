"""Comments on a finding: list (oldest first) and add."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest
from openmira.core.paging import PageRequest, paginate
from openmira.core.text import COMMENT_PAGE_MAX
from openmira.db.base import utcnow
from openmira.findings.models import FindingComment
from openmira.findings.schemas import CommentIn, CommentOut
from openmira.findings.service import event_data, get_finding, people
from openmira.users.service import org_members
from openmira.webhooks.events import emit


def serialize_comments(session: Session, comments: Sequence[FindingComment]) -> list[CommentOut]:
    persons = people(session, [c.sender_id for c in comments])
    now = utcnow()
    return [
        CommentOut(
            id=c.id,
            subject=c.subject,
            body=c.body,
            age=_age(now, c.created),
            sender=persons.get(c.sender_id) if c.sender_id else None,
        )
        for c in comments
    ]


def _age(now: datetime, created: datetime) -> int:
    return max(0, int((now - created).total_seconds()))


def list_comments(
    session: Session, request: Request, page: PageRequest, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID
) -> dict[str, Any]:
    finding = get_finding(session, org_ids, finding_id)
    # A comment may be ~40 KB, so a 5,000-comment page could hold 200 MB: pages are capped, and
    # meta.page_size and the links say what was served.
    page = PageRequest(page.page, min(page.size, COMMENT_PAGE_MAX))
    stmt = select(FindingComment).where(FindingComment.finding_id == finding.id)
    order = [FindingComment.created.asc(), FindingComment.id.asc()]
    envelope = paginate(session, request, page, stmt, order, lambda c: c)
    envelope["data"] = serialize_comments(session, envelope["data"])
    return envelope


def add_comment(session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID, body: CommentIn) -> CommentOut:
    finding = get_finding(session, org_ids, finding_id)
    if body.sender not in org_members(session, finding.org_id, [body.sender]):
        raise BadRequest.param("sender", "must be the ID of a user of the finding's organization", "body")
    comment = FindingComment(
        id=uuid.uuid4(), finding_id=finding.id, subject=body.subject, body=body.body, sender_id=body.sender,
        created=utcnow(),
    )
    session.add(comment)
    session.flush()
    out = serialize_comments(session, [comment])[0]
    emit(session, finding.org_id, "finding.comment_added",
         lambda: event_data(session, finding, comment=out.model_dump(mode="json")))
    return out
