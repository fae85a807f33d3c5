"""A finding's evidence rows, paged, with ``evidence_keys``, ordered by ``order_by`` over those keys.

``evidence_keys`` is the union of the keys of *all* the finding's rows (not only the page's), in
first-seen order (rows by position, keys in each row's stored order), so a client can build its
table header once, with the columns in the order the detection produced them, and every page
agrees on it.

Rows are ordered in Python, not SQL: they are all loaded anyway for ``evidence_keys``, the column is
plain ``JSON`` (PostgreSQL has no ordering for it) and one key may hold numbers in one row and text in
another; sorting here gives one order on every database.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.core.paging import OrderSpec, PageRequest, paged, parse_order
from openmira.findings.models import EvidenceRow
from openmira.findings.service import get_finding

Row = dict[str, Any]


def list_evidence(
    session: Session,
    request: Request,
    page: PageRequest,
    org_ids: Iterable[uuid.UUID],
    finding_id: uuid.UUID,
    order_by: str | None = None,
) -> dict[str, Any]:
    finding = get_finding(session, org_ids, finding_id)
    rows: Sequence[Row] = session.scalars(
        select(EvidenceRow.data)
        .where(EvidenceRow.finding_id == finding.id)
        .order_by(EvidenceRow.position, EvidenceRow.id)
    ).all()
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    if order_by:
        # The grammar and errors of every list; the default is never used (no order_by keeps the detection's).
        rows = _ordered(rows, parse_order(order_by, keys, default=order_by))
    envelope = paged(request, page, rows[page.offset : page.offset + page.size], len(rows))
    envelope["evidence_keys"] = list(keys)
    return envelope


def _ordered(rows: Sequence[Row], order: OrderSpec) -> list[Row]:
    """Rows by each key in turn, the first key most significant; a row without the key (or with null) comes
    last in either direction, as an empty cell does at the bottom of a sorted table. The sorts are stable,
    so the detection's order breaks the remaining ties."""
    result = list(rows)
    for key, descending in reversed(order):  # stable sorts, least significant key first
        present = [row for row in result if row.get(key) is not None]
        present.sort(key=lambda row: _sort_key(row[key]), reverse=descending)
        result = present + [row for row in result if row.get(key) is None]
    return result


def _sort_key(value: Any) -> tuple[int, Any]:
    """JSON values of mixed types in one key compare: booleans, then numbers, then text, then the rest."""
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, json.dumps(value, sort_keys=True))
