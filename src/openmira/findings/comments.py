"""Comments on a finding: list (oldest first) and add."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest
from openmira.core.paging import PageRequest, paginate
from openmira.core.text import COMMENT_PAGE_MAX
from openmira.db.base import utcnow
from openmira.findings.models import FindingComment
from openmira.findings.schemas import CommentIn, CommentOut
from openmira.findings.service import event_data, finding_ref, get_finding, people
from openmira.users.schemas import Person
from openmira.webhooks.events import emit


def serialize_comments(session: Session, comments: Sequence[FindingComment]) -> list[CommentOut]:
    persons = people(session, [c.sender_id for c in comments])
    now = utcnow()
    return [_comment_out(c.id, c.subject, c.body, c.created, persons.get(c.sender_id), now) for c in comments]


def _comment_out(
    comment_id: uuid.UUID, subject: str, body: str, created: datetime, sender: Person | None, now: datetime
) -> CommentOut:
    return CommentOut(id=comment_id, subject=subject, body=body, age=_age(now, created), sender=sender)


def _age(now: datetime, created: datetime) -> int:
    return max(0, int((now - created).total_seconds()))


def list_comments(
    session: Session, request: Request, page: PageRequest, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID
) -> dict[str, Any]:
    finding = get_finding(session, org_ids, finding_id)
    # A comment may be ~40 KB, so a 5,000-comment page could hold 200 MB: pages are capped, and
    # meta.page_size and the links say what was served.
    page = PageRequest.of(page.page, min(page.size, COMMENT_PAGE_MAX))
    stmt = select(FindingComment).where(FindingComment.finding_id == finding.id)
    order = [FindingComment.created.asc(), FindingComment.id.asc()]
    envelope = paginate(session, request, page, stmt, order, lambda c: c)
    envelope["data"] = serialize_comments(session, envelope["data"])
    return envelope


def add_comment(session: Session, org_ids: Collection[uuid.UUID], finding_id: uuid.UUID, body: CommentIn) -> CommentOut:
    finding = finding_ref(session, org_ids, finding_id)
    sender = people(session, [body.sender], org_id=finding.org_id).get(body.sender)
    if sender is None:
        raise BadRequest.param("sender", "must be the ID of a user of the finding's organization", "body")
    comment_id, created = uuid.uuid4(), utcnow()
    # A Core insert: the comment is written, never read back as an entity in this request.
    session.execute(
        insert(FindingComment.__table__).values(
            id=comment_id, finding_id=finding.id, subject=body.subject, body=body.body, sender_id=body.sender,
            created=created,
        )
    )
    out = _comment_out(comment_id, body.subject, body.body, created, sender, created)
    emit(session, finding.org_id, "finding.comment_added",
         lambda: event_data(session, finding, comment=out.model_dump(mode="json")))
    return out
