"""Findings: a paged, filterable list per organization and a finding page.

``/console/orgs/{org_id}/findings/{finding_id}`` is what the API's finding-details ``url`` points at.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from openmira.console import findings_view as view
from openmira.console.deps import ConsoleNotFound, CurrentUser, visible_org
from openmira.console.render import render
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.meta.enums import FINDING_TYPES, STATUSES

router = APIRouter(route_class=TransactionalRoute)


def _int_choice(value: str | None, allowed: set[int]) -> int | None:
    """A filter value from the query string; anything not on the menu means no filter."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number in allowed else None


@router.get("/")
def home(request: Request, me: CurrentUser) -> Response:
    base = request.scope.get("root_path", "")
    target = "/msp/integrations" if me.is_msp else f"/orgs/{me.org.id}/findings"
    return RedirectResponse(base + target, status_code=303)


@router.get("/findings")
def my_findings(request: Request, me: CurrentUser) -> Response:
    return RedirectResponse(request.scope.get("root_path", "") + f"/orgs/{me.org.id}/findings", status_code=303)


@router.get("/orgs/{org_id}/findings")
def findings_list(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    org_id: uuid.UUID,
    status: str | None = None,
    priority: str | None = None,
    type: str | None = None,
    page: str | None = None,
) -> Response:
    org = visible_org(db, me, org_id)
    filters = view.FindingFilters(
        status=_int_choice(status, set(STATUSES)),
        priority=_int_choice(priority, {1, 2, 3, 4, 5}),
        type=_int_choice(type, set(FINDING_TYPES)),
    )
    page_number = max(1, min(_int_choice(page, set(range(1, 1_000_001))) or 1, 1_000_000))
    result = view.list_findings(db, org.id, filters, page_number)
    return render(request, "findings_list.html", {"org": org, "filters": filters, "result": result})


@router.get("/orgs/{org_id}/findings/{finding_id}")
def finding_page(
    request: Request, db: DbSession, me: CurrentUser, org_id: uuid.UUID, finding_id: uuid.UUID
) -> Response:
    org = visible_org(db, me, org_id)
    finding = view.get_finding(db, org.id, finding_id)
    if finding is None:
        raise ConsoleNotFound()
    keys, rows, total = view.evidence(db, finding.id)
    by_id = view.people(db, {finding.modified_by, finding.status_modified_by, finding.created_by})
    return render(
        request,
        "finding.html",
        {
            "org": org,
            "finding": finding,
            "people": by_id,
            "owners": view.owners(db, finding.id),
            "owner_types": view.OWNER_TYPES,
            "comments": view.comments(db, finding.id),
            "evidence_keys": keys,
            "evidence_rows": rows,
            "evidence_total": total,
        },
    )
