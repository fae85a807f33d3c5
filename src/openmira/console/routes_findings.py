"""Findings: a paged, filterable list per organization, a finding page, and its work (comment, resolve, assign).

``/console/orgs/{org_id}/findings/{finding_id}`` is what the API's finding-details ``url`` points at. The
forms call the same finding services as the API's ``comments``, ``resolve`` and ``assign`` operations,
with the signed-in user as the person the change is attributed to.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from openmira.console import findings_view as view
from openmira.console.deps import CheckedUser, ConsoleNotFound, CurrentUser, visible_org
from openmira.console.render import render
from openmira.console.sessions import SignedIn
from openmira.core.errors import ApiError, NotFound
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.findings import actions
from openmira.findings import comments as finding_comments
from openmira.findings.schemas import AssignIn, CommentIn, ResolveIn
from openmira.meta.enums import FINDING_TYPES, STATUSES
from openmira.orgs.models import Organization

router = APIRouter(route_class=TransactionalRoute)


def _int_choice(value: str | None, allowed: set[int]) -> int | None:
    """A filter value from the query string; anything not on the menu means no filter."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number in allowed else None


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
    request: Request, db: DbSession, me: CurrentUser, org_id: uuid.UUID, finding_id: uuid.UUID,
    comments_page: str | None = None,
) -> Response:
    page = _int_choice(comments_page, set(range(1, 1_000_001)))
    return _finding_page(request, db, me, visible_org(db, me, org_id), finding_id, comments_page=page)


def _finding_page(
    request: Request, db: Session, me: SignedIn, org: Organization, finding_id: uuid.UUID, *,
    error: str = "", status_code: int = 200, comments_page: int | None = None,
) -> Response:
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
            "members": view.members(db, org.id),
            # Comments are posted as the signed-in user, who must belong to the finding's organization
            # (as the API's sender must); MSP users can resolve and assign in a sub-account.
            "can_comment": me.org.id == org.id,
            "comments": view.comments(db, finding.id, comments_page),
            "evidence_keys": keys,
            "evidence_rows": rows,
            "evidence_total": total,
            "error": error,
        },
        status_code=status_code,
    )


def _work(
    request: Request, db: Session, me: SignedIn, org_id: uuid.UUID, finding_id: uuid.UUID,
    change: Callable[[Organization], Any], anchor: str,
) -> Response:
    """Apply one change to the finding through the findings services; a refusal re-shows the page with why."""
    org = visible_org(db, me, org_id)
    try:
        change(org)
    except NotFound as exc:
        raise ConsoleNotFound() from exc
    except (ApiError, ValidationError) as exc:
        db.rollback()
        return _finding_page(request, db, me, org, finding_id, error=_reason(exc), status_code=400)
    db.commit()
    target = f"{request.scope.get('root_path', '')}/orgs/{org.id}/findings/{finding_id}#{anchor}"
    return RedirectResponse(target, status_code=303)


def _reason(exc: ApiError | ValidationError) -> str:
    if isinstance(exc, ApiError):
        return exc.detail
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()))
    return f"{field.replace('_', ' ').capitalize()}: {first.get('msg', 'invalid value')}"


@router.post("/orgs/{org_id}/findings/{finding_id}/comments")
def add_comment(
    request: Request, db: DbSession, me: CheckedUser, org_id: uuid.UUID, finding_id: uuid.UUID,
    body: Annotated[str, Form()] = "", subject: Annotated[str, Form()] = "",
) -> Response:
    def change(org: Organization) -> object:
        comment = CommentIn(body=body, subject=subject, sender=me.user.id)
        return finding_comments.add_comment(db, [org.id], finding_id, comment)

    return _work(request, db, me, org_id, finding_id, change, "comments")


@router.post("/orgs/{org_id}/findings/{finding_id}/resolve")
def resolve(
    request: Request, db: DbSession, me: CheckedUser, org_id: uuid.UUID, finding_id: uuid.UUID,
    resolution: Annotated[str, Form()] = "", resolution_notes: Annotated[str, Form()] = "",
) -> Response:
    def change(org: Organization) -> object:
        body = ResolveIn.model_validate({"resolution": resolution, "resolution_notes": resolution_notes or None})
        return actions.resolve_finding(db, [org.id], finding_id, body, me.user.id)

    return _work(request, db, me, org_id, finding_id, change, "details")


@router.post("/orgs/{org_id}/findings/{finding_id}/assign")
def assign(
    request: Request, db: DbSession, me: CheckedUser, org_id: uuid.UUID, finding_id: uuid.UUID,
    owner_type: Annotated[str, Form()] = "", owners: Annotated[list[str] | None, Form()] = None,
) -> Response:
    def change(org: Organization) -> object:
        body = AssignIn.model_validate({"owner_type": owner_type, "owners": owners or []})
        return actions.assign_finding(db, [org.id], finding_id, body, me.user.id)

    return _work(request, db, me, org_id, finding_id, change, "owners")
