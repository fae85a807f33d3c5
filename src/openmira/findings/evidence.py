"""A finding's evidence rows, paged, with ``evidence_keys``.

``evidence_keys`` is the union of the keys of *all* the finding's rows (not only the page's), in
first-seen order (rows by position, keys in each row's stored order), so a client can build its
table header once, with the columns in the order the detection produced them, and every page
agrees on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.core.paging import PageRequest, paged
from openmira.findings.models import EvidenceRow
from openmira.findings.service import get_finding


def list_evidence(
    session: Session, request: Request, page: PageRequest, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID
) -> dict[str, Any]:
    finding = get_finding(session, org_ids, finding_id)
    rows = session.scalars(
        select(EvidenceRow.data)
        .where(EvidenceRow.finding_id == finding.id)
        .order_by(EvidenceRow.position, EvidenceRow.id)
    ).all()
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    envelope = paged(request, page, rows[page.offset : page.offset + page.size], len(rows))
    envelope["evidence_keys"] = list(keys)
    return envelope
