"""Findings: scoped queries, the filtered list, and the finding / finding-details shapes.

Every query starts from the tenant scope's ``org_ids``; a finding outside it is "not found".
Person objects and organization names for a page are loaded in one query each (no N+1).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from sqlalchemy import ColumnElement, Row, Select, func, select, text, union_all
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from openmira.core.errors import BadRequest, NotFound
from openmira.core.lookup import one_or_404
from openmira.core.paging import PageRequest, paginate, parse_order_by
from openmira.findings.filters import FindingFilters, combined, parse_filters
from openmira.findings.models import Finding, FindingCount
from openmira.findings.view import details_json, finding_json, select_findings
from openmira.users.models import User
from openmira.users.schemas import Person

DEFAULT_ORDER = "created;desc"
ORDER_COLUMNS: dict[str, ColumnElement[Any]] = {
    "created": Finding.created,
    "modified": Finding.modified,
    "status_modified": Finding.status_modified,
    "matched": Finding.matched,
    "priority": Finding.priority,
    "status": Finding.status,
    "type": Finding.type,
    "category": Finding.category,
    "resolution": Finding.resolution,
    "blocked": Finding.blocked,
    "name": Finding.name,
    "short_id": Finding.short_id,
    "finding_id": Finding.id,
}

# PostgreSQL runs regex filters under this statement timeout; a query that hits it is a 400.
REGEX_STATEMENT_TIMEOUT_MS = 3000
_PG_INVALID_REGEX = "2201B"
_PG_QUERY_CANCELED = "57014"


def scoped_findings(org_ids: Iterable[uuid.UUID]) -> Select[tuple[Finding]]:
    return select(Finding).where(Finding.org_id.in_(list(org_ids)))


def get_finding(session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID) -> Finding:
    return one_or_404(session, scoped_findings(org_ids).where(Finding.id == finding_id), "finding", finding_id)


def get_finding_for_update(session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID) -> Finding:
    """The finding, row-locked on PostgreSQL so concurrent writes to it apply one after the other."""
    stmt = scoped_findings(org_ids).where(Finding.id == finding_id).with_for_update()
    return one_or_404(session, stmt, "finding", finding_id)


def people(session: Session, user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, Person]:
    """Person objects for the given user IDs, in one query."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(User.id, User.email, User.first_name, User.last_name).where(User.id.in_(ids))
    ).all()
    return {r.id: Person(id=r.id, email=r.email, first_name=r.first_name, last_name=r.last_name) for r in rows}


def _one_row(session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID, *, details: bool) -> Row[Any]:
    stmt = select_findings(details=details).where(Finding.org_id.in_(list(org_ids)), Finding.id == finding_id)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"finding {finding_id} not found")
    return row


def finding_out(session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID) -> dict[str, Any]:
    """The scope's finding as the API shows it (``FindingOut``), or 404."""
    return finding_json(_one_row(session, org_ids, finding_id, details=False))


def finding_details(
    session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID, public_url: str
) -> dict[str, Any]:
    """The scope's finding with owners, summary, notes and console link (``FindingDetails``), or 404."""
    return details_json(session, _one_row(session, org_ids, finding_id, details=True), public_url)


def event_data(session: Session, finding: Finding, **extra: Any) -> dict[str, Any]:
    """The ``data`` of a ``finding.*`` webhook event: the finding as the API shows it, plus what changed."""
    return {"finding": finding_out(session, [finding.org_id], finding.id), **extra}


def scope_total(session: Session, org_ids: Iterable[uuid.UUID]) -> int:
    """Every finding of the scope, read from the per-organization counts rather than counted."""
    total = session.scalar(select(func.sum(FindingCount.total)).where(FindingCount.org_id.in_(list(org_ids))))
    return int(total or 0)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def list_findings(
    session: Session,
    request: Request,
    page: PageRequest,
    org_ids: Iterable[uuid.UUID],
    order_by: str | None,
) -> dict[str, Any]:
    """One page of the scope's findings, filtered by the query's filter parameters (section 5)."""
    dialect = _dialect(session)
    filters = parse_filters(request.query_params.multi_items(), dialect)
    org_ids = sorted(org_ids)
    where = combined(filters)
    matching = scoped_findings(org_ids) if where is None else scoped_findings(org_ids).where(where)
    if len(org_ids) > 1:
        stmt, order = _merged_accounts(org_ids, where, order_by, page)
    else:
        stmt = select_findings().where(Finding.org_id.in_(org_ids), *([] if where is None else [where]))
        order = parse_order_by(order_by, ORDER_COLUMNS, default=DEFAULT_ORDER, tie_break=Finding.id)
    if filters.regex_params and dialect == "postgresql":
        session.execute(text(f"SET LOCAL statement_timeout = {REGEX_STATEMENT_TIMEOUT_MS}"))

    def count() -> int:
        # Unfiltered: the scope's finding count, kept exact by triggers (finding_counts). Filtered: count
        # the matching rows (``stmt`` may hold only each account's leading rows, see _merged_accounts).
        if where is None:
            return scope_total(session, org_ids)
        return session.scalar(select(func.count()).select_from(matching.order_by(None).subquery())) or 0

    try:
        return paginate(session, request, page, stmt, order, finding_json, count, whole_rows=True)
    except DBAPIError as exc:
        raise _regex_failure(exc, filters) from None


def _merged_accounts(
    org_ids: Sequence[uuid.UUID], where: ColumnElement[bool] | None, order_by: str | None, page: PageRequest
) -> tuple[Select[Any], list[ColumnElement[Any]]]:
    """Several accounts' findings (the MSP all-accounts list) as a merge of each account's leading rows.

    ``org_id IN (...) ORDER BY created DESC`` cannot walk one index in order, so the database would read
    every row of every account to keep the top of the page. The page's rows are among each account's
    first ``offset + size`` rows in the same order, and each of those is one index range
    (``ix_findings_org_*``): the page costs accounts x (offset + size) rows instead of all of them.
    """
    order = parse_order_by(order_by, ORDER_COLUMNS, default=DEFAULT_ORDER, tie_break=Finding.id)
    depth = page.offset + page.size
    conditions = [] if where is None else [where]
    leading = [
        select(scoped_findings([org]).where(*conditions).order_by(*order).limit(depth).subquery())
        for org in org_ids
    ]
    merged = aliased(Finding, union_all(*leading).subquery("merged"))
    columns = {name: getattr(merged, column.key) for name, column in ORDER_COLUMNS.items()}
    return select_findings(merged), parse_order_by(order_by, columns, default=DEFAULT_ORDER, tie_break=merged.id)


def _regex_failure(exc: DBAPIError, filters: FindingFilters) -> Exception:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    reasons = {
        _PG_INVALID_REGEX: "the database cannot run this regular expression",
        _PG_QUERY_CANCELED: "the regular expression is too costly to run",
    }
    if not filters.regex_params or sqlstate not in reasons:
        return exc
    reason = reasons[sqlstate]
    names = ", ".join(filters.regex_params)
    invalid = [{"name": n, "in": "query", "reason": reason} for n in filters.regex_params]
    return BadRequest(f"{names}: {reason}", invalid_params=invalid)
