"""Findings: scoped queries, the filtered list, and the finding / finding-details shapes.

Every query starts from the tenant scope's ``org_ids``; a finding outside it is "not found".
Person objects and organization names for a page are loaded in one query each (no N+1).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from sqlalchemy import ColumnElement, Select, func, select, text, union_all
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from openmira.core.errors import BadRequest
from openmira.core.lookup import one_or_404
from openmira.core.paging import PageRequest, paginate, parse_order_by
from openmira.findings.filters import FindingFilters, combined, parse_filters
from openmira.findings.models import Finding, FindingCount, FindingOwner
from openmira.findings.schemas import FindingDetails, FindingOut, Owners
from openmira.meta.enums import FINDING_TYPES, RESOLUTIONS, STATUSES
from openmira.orgs.models import Organization
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

OWNER_GROUPS = {"responder": "responders", "analyst": "analysts", "manager": "managers"}


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


def _org_names(session: Session, org_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = set(org_ids)
    if not ids:
        return {}
    return dict(session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all())


def _finding_fields(f: Finding, persons: dict[uuid.UUID, Person], org_names: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "finding_id": f.id,
        "short_id": f.short_id,
        "name": f.name,
        "analysis": f.analysis,
        "status": f.status,
        "status_name": STATUSES.get(f.status, "Unknown"),
        "priority": f.priority,
        "type": f.type,
        "type_name": FINDING_TYPES.get(f.type, "Unknown"),
        "category": f.category,
        "blocked": f.blocked,
        "resolution": f.resolution,
        "resolution_name": RESOLUTIONS.get(f.resolution) if f.resolution is not None else None,
        "org_id": f.org_id,
        "org_name": org_names.get(f.org_id, ""),
        "created": f.created,
        "modified": f.modified,
        "status_modified": f.status_modified,
        "matched": f.matched,
        "modified_by": persons.get(f.modified_by) if f.modified_by else None,
        "status_modified_by": persons.get(f.status_modified_by) if f.status_modified_by else None,
    }


def serialize_findings(session: Session, findings: Sequence[Finding]) -> list[FindingOut]:
    persons = people(session, [u for f in findings for u in (f.modified_by, f.status_modified_by)])
    org_names = _org_names(session, {f.org_id for f in findings})
    return [FindingOut(**_finding_fields(f, persons, org_names)) for f in findings]


def event_data(session: Session, finding: Finding, **extra: Any) -> dict[str, Any]:
    """The ``data`` of a ``finding.*`` webhook event: the finding as the API shows it, plus what changed."""
    return {"finding": serialize_findings(session, [finding])[0].model_dump(mode="json"), **extra}


def finding_url(public_url: str, finding: Finding) -> str:
    return f"{public_url.rstrip('/')}/console/orgs/{finding.org_id}/findings/{finding.id}"


def finding_details(session: Session, finding: Finding, public_url: str) -> FindingDetails:
    owner_rows = session.execute(
        select(FindingOwner.owner_type, FindingOwner.user_id)
        .where(FindingOwner.finding_id == finding.id)
        .order_by(FindingOwner.owner_type, FindingOwner.position, FindingOwner.user_id)
    ).all()
    persons = people(
        session, [finding.modified_by, finding.status_modified_by, *(r.user_id for r in owner_rows)]
    )
    groups: dict[str, list[Person]] = {group: [] for group in OWNER_GROUPS.values()}
    for row in owner_rows:
        group = OWNER_GROUPS.get(row.owner_type)
        if group is not None and row.user_id in persons:
            groups[group].append(persons[row.user_id])
    return FindingDetails(
        **_finding_fields(finding, persons, _org_names(session, [finding.org_id])),
        category_name=finding.category_name,
        jurisdiction_name=finding.jurisdiction_name,
        summary=finding.summary,
        url=finding_url(public_url, finding),
        resolution_notes=finding.resolution_notes,
        owners=Owners(**groups),
    )


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
        stmt = matching
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
        envelope = paginate(session, request, page, stmt, order, lambda f: f, count)
    except DBAPIError as exc:
        raise _regex_failure(exc, filters) from None
    envelope["data"] = serialize_findings(session, envelope["data"])
    return envelope


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
    return select(merged), parse_order_by(order_by, columns, default=DEFAULT_ORDER, tie_break=merged.id)


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
