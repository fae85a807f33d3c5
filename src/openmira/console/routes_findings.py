"""Findings: a paged, filterable, sortable list per organization and an MSP's across its accounts
(``findings_list``), a finding page, and its work (comment, resolve, assign).

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

from openmira.auth.scope import sub_accounts
from openmira.console import findings_list as listed
from openmira.console import findings_view as view
from openmira.console.deps import CheckedUser, ConsoleNotFound, CurrentUser, visible_org
from openmira.console.render import render
from openmira.console.sessions import SignedIn
from openmira.core.errors import ApiError, NotFound
from openmira.core.routing import DbSession, TransactionalRoute, run_query
from openmira.findings import actions
from openmira.findings import comments as finding_comments
from openmira.findings.schemas import AssignIn, CommentIn, ResolveIn
from openmira.orgs.models import Organization

router = APIRouter(route_class=TransactionalRoute)


@router.get("/findings")
def my_findings(request: Request, me: CurrentUser) -> Response:
    target = "/msp/findings" if me.is_msp else f"/orgs/{me.org.id}/findings"
    return RedirectResponse(request.scope.get("root_path", "") + target, status_code=303)


@router.get("/orgs/{org_id}/findings")
async def findings_list(request: Request, db: DbSession, me: CurrentUser, org_id: uuid.UUID) -> Response:
    if (clean := listed.without_empty(request)) is not None:
        return RedirectResponse(clean, status_code=303)
    org = await run_query(db, lambda: visible_org(db, me, org_id))
    result = await listed.list_findings(db, request, {org.id})
    return _list_page(request, {"org": org, "result": result, "accounts": None})


@router.get("/msp/findings")
async def msp_findings(request: Request, db: DbSession, me: CurrentUser) -> Response:
    """Every licensed sub-account's findings: the console's ``/msp/accounts/findings``."""
    if not me.is_msp:
        raise ConsoleNotFound()
    if (clean := listed.without_empty(request)) is not None:
        return RedirectResponse(clean, status_code=303)

    def accounts() -> list[Organization]:
        return listed.accounts_named(db, sub_accounts(db, me.org.id, licensed_only=True))

    named = await run_query(db, accounts)
    result = await listed.list_findings(db, request, {a.id for a in named}, accounts=True)
    return _list_page(request, {"org": None, "result": result, "accounts": named})


def _list_page(request: Request, context: dict[str, Any]) -> Response:
    # An invalid filter is the request's fault: the page says why, with a 400 as the API's answer.
    status_code = 400 if context["result"].error else 200
    return render(request, "findings_list.html", context, status_code=status_code)


@router.get("/orgs/{org_id}/findings/{finding_id}")
def finding_page(
    request: Request, db: DbSession, me: CurrentUser, org_id: uuid.UUID, finding_id: uuid.UUID,
    comments_page: str | None = None,
) -> Response:
    # Any other value means the default page (the newest comments); a page past the end is the last one.
    wanted = comments_page or ""
    page = int(wanted) if wanted.isascii() and wanted.isdigit() and len(wanted) <= 7 else None
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
